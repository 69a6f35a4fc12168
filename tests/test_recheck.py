"""A case's verdict is a property of the case (issue 29): `eqcheck recheck --sample` re-runs cases of a run each in a
fresh worker process and finds no difference. The subset is nn.Transformer's plain case and its size-1 variants in
one worker: one@1's MindSpore gradients used to be right only after another Transformer gradient had run in the
process (PyNative's grad executor cache, now cleared before every gradient: backends/mindspore_pynative.py)."""

from __future__ import annotations

import pytest

from conftest import read_json

from eqcheck.gate import recheck

SUBSET = ("configs/nn/Transformer.yaml", "--boundary", "--grad", "-k", "norm_first=False and (not boundary or one@1)")


@pytest.mark.frameworks
def test_a_catalog_run_and_fresh_processes_give_the_same_verdicts(cli, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", *SUBSET, "-j", "1", "--json", report)  # one worker: one@1 runs after the plain case
    statuses = {c["id"].split(",")[-1]: c["status"] for c in read_json(report)["cases"]}
    assert statuses == {"float32]": "pass", "boundary=one@1]": "expected_difference"}, result.text
    result = cli("recheck", report, "--sample", "2", "--json", tmp_path / "fresh.json")
    assert result.exit_code == 0 and "2 cases re-run each in a fresh process (draw 0): 0 differences" in result.text, result.text


def case(id_: str, status: str, **rows: float) -> dict:
    return {"id": id_, "status": status, "outputs": [{"name": n, "passed": False, "max_abs": v} for n, v in rows.items()]}


def test_differences_name_the_status_the_rows_or_the_size_that_changed():
    catalog = [case("a", "pass"), case("b", "fail", out=1.0), case("c", "fail", out=1.0), case("d", "fail", out=1.0)]
    fresh = [case("a", "expected_difference"), case("b", "fail", out=1.0 + 1e-12), case("c", "fail", out=2.0),
             case("d", "fail", **{"grad:x": 1.0})]
    assert recheck.differences(catalog, fresh) == [
        "a: pass in the catalog run, expected_difference alone",
        "c out: max_abs 1.0 in the catalog run, 2.0 alone",
        "d: failing rows ['out'] in the catalog run, ['grad:x'] alone",
    ]
    garbage = {**case("e", "expected_difference", out=177.6), "expected_difference": {"uninitialised": ["out"]}}
    assert recheck.differences([garbage], [case("e", "pass")]) == []  # unwritten memory: its value is not the case's
    assert recheck.sample(catalog, 2, 0) == recheck.sample(list(reversed(catalog)), 2, 0)  # the draw ignores run order
    assert "b" not in recheck.sample(catalog, 3, 0, skip={"b"})


def test_shown_counts_the_runs_in_which_each_declaration_matched():
    covered = lambda status: {"id": "x", "spec": "s.yaml", "status": status, "covered_by": "edge_differences[0]",
                              "expected_difference": {"declaration": "edge_differences[0]"} if status != "pass" else None}
    runs = [[covered("expected_difference")], [covered("pass")], [covered("expected_difference")]]
    assert recheck.shown(runs) == {("s.yaml", "edge_differences[0]"): (2, 3)}
