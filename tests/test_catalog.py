"""configs/CATALOG.md: generated from a run by `eqcheck catalog`, and never stale against the shipped specs."""

from __future__ import annotations

import shutil

import pytest

from conftest import CONFIGS
from eqcheck.report.catalog import spec_files
from eqcheck.spec.loader import discover_spec_files

CATALOG = CONFIGS / "CATALOG.md"
REGENERATE = ("eqcheck run configs/ --json report.json; eqcheck catalog report.json -o configs/CATALOG.md "
              "(docs/catalog.md)")


def shipped() -> set[str]:
    return {p.relative_to(CONFIGS).as_posix() for p in discover_spec_files([str(CONFIGS)])}


def test_catalog_lists_exactly_the_shipped_specs():
    listed = spec_files(CATALOG.read_text(encoding="utf-8"))
    missing, gone = sorted(shipped() - listed), sorted(listed - shipped())
    assert not missing and not gone, f"CATALOG.md is stale: not listed {missing[:10]}, no longer shipped {gone[:10]}; {REGENERATE}"


def test_the_catalog_holds_at_least_150_pairs_in_families():
    pairs = [f for f in shipped() if not f.startswith("defaults/")]
    families = {f.split("/")[0] for f in pairs}
    assert len(pairs) >= 150
    assert {"activations", "losses", "normalization", "pooling", "recurrent", "math", "reductions", "indexing",
            "linalg", "tensor", "mint", "nn"} <= families


@pytest.mark.frameworks
def test_catalog_page_from_a_run(cli, tmp_path):
    root = tmp_path / "configs"
    for rel in ("ops/atan2.yaml", "defaults/GELU.yaml", "mint/nn.functional.gelu.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CONFIGS / rel, root / rel)
    report, page = tmp_path / "r.json", tmp_path / "CATALOG.md"
    assert cli("run", root, "--json", report).exit_code == 0
    result = cli("catalog", report, "-o", page, "--root", root)
    assert result.exit_code == 0, result.text
    text = page.read_text(encoding="utf-8")
    assert spec_files(text) == {"ops/atan2.yaml", "defaults/GELU.yaml", "mint/nn.functional.gelu.yaml"}
    assert "| ops | 1 | 2 | 2 | 0 | 0 | 0 |" in text  # atan2: two sweep points, both pass
    assert "| defaults | 1 | 1 | 0 | 1 | 0 | 0 |" in text
    assert "| mint | 1 | 1 | 0 | 0 | 1 | 0 |" in text  # no GeluExt kernel on MindSpore's CPU build
    assert "| **all** | 3 | 4 | 2 | 1 | 1 | 0 |" in text
    gelu = next(line for line in text.splitlines() if "`defaults/GELU.yaml`" in line)
    assert "expected difference" in gelu and "approximate=True (tanh)" in gelu
    # A spec added after the page was generated makes it stale.
    (root / "ops" / "extra.yaml").write_text((CONFIGS / "ops/atan2.yaml").read_text().replace("ops.atan2", "ops.extra"))
    listed = spec_files(text)
    assert {p.relative_to(root).as_posix() for p in discover_spec_files([str(root)])} - listed == {"ops/extra.yaml"}
