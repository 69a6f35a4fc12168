"""Regenerate mapping/pytorch_diff-<branch>.json from MindSpore's "Differences with torch.X" pages (issue 30).

    python scripts/diff_pages.py DOCS_GIT_DIR r2.4.10      # a mindspore-ai/docs clone or bare git dir
    python scripts/diff_pages.py --check                   # every mapping/pytorch_diff-*.json is well formed

One record per page: the (torch, MindSpore) API pairs it covers (its "mapping relationships" table, else its
signature headings, plus the mapping-table rows of the same commit that link it) and its parameter table, one
row per parameter: both names (null for "-"), a kind classified from the Difference cell's key phrases
(eqcheck/backends/samples/diff_pages.py: `classify`) and that cell as a short reason. Facts only: names, kinds,
links, branch, commit; MindSpore's prose beyond the reason cell is not kept.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eqcheck.backends.samples.diff_pages import KINDS, REASON_CHARS, classify, validate  # noqa: E402

PAGES = "docs/mindspore/source_en/note/api_mapping/pytorch_diff"
OUT = ROOT / "mapping"
_HEADER = re.compile(r"^\|?\s*(categor\w*|class\w*|classification)\s*\|", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\|?[\s:|-]+\|?$")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_HEADING = re.compile(r"^##\s+((?:torch|mindspore)\.[\w.]+)\s*$")
_API = re.compile(r"^(?:torch|mindspore)\.[\w.]+$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _name(cell: str) -> str | None:
    """A parameter cell's name: backticks and emphasis gone; "-" (or nothing) is null."""
    text = _LINK.sub(r"\1", cell).replace("`", "").replace("*", "").strip()
    return None if text in ("", "-", "—", "/") else text


def _reason(cell: str) -> str:
    text = re.sub(r"\s+", " ", _LINK.sub(r"\1", cell).replace("</br>", " ").replace("<br>", " ")).strip()
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 3].rstrip() + "..."


def parse_page(markdown: str) -> dict:
    """One page: its API pairs (relationships table, else signature headings) and its parameter rows."""
    lines = markdown.splitlines()
    pairs: list[list[str]] = []
    rows: list[dict] = []
    in_params = in_apis = False
    category = ""
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith("|"):
            in_params = in_apis = False
            continue
        cells = _cells(stripped)
        if _SEPARATOR.match(stripped):
            continue
        if _HEADER.match(stripped) and len(cells) >= 5:
            in_params, category = True, ""
            continue
        if len(cells) == 2 and "pytorch api" in cells[0].lower():
            in_apis = True
            continue
        if in_apis and len(cells) == 2:
            torch_api, ms_api = (_LINK.sub(r"\1", c).strip("` ") for c in cells)
            if _API.match(torch_api) and _API.match(ms_api):
                pairs.append([torch_api, ms_api])
            continue
        if in_params and len(cells) >= 5:
            category = cells[0] or category
            torch_name, ms_name = _name(cells[-3]), _name(cells[-2])
            text = _LINK.sub(r"\1", cells[-1])
            if torch_name is None and ms_name is None:
                continue
            kind = classify(torch_name, ms_name, text)
            rows.append({"category": _category(category), "torch": torch_name, "mindspore": ms_name, "kind": kind,
                         "reason": _reason(text)})
    if not pairs:  # no relationships table: the first torch and first MindSpore signature heading
        heads = [m.group(1) for m in map(_HEADING.match, lines) if m]
        torch_api = next((h for h in heads if h.startswith("torch.")), None)
        ms_api = next((h for h in heads if h.startswith("mindspore.")), None)
        if torch_api and ms_api:
            pairs.append([torch_api, ms_api])
    title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), "")
    return {"title": title, "pairs": pairs, "rows": rows}


def _category(text: str) -> str:
    low = text.lower()
    if low.startswith("param"):
        return "parameter"
    if low.startswith("input"):
        return "input"
    return re.sub(r"\s+", " ", low).strip() or "parameter"


def _table_links(git: list[str], commit: str) -> dict[str, list[list[str]]]:
    """page file name -> the mapping-table pairs (same commit) that link it."""
    spec = importlib.util.spec_from_file_location("mapping_tables", ROOT / "scripts" / "mapping_tables.py")
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    text = subprocess.run([*git, "show", f"{commit}:{tables.TABLE}"], capture_output=True, text=True)
    links: dict[str, list[list[str]]] = {}
    for row in tables.parse(text.stdout) if text.returncode == 0 else []:
        if row["diff"] and row["mindspore"] and _API.match(row["torch"]) and _API.match(row["mindspore"]):
            page = row["diff"].rsplit("/", 1)[-1].removesuffix(".html") + ".md"
            links.setdefault(page, []).append([row["torch"], row["mindspore"]])
    return links


def build(checkout: str, branch: str) -> dict:
    git_dir = Path(checkout) / ".git" if (Path(checkout) / ".git").exists() else Path(checkout)
    git = ["git", "--git-dir", str(git_dir)]
    commit = subprocess.run([*git, "rev-parse", branch], capture_output=True, text=True, check=True).stdout.strip()
    names = subprocess.run([*git, "ls-tree", "--name-only", f"{commit}:{PAGES}"], capture_output=True, text=True,
                           check=True).stdout.split()
    links = _table_links(git, commit)
    pages = []
    for name in sorted(n for n in names if n.endswith(".md")):
        text = subprocess.run([*git, "show", f"{commit}:{PAGES}/{name}"], capture_output=True, text=True,
                              check=True).stdout
        page = parse_page(text)
        for pair in links.get(name, []):
            if pair not in page["pairs"]:
                page["pairs"].append(pair)
        if page["pairs"] and page["rows"]:
            pages.append({"page": name, **page})
    return {"repository": "mindspore-ai/docs", "path": PAGES, "branch": branch, "commit": commit,
            "kinds": list(KINDS), "pages": pages}


def check() -> int:
    found = sorted(OUT.glob("pytorch_diff-*.json"))
    bad = 0
    for path in found:
        problems = validate(json.loads(path.read_text(encoding="utf-8")))
        for problem in problems:
            print(f"{path.name}: {problem}")
        bad += len(problems)
    print(f"{len(found)} files, {bad} problems")
    return 1 if bad or not found else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        return check()
    if len(argv) < 2:
        sys.exit(__doc__)
    checkout, branches = argv[0], argv[1:]
    for branch in branches:
        doc = build(checkout, branch)
        problems = validate(doc)
        if problems:
            sys.exit("\n".join(problems))
        path = OUT / f"pytorch_diff-{branch}.json"
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        rows = sum(len(p["rows"]) for p in doc["pages"])
        print(f"{path.name}: {len(doc['pages'])} pages, {rows} rows from {branch} @ {doc['commit'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
