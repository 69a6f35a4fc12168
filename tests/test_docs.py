"""The documentation builds (mkdocs --strict: no broken link, anchor or nav entry), the README's links resolve,
and every shell example marked runnable in README.md and docs/*.md runs and exits as documented.

Marking an example: put `<!-- runnable -->` (or `<!-- runnable exit=N -->` for a documented non-zero exit) on the
line before a ```bash fence. The block runs with `bash -e -o pipefail` from the repository root, with this
interpreter's bin folder first on PATH (so `eqcheck` is the one under test) and TMPDIR set to a fresh folder:
examples write only under "${TMPDIR:-/tmp}", never into the repository. Blocks of one page run in order and
share that folder, so a later block may read what an earlier one wrote. Mark only cheap commands.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!-- runnable(?: exit=(\d+))? -->")
BLOCK = re.compile(r"^<!-- runnable(?: exit=(\d+))? -->\n```bash\n(.*?)^```$", re.M | re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def runnable_blocks(text: str) -> list[tuple[int, str, int]]:
    """(line number, code, expected exit code) of every marked block, in page order."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(2), int(m.group(1) or 0)) for m in BLOCK.finditer(text)]


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], capture_output=True, text=True, timeout=120)


def test_mkdocs_builds_strictly(tmp_path):
    result = mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "spec-reference" / "index.html").is_file()
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")  # mkdocstrings rendered the docstrings
    assert "eqcheck.api.compare" in api and "Mismatched elements" in api and "weights_from" in api


@pytest.mark.parametrize("broken", ["[a page](no-such-page.md)", "[a section](tolerances.md#no-such-section)"])
def test_a_broken_link_fails_the_build(tmp_path, broken):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    with open(tmp_path / "docs" / "index.md", "a", encoding="utf-8") as page:
        page.write(f"\nSee {broken}.\n")
    result = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert broken.split("(")[1].rstrip(")").split("#")[-1] in result.stdout + result.stderr


def test_readme_links_resolve():
    from markdown.extensions.toc import slugify  # mkdocs' own heading ids

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    problems = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto
        path, _, anchor = target.partition("#")
        page = (ROOT / path) if path else ROOT / "README.md"
        if not page.exists():
            problems.append(f"{target}: no such file")
        elif anchor and page.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
            if anchor not in {slugify(h.replace("`", ""), "-") for h in headings}:
                problems.append(f"{target}: no such section")
    assert problems == []


def test_every_runnable_marker_precedes_a_bash_block():
    """A marker that matches no block (a typo, a ```sh fence) would silently run nothing."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert len(MARKER.findall(text)) == len(runnable_blocks(text)), f"{page.name}: a runnable marker is not on the line before ```bash"
    assert sum(len(runnable_blocks(p.read_text(encoding="utf-8"))) for p in PAGES) >= 5


def repo_state() -> set[str]:
    """Untracked and ignored paths in the repository (bytecode caches aside): an example must add none."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=ROOT, capture_output=True, text=True).stdout
    return {line for line in out.splitlines() if "__pycache__" not in line}


@pytest.mark.parametrize("page", [p for p in PAGES if runnable_blocks(p.read_text(encoding="utf-8"))],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_runnable_examples(page, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path), GLOG_v="3",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("EQCHECK_ALLOWED_PREFIXES", None)
    before = repo_state()
    for line, code, expected in runnable_blocks(page.read_text(encoding="utf-8")):
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == expected, (
            f"{page.name}:{line} exited {result.returncode}, documented {expected}\n{code}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}")
    assert repo_state() - before == set(), "a runnable example wrote into the repository"
