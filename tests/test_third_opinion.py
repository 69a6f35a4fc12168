"""The third opinion: where the sides disagree on a forward output, the OpInfo entry's numpy ref (torch's op_db) on
the same inputs says which side it agrees with; a planted wrong op on either side moves that answer."""

from __future__ import annotations

import pytest

from conftest import read_json
from eqcheck.report import schema

pytestmark = pytest.mark.frameworks
pytest.importorskip("expecttest", reason="op_db needs expecttest (pip install 'eqcheck[explore]')")


def _third(cli, copy_config, tmp_path, replace, *flags):
    spec = copy_config("math/maximum.yaml", {"grad: true": "grad: true\nexplore: {opinfo: maximum}", **replace})
    report = tmp_path / "r.json"
    result = cli("run", spec, "--jobs", "0", "--json", report, *flags)
    assert result.exit_code == 1, result.text
    document = read_json(report)
    assert schema.errors(document) == []
    (case,) = [c for c in document["cases"] if c["status"] == "fail"]
    return case["third_opinion"], result.text


def test_the_ref_sides_with_torch_where_mindspore_swallows_nan(cli, copy_config, tmp_path):
    third, text = _third(cli, copy_config, tmp_path, {}, "--edges", "-k", "nan")
    assert third["ref"] == "numpy.maximum"
    row = third["rows"]["out"]
    assert row["agrees_with"] == "torch" and row["nonfinite_mismatch"]["mindspore"] > 0
    assert "third opinion: op_db 'maximum' ref agrees with torch, not mindspore" in " ".join(text.split())


@pytest.mark.parametrize("wrong_side,agrees", [("mindspore", "torch"), ("torch", "mindspore")])
def test_a_planted_wrong_op_on_either_side_is_the_one_the_ref_disowns(cli, copy_config, tmp_path, wrong_side, agrees):
    plant = {"mindspore": {"op: mindspore.ops.maximum": "op: mindspore.ops.minimum"},
             "torch": {"op: torch.maximum": "op: torch.minimum"}}[wrong_side]
    third, _ = _third(cli, copy_config, tmp_path, plant)
    row = third["rows"]["out"]
    assert row["agrees_with"] == agrees and row["distance"][wrong_side] > 0.1 and row["distance"][agrees] < 1e-6


def test_an_entry_op_db_lacks_is_said_not_raised(cli, copy_config, tmp_path):
    third, _ = _third(cli, copy_config, tmp_path, {"explore: {opinfo: maximum}": "explore: {opinfo: no_such_entry}",
                                                   "op: mindspore.ops.maximum": "op: mindspore.ops.minimum"})
    assert third == {"entry": "no_such_entry", "ref": None, "message": "op_db has no entry 'no_such_entry'"}


def test_a_spec_with_an_explore_section_derives_its_entry_from_the_torch_function(cli, copy_config, tmp_path):
    third, _ = _third(cli, copy_config, tmp_path, {"explore: {opinfo: maximum}": "explore: {arguments: {}}"},
                      "--edges", "-k", "nan")
    assert third["entry"] == "maximum" and third["rows"]["out"]["agrees_with"] == "torch"
