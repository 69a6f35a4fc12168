"""docs/coverage.md: every row of MindSpore's PyTorch API mapping tables with its spec and status, or why none;
never stale against the tables (mapping/*.json), the specs (configs/) or the reasons (mapping/reasons.yaml)."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import CONFIGS, ROOT, load_script
from eqcheck.report import coverage

MAPPING = ROOT / "mapping"
PAGE = ROOT / "docs" / "coverage.md"
REGENERATE = "eqcheck run configs/ --json report.json; eqcheck coverage report.json -o docs/coverage.md (docs/catalog.md)"


def _tables_script():
    return load_script("mapping_tables")


def test_coverage_page_is_not_stale():
    listed = coverage.page_rows(PAGE.read_text(encoding="utf-8"))
    expected = coverage.expected_page_rows(MAPPING, CONFIGS)
    changed = [(e, row) for e, row in zip(expected, listed) if e != row]
    assert len(listed) == len(expected) and not changed, (
        f"docs/coverage.md is stale ({len(listed)} rows listed, {len(expected)} expected; first change "
        f"{changed[:1]}); {REGENERATE}")


def test_both_tables_are_kept_with_their_source():
    tables = {t.branch: t for t in coverage.read_tables(MAPPING)}
    assert {b: len(t.rows) for b, t in tables.items()} == {"r2.4.1": 887, "r2.6.0": 515}
    assert all(len(t.commit) == 40 for t in tables.values())
    mint = sum(1 for r in tables["r2.6.0"].rows if r["mindspore"].startswith("mindspore.mint."))
    assert mint >= 330


def test_every_row_without_a_spec_says_why():
    rows = coverage.expected_rows(MAPPING, CONFIGS)
    silent = [coverage.row_key(r) for r in rows if not r["specs"] and not r["reason"]]
    assert not silent, f"rows with neither a spec nor a reason in mapping/reasons.yaml: {silent[:10]}"


def test_aliases_and_the_tables_misspellings_reach_their_spec(tmp_path):
    assert coverage.normalize("F.grid_sample") == "torch.nn.functional.grid_sample"
    assert coverage.normalize("ms.ops.abs") == coverage.normalize("mindspore.ops.function.math_func.abs") == "mindspore.ops.abs"
    by_key = {(r["table"], coverage.row_key(r)): r for r in coverage.expected_rows(MAPPING, CONFIGS)}
    assert by_key[("r2.4.1", "torch.nn.functional.grid_sample -> mindspore.ops.grid_sample")]["specs"] == ["nn/F.grid_sample.yaml"]
    # the table writes torch.nn.SeLU; the spec compares torch.nn.SELU (mapping/table_errors.yaml names:)
    assert by_key[("r2.4.1", "torch.nn.SeLU -> mindspore.nn.SeLU")]["specs"] == ["activations/SELU.yaml"]
    # both sides misspelt: torch.nn.LogSoftMax -> mindspore.nn.LogSoftMax is the LogSoftmax pair
    assert by_key[("r2.4.1", "torch.nn.LogSoftMax -> mindspore.nn.LogSoftMax")]["specs"] == ["activations/LogSoftmax.yaml"]


def test_labels_from_the_tables_wording():
    script = _tables_script()
    link = "[Consistent](https://www.mindspore.cn/x.html#api-mapping-consistency-criteria-and-exceptions)"
    text = "\n".join([
        "## torch.nn",
        "| PyTorch 1.8.1 APIs | MindSpore APIs | Descriptions |",
        f"| [torch.nn.ReLU](https://pytorch.org/r.html) | [mindspore.nn.ReLU](https://mindspore.cn/r.html) | {link} |",
        "| [torch.nn.GELU](https://p/g.html) | [mindspore.nn.GELU]( https://m/g.html ) | [diff](https://m/pytorch_diff/GELU.html) |",
        "| [torch.split](https://p/s.html) | [mindspore.ops.split](https://m/s.html) | The functions are consistent, but the parameter names are inconsistent. |",
        "| [torch.nn.ReLU6](https://p/r6.html) | [mindspore.nn.ReLU6](https://m/r6.html) | The functions are consistent, but PyTorch has some optimization parameters |",
        "| [torch.arange](https://p/a.html) | [mindspore.mint.arange](https://m/a.html) | The functions are consistent, but the default value of end is different. |",
    ])
    rows = script.parse(text)
    assert [(r["section"], r["torch"], r["mindspore"], r["label"]) for r in rows] == [
        ("torch.nn", "torch.nn.ReLU", "mindspore.nn.ReLU", "consistent"),
        ("torch.nn", "torch.nn.GELU", "mindspore.nn.GELU", "differs"),
        ("torch.nn", "torch.split", "mindspore.ops.split", "parameter names differ"),
        ("torch.nn", "torch.nn.ReLU6", "mindspore.nn.ReLU6", "consistent"),  # only general difference parameters
        ("torch.nn", "torch.arange", "mindspore.mint.arange", "differs"),
    ]
    assert rows[1]["diff"] == "https://m/pytorch_diff/GELU.html"


@pytest.mark.frameworks
def test_coverage_page_from_a_run(cli, tmp_path):
    root, mapping = tmp_path / "configs", tmp_path / "mapping"
    for rel in ("math/abs.yaml", "mint/cumsum.yaml", "mint/nn.NLLLoss.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CONFIGS / rel, root / rel)
    mapping.mkdir()
    rows = [
        {"section": "torch", "torch": "torch.abs", "mindspore": "mindspore.ops.abs", "also": [], "label": "consistent", "diff": None},
        {"section": "torch", "torch": "torch.cumsum", "mindspore": "mindspore.mint.cumsum", "also": [], "label": "consistent", "diff": None},
        {"section": "torch.nn", "torch": "torch.nn.NLLLoss", "mindspore": "mindspore.mint.nn.NLLLoss", "also": [], "label": "consistent", "diff": None},
        {"section": "torch", "torch": "torch.rand", "mindspore": "mindspore.ops.rand", "also": [], "label": "consistent", "diff": None},
        {"section": "torch.distributed", "torch": "torch.distributed.barrier", "mindspore": "mindspore.communication.barrier",
         "also": [], "label": "consistent", "diff": None},
    ]
    (mapping / "pytorch_api_mapping-r9.9.json").write_text(json.dumps(
        {"repository": "mindspore-ai/docs", "path": "t.md", "branch": "r9.9", "commit": "0" * 40, "rows": rows}))
    (mapping / "reasons.yaml").write_text(
        "sections:\n  torch.distributed: 'not applicable here: distributed'\n"
        "rows:\n  torch.rand -> mindspore.ops.rand: 'random numbers: not comparable across frameworks'\n")
    report, page = tmp_path / "r.json", tmp_path / "coverage.md"
    assert cli("run", root, "--json", report).exit_code == 0
    result = cli("coverage", report, "-o", page, "--configs", root, "--mapping", mapping)
    assert result.exit_code == 0, result.text
    text = page.read_text(encoding="utf-8")
    assert "| r9.9 | torch | 3 | 2 | 1 | 0 | 1 | 0 | 0 | 1 |" in text  # abs passes, cumsum has no CPU kernel, rand no spec
    assert "| r9.9 | torch.nn | 1 | 1 | 0 | 1 | 0 | 0 | 0 | 0 |" in text  # NLLLoss: declared difference
    line = {r[2]: r for r in coverage.page_rows(text)}
    assert line["torch.cumsum"][4] == ("mint/cumsum.yaml",)
    assert "unsupported: no CumsumExt kernel" in next(row for row in text.splitlines() if "`torch.cumsum`" in row)
    assert line["torch.rand"][5] == "random numbers: not comparable across frameworks"
    assert line["torch.distributed.barrier"][5] == "not applicable here: distributed"
    assert "Rows labelled consistent whose spec does not pass with default flags: 1 (1 declared differences, 0 fail or error); 1 more" in text
    assert coverage.page_rows(text) == coverage.expected_page_rows(mapping, root)
    # A spec added after the page was generated makes it stale: the rand row now has a spec.
    shutil.copy(CONFIGS / "math/abs.yaml", root / "math/rand.yaml")
    (root / "math/rand.yaml").write_text((root / "math/rand.yaml").read_text()
                                         .replace("ops.abs", "ops.rand").replace("torch.abs", "torch.rand"))
    assert coverage.page_rows(text) != coverage.expected_page_rows(mapping, root)
    # A bad report is one paragraph, exit 2.
    (tmp_path / "bad.json").write_text("{")
    bad = cli("coverage", tmp_path / "bad.json", "-o", page, "--configs", root, "--mapping", mapping)
    assert bad.exit_code == 2 and "Traceback" not in bad.text


def test_each_owners_reasons_file_counts_and_wins(tmp_path):
    (tmp_path / "reasons.yaml").write_text("sections:\n  torch.Tensor: 'no spec yet'\nrows:\n  torch.a -> ms.a: 'no spec yet'\n")
    (tmp_path / "reasons-tensor-optim.yaml").write_text("rows:\n  torch.a -> ms.a: 'random numbers: not comparable'\n"
                                                       "  torch.b -> ms.b: 'API absent in MindSpore 2.10'\n")
    (tmp_path / "table_errors.yaml").write_text("rows:\n  torch.c -> ms.c: {table: consistent, measured: differs, spec: x}\n")
    with (tmp_path / "reasons-tensor-optim.yaml").open("a") as extra:
        extra.write("table_errors:\n  torch.d -> ms.d: {table: consistent, measured: refused, spec: y}\n")
    assert set(coverage.read_table_errors(tmp_path)) == {"torch.c -> ms.c", "torch.d -> ms.d"}
    rows, sections = coverage.read_reasons(tmp_path)
    assert rows == {"torch.a -> ms.a": "random numbers: not comparable", "torch.b -> ms.b": "API absent in MindSpore 2.10"}
    assert sections == {"torch.Tensor": "no spec yet"}
