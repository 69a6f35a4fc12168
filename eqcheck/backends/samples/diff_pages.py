"""MindSpore's "Differences with torch.X" pages, parsed (mapping/pytorch_diff-<branch>.json, scripts/diff_pages.py):
for a (torch API, MindSpore API) pair, the page's parameter rows (docs/explore.md, "Where maps come from").

A row: `torch` and `mindspore` parameter names (None where the page writes "-"), `kind` classified from the page's
hand-written Difference cell by its key phrases (`classify`), and that cell as `reason`. No value maps: only names,
kinds and the page's words."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

KINDS = ("rename", "default", "unsupported", "not_involved", "consistent", "range", "other")
REASON_CHARS = 240
GLOB = "pytorch_diff-*.json"
MAPPING = Path(__file__).resolve().parents[3] / "mapping"

# Key phrases, typos tolerated ("onsistent function", "Same functions", "Parameter name is").
_NOT_INVOLVED = re.compile(r"not involved|general difference parameter table|common differences")
_MS_LACKS = re.compile(r"mindspore[^.;]*?(does not|doesn't|do not|can ?not)\s+(have|support|exist)|"
                       r"not (supported|available|present) (by|in) mindspore|mindspore discard|"
                       r"(does not|doesn't) exist in mindspore|which mindspore does not|not supported|"
                       r"does not need this parameter|parameter not defined|deprecated")
_DEFAULT = re.compile(r"default|defaults to")
_RANGE = re.compile(r"(does not|doesn't|do not|not) support|only supports?\b|supports? only|must be|can ?not be|"
                    r"only (accepts?|takes?)")
_RENAME = re.compile(r"different (parameter )?names?|names? (is|are) different|parameter names? differ|"
                     r"only different parameter names|different parameter name")
_CONSISTENT = re.compile(r"onsistent|same function|no difference|functions? (is|are) the same|"
                         r"functionality is (the same|consistent)|names and functions are the same")


def classify(torch: str | None, mindspore: str | None, text: str) -> str:
    """A row's kind from its two names and its Difference cell (first matching phrase wins, in KINDS' spirit:
    a missing MindSpore parameter before a default, a default before a value range, a range before a rename)."""
    low = re.sub(r"\s+", " ", text.lower())
    if _NOT_INVOLVED.search(low):
        return "not_involved"
    if torch is None or mindspore is None:
        return "unsupported" if torch is not None and _MS_LACKS.search(low) else "other"
    if low.strip(" -") == "":  # no words: the same name is no difference; another name the page does not explain
        return "consistent" if torch == mindspore else "other"
    if "inconsistent" in low:
        return "other"
    if _DEFAULT.search(low):
        return "default"
    if _RANGE.search(low):
        return "range"
    if _RENAME.search(low):
        return "rename" if torch != mindspore else "consistent"  # a page typo: the same name both sides
    if _CONSISTENT.search(low):
        return "consistent"
    return "other"


def validate(doc: Any) -> list[str]:
    """What is wrong with a parsed pages document (scripts/diff_pages.py --check); [] when well formed."""
    if not isinstance(doc, dict):
        return ["not a JSON object"]
    problems = [f"missing `{key}`" for key in ("repository", "path", "branch", "commit", "pages") if key not in doc]
    if not re.fullmatch(r"[0-9a-f]{40}", str(doc.get("commit", ""))):
        problems.append("`commit` is not a 40-digit git commit")
    for page in doc.get("pages") or []:
        where = page.get("page", "?")
        pairs = page.get("pairs")
        if not pairs or not all(isinstance(p, list) and len(p) == 2 and p[0].startswith("torch.")
                                and p[1].startswith("mindspore.") for p in pairs):
            problems.append(f"{where}: `pairs` must be [torch API, MindSpore API] lists")
        for k, row in enumerate(page.get("rows") or []):
            at = f"{where} row {k}"
            if set(row) != {"category", "torch", "mindspore", "kind", "reason"}:
                problems.append(f"{at}: keys {sorted(row)}")
                continue
            if row["kind"] not in KINDS:
                problems.append(f"{at}: kind {row['kind']!r} is not one of {', '.join(KINDS)}")
            elif row["kind"] == "unsupported" and (row["torch"] is None or row["mindspore"] is not None):
                problems.append(f"{at}: `unsupported` needs a torch name and no MindSpore name")
            elif row["kind"] in ("rename", "default", "range") and None in (row["torch"], row["mindspore"]):
                problems.append(f"{at}: `{row['kind']}` needs both names")
            elif row["kind"] == "rename" and row["torch"] == row["mindspore"]:
                problems.append(f"{at}: `rename` of {row['torch']} to itself")
            elif not row["reason"].endswith("...") and classify(row["torch"], row["mindspore"], row["reason"]) != row["kind"]:
                problems.append(f"{at}: kind {row['kind']!r}, but its reason reads as "
                                f"{classify(row['torch'], row['mindspore'], row['reason'])!r}")
            if len(row["reason"]) > REASON_CHARS:
                problems.append(f"{at}: reason longer than {REASON_CHARS} characters")
    return problems


@lru_cache(maxsize=4)
def _documents(folder: str) -> tuple[dict, ...]:
    """Every parsed branch in `folder`, newest branch first."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in Path(folder).glob(GLOB)]
    return tuple(sorted(docs, key=lambda d: [int(n) for n in re.findall(r"\d+", d["branch"])], reverse=True))


def page(torch_api: str, mindspore_api: str, folder: str | Path = MAPPING) -> dict | None:
    """The newest page covering this pair: {page, branch, commit, url, rows}, or None."""
    for doc in _documents(str(folder)):
        for entry in doc["pages"]:
            if [torch_api, mindspore_api] in entry["pairs"]:
                url = (f"https://www.mindspore.cn/docs/en/{doc['branch']}/note/api_mapping/pytorch_diff/"
                       f"{entry['page'].removesuffix('.md')}.html")
                return {"page": entry["page"], "branch": doc["branch"], "commit": doc["commit"], "url": url,
                        "rows": entry["rows"]}
    return None


def rows(torch_api: str, mindspore_api: str, folder: str | Path = MAPPING) -> list[dict]:
    """The page's parameter rows for this pair ([] where no page covers it)."""
    found = page(torch_api, mindspore_api, folder)
    return found["rows"] if found else []


def row_for(torch_api: str, mindspore_api: str, argument: str, folder: str | Path = MAPPING) -> dict | None:
    """The page's row of one torch argument, or None."""
    return next((r for r in rows(torch_api, mindspore_api, folder) if r["torch"] == argument), None)
