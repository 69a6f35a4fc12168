"""Regenerate mapping/pytorch_api_mapping-<branch>.json from a mindspore-ai/docs git checkout.

    python scripts/mapping_tables.py /path/to/mindspore-ai/docs r2.4.1 r2.6.0

One record per table row that starts with a link: section, torch API, MindSpore API (plus any further
MindSpore links of the cell), the label (consistent / differs / parameter names differ) and the diff page.
Only API names, labels and links are kept: MindSpore's facts, not its prose.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

TABLE = "docs/mindspore/source_en/note/api_mapping/pytorch_api_mapping.md"
OUT = Path(__file__).resolve().parent.parent / "mapping"
_LINK = re.compile(r"\[([^\]]+)\]\(\s*([^)\s]+)\s*\)")
_GENERAL = re.compile(r"(has no|does not contain( the)?) parameter inplace|pytorch has some optimization parameters")
_SECTION = re.compile(r"^##\s+(.+?)\s*$")


def label(description: str) -> tuple[str, str | None]:
    """The row's label and its 'Differences with ...' page, if any."""
    links = _LINK.findall(description)
    diff = next((url for _, url in links if "pytorch_diff" in url), None)
    text = (" ".join(t for t, _ in links) + " " + _LINK.sub("", description)).lower()
    if "parameter names" in text or "parameter name is" in text:
        return "parameter names differ", diff
    if diff or text.strip() == "diff" or re.search(r"\bdiff\b", text):
        return "differs", diff
    if _GENERAL.search(text):  # only a general difference parameter (inplace, ...): consistent by the table's rule
        return "consistent", diff
    if re.search(r"\bbut\b|no `|unique|different|inconsistent|deprecated", text):
        return "differs", diff
    return "consistent", diff


def parse(markdown: str) -> list[dict]:
    section, rows = "", []
    for line in markdown.splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1)
            continue
        if not re.match(r"^\s*\|\s*\[", line):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            continue
        torch_names = [t.strip("` ") for t, _ in _LINK.findall(cells[0])]
        ms_names = [t.strip("` ") for t, _ in _LINK.findall(cells[1])]
        tag, diff = label("|".join(cells[2:]))
        rows.append({
            "section": section,
            "torch": torch_names[0] if torch_names else cells[0],
            "mindspore": ms_names[0] if ms_names else None,
            "also": ms_names[1:],
            "label": tag,
            "diff": diff,
        })
    return rows


def main(checkout: str, branches: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    for branch in branches:
        git = ["git", "--git-dir", str(Path(checkout) / ".git") if (Path(checkout) / ".git").exists() else checkout]
        commit = subprocess.run([*git, "rev-parse", branch], capture_output=True, text=True, check=True).stdout.strip()
        text = subprocess.run([*git, "show", f"{commit}:{TABLE}"], capture_output=True, text=True, check=True).stdout
        rows = parse(text)
        doc = {"repository": "mindspore-ai/docs", "path": TABLE, "branch": branch, "commit": commit, "rows": rows}
        path = OUT / f"pytorch_api_mapping-{branch}.json"
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path.name}: {len(rows)} rows from {branch} @ {commit[:12]}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
