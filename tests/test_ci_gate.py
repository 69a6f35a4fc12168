"""CI gate (issue 5): diff and --baseline, golden outputs, JUnit, Markdown and the step summary, the report schema,
--shard and merge, the HTML report's content. Real frameworks, GRUCell only (4 cases); regressions are planted by
editing copies of real reports and golden files."""

from __future__ import annotations

import copy
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from conftest import read_json, without_timings
from eqcheck.gate import golden as golden_module
from eqcheck.report import schema
from eqcheck.gate.shard import assign

pytestmark = pytest.mark.frameworks

GRU = "configs/nn/GRUCell.yaml"
TIGHT = {"grad: true": "grad: true\ntolerance: {float32: {rtol: 0.0, atol: 0.0}}"}  # every forward output fails


def write(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, indent=1))
    return path


@pytest.fixture(scope="module")
def base(cli, tmp_path_factory):
    """One GRUCell run writing every format, plus its golden outputs."""
    folder = tmp_path_factory.mktemp("gate")
    result = cli("run", GRU, "--json", folder / "base.json", "--save-golden", folder / "golden", "--junit", folder / "base.xml",
                 "--markdown", folder / "base.md", "--html", folder / "base.html")
    assert result.exit_code == 0, result.text
    return folder


def document(base) -> dict:
    return read_json(base / "base.json")


# ---- schema --------------------------------------------------------------------------------------


def test_schema_command_prints_the_shipped_schema_and_reports_validate(cli, base):
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.text) == schema.load()
    assert schema.errors(document(base)) == []
    broken = document(base)
    broken["cases"][0]["status"] = "bogus"
    del broken["summary"]["passed"]
    problems = schema.errors(broken)
    assert any("status" in p or "bogus" in p for p in problems) and any("passed" in p for p in problems)


def test_show_and_diff_read_version_1_and_refuse_newer_or_foreign_reports(cli, base, tmp_path):
    old = document(base)
    old["schema_version"] = 1
    v1 = write(tmp_path / "v1.json", old)
    assert cli("show", v1).exit_code == 0
    assert cli("diff", v1, base / "base.json").exit_code == 0
    future = write(tmp_path / "future.json", {**old, "schema_version": 99})
    for args in (("show", future), ("diff", base / "base.json", future), ("merge", future, "-o", tmp_path / "m.json")):
        result = cli(*args)
        assert result.exit_code == 2, result.text
        assert "schema version 99 is not readable" in result.text and "Traceback" not in result.text
    foreign = write(tmp_path / "foreign.json", {"hello": 1})
    result = cli("diff", foreign, base / "base.json")
    assert result.exit_code == 2 and "not an eqcheck report" in result.text


# ---- diff ------------------------------------------------------------------------------------------


def test_diff_of_a_report_with_itself_is_clean(cli, base):
    result = cli("diff", base / "base.json", base / "base.json", "--json", "-")
    assert result.exit_code == 0, result.text
    data = json.loads(result.text)
    assert data["regression"] is False and data["changes"] == [] and data["added"] == data["removed"] == []


def test_diff_finds_every_planted_regression(cli, base, tmp_path):
    old = document(base)
    new = copy.deepcopy(old)
    ids = [c["id"] for c in old["cases"]]
    new["cases"][0]["status"] = "fail"  # pass -> fail
    new["cases"][1]["outputs"][0]["max_abs"] *= 100  # deviation grew 100x
    removed = new["cases"].pop(2)  # a case disappeared
    new["environment"]["versions"]["mindspore"] = "9.9.9"
    result = cli("diff", write(tmp_path / "old.json", old), write(tmp_path / "new.json", new), "--json", tmp_path / "d.json")
    assert result.exit_code == 1, result.text
    d = read_json(tmp_path / "d.json")
    kinds = {(c["id"], c["what"], c["kind"]) for c in d["changes"]}
    assert (ids[0], "status", "regression") in kinds
    assert (ids[1], "max_abs", "regression") in kinds
    assert d["removed"] == [removed["id"]]
    assert {"key": "versions.mindspore", "old": old["environment"]["versions"]["mindspore"], "new": "9.9.9"} in d["environment"]
    assert d["counts"]["regressions"] == 2
    for text in ("regression: status", "regression: max_abs", "cases removed", "9.9.9"):
        assert text in result.text
    # the other direction is all improvements: exit 0
    back = cli("diff", tmp_path / "new.json", tmp_path / "old.json", "--json", "-")
    assert back.exit_code == 0 and json.loads(back.text)["counts"]["fixed"] == 1


def test_diff_growth_needs_the_factor_and_the_floor(cli, base, tmp_path):
    old, new = document(base), document(base)
    row = lambda doc: doc["cases"][0]["outputs"][0]
    atol = row(old)["tolerance"]["atol"]
    row(old)["max_abs"], row(new)["max_abs"] = atol * 1e-4, atol * 1e-3  # 10x+ but below a tenth of atol: noise
    row(old)["max_abs"] = atol * 1e-5
    a, b = write(tmp_path / "a.json", old), write(tmp_path / "b.json", new)
    assert cli("diff", a, b).exit_code == 0
    row(new)["max_abs"] = atol * 0.5  # 5e4x and above the floor, still inside tolerance: flagged
    assert cli("diff", a, write(tmp_path / "b.json", new)).exit_code == 1
    assert cli("diff", a, write(tmp_path / "b.json", new), "--rel-change", "1e6").exit_code == 0


def test_run_with_baseline_gates_on_regressions_only(cli, base, tmp_path):
    old = document(base)
    old["cases"][0]["status"] = "fail"  # the baseline had a failure that is now fixed
    fixed = cli("run", GRU, "-k", "batch=1", "--baseline", write(tmp_path / "old.json", old))
    assert fixed.exit_code == 0, fixed.text
    assert "fixed: status" in fixed.text
    for case in old["cases"]:
        for out in case["outputs"]:
            if isinstance(out.get("max_abs"), float):
                out["max_abs"] /= 1000  # the baseline was 1000x closer: this run "regressed"
    grown = cli("run", GRU, "-k", "batch=1", "--baseline", write(tmp_path / "old.json", old))
    assert grown.exit_code == 1, grown.text
    assert "regression: max_abs" in grown.text
    missing = cli("run", GRU, "--baseline", tmp_path / "nope.json")
    assert missing.exit_code == 2 and "no such file" in missing.text


# ---- golden --------------------------------------------------------------------------------------------


def test_save_golden_writes_one_npz_per_case_and_a_manifest(base):
    manifest = golden_module.read_manifest(base / "golden")
    report = document(base)
    assert manifest["seed"] == report["seed"] and manifest["versions"] == report["environment"]["versions"]
    assert set(manifest["cases"]) == {c["id"] for c in report["cases"]}
    for case_id, entry in manifest["cases"].items():
        assert entry["file"] == golden_module.case_file_name(case_id) and "/" not in entry["file"]
        with np.load(base / "golden" / entry["file"]) as npz:
            assert {(a["target"], a["output"]) for a in entry["arrays"]} >= {("torch", "out"), ("mindspore", "out")}
            assert all(npz[a["key"]].shape == tuple(a["shape"]) for a in entry["arrays"])


def test_golden_matches_itself_and_catches_planted_drift_of_one_framework(cli, base, tmp_path):
    same = cli("run", GRU, "--golden", base / "golden", "--json", tmp_path / "same.json")
    assert same.exit_code == 0, same.text
    report = read_json(tmp_path / "same.json")
    assert report["golden"]["matched"] == 8 and report["golden"]["drifted"] == 0
    assert all(row["identical"] for c in report["cases"] for e in c["golden"].values() for row in e["outputs"])

    drifted = tmp_path / "golden"
    shutil.copytree(base / "golden", drifted)
    manifest = golden_module.read_manifest(drifted)
    case_id = sorted(manifest["cases"])[0]
    entry = manifest["cases"][case_id]
    key = next(a["key"] for a in entry["arrays"] if a["target"] == "mindspore" and a["output"] == "out")
    with np.load(drifted / entry["file"]) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays[key] = arrays[key] + np.float32(1e-3)  # MindSpore "changed" by 1e-3 (atol 1e-5); torch did not
    np.savez_compressed(drifted / entry["file"], **arrays)

    result = cli("run", GRU, "--golden", drifted, "--json", tmp_path / "drift.json", "--junit", tmp_path / "drift.xml")
    assert result.exit_code == 1, result.text
    assert "golden drift" in result.text
    report = read_json(tmp_path / "drift.json")
    assert report["summary"]["failed"] == 0  # torch vs MindSpore still agree here
    assert report["golden"]["drifted"] == 1
    assert golden_module.drifted(report) == [(case_id, "mindspore")]
    case = next(c for c in report["cases"] if c["id"] == case_id)
    assert case["golden"]["torch"]["status"] == "match"
    bad = [r for r in case["golden"]["mindspore"]["outputs"] if not r["passed"]]
    assert [r["name"] for r in bad] == ["out"] and bad[0]["max_abs"] == pytest.approx(1e-3, rel=1e-3)
    failure = [tc for tc in ET.parse(tmp_path / "drift.xml").iter("testcase") if tc.get("name") == case_id][0].find("failure")
    assert failure is not None and "golden drift of mindspore out" in failure.text


def test_golden_refuses_another_seed_and_a_foreign_folder(cli, base, tmp_path):
    other = cli("run", GRU, "--golden", base / "golden", "--seed", "5")
    assert other.exit_code == 2 and "seed" in other.text and "--seed" in other.text
    empty = cli("run", GRU, "--golden", tmp_path)
    assert empty.exit_code == 2 and "golden.json" in empty.text
    same = cli("run", GRU, "--golden", tmp_path / "g", "--save-golden", tmp_path / "g")
    assert same.exit_code == 2


def test_golden_needs_only_the_target_it_checks(cli, base, tmp_path, monkeypatch):
    """torch against its stored outputs while the other target is not MindSpore: the check does not use it."""
    monkeypatch.setenv("EQCHECK_TORCH_COMPILE_BACKEND", "aot_eager")
    result = cli("run", GRU, "-k", "bias=True and batch=1", "--targets", "torch,torch-compile", "--golden", base / "golden",
                 "--json", tmp_path / "t.json")
    assert result.exit_code == 0, result.text
    golden = read_json(tmp_path / "t.json")["cases"][0]["golden"]
    assert golden["torch"]["status"] == "match"
    assert golden["torch-compile"]["status"] == "missing"


# ---- JUnit, Markdown, step summary ---------------------------------------------------------------------


def test_junit_has_one_testcase_per_case_and_failures_carry_the_deviations(cli, base, copy_config, tmp_path):
    suite = ET.parse(base / "base.xml").getroot().find("testsuite")
    ids = [c["id"] for c in document(base)["cases"]]
    assert [tc.get("name") for tc in suite.iter("testcase")] == ids
    assert suite.get("failures") == "0" and suite.find("testcase/failure") is None
    tight = copy_config("nn/GRUCell.yaml", TIGHT)
    # No error budget: the float64 stand-ins would rightly judge these zero-tolerance rows as float32 rounding.
    result = cli("run", tight, "-k", "batch=1", "--no-error-budget", "--junit", tmp_path / "t.xml", "--markdown", tmp_path / "t.md")
    assert result.exit_code == 1
    suite = ET.parse(tmp_path / "t.xml").getroot().find("testsuite")
    assert suite.get("failures") == "2"
    text = suite.find("testcase/failure").text
    assert "out [output]: max_abs=" in text and "rtol 0.0, atol 0.0" in text and "worst at" in text
    md = (tmp_path / "t.md").read_text()
    assert "| ❌ | `nn.GRUCell[bias=True,batch=1,float32]` | fail | out |" in md


def test_step_summary_is_appended_when_github_sets_it(cli, base, tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert cli("run", GRU, "-k", "bias=True and batch=1").exit_code == 0
    assert cli("diff", base / "base.json", base / "base.json").exit_code == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert "## eqcheck: torch vs mindspore" in text and "**1 passed**" in text
    assert "## eqcheck diff: ✅ no regression" in text
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert cli("run", GRU, "-k", "bias=True and batch=1").exit_code == 0
    assert summary.read_text() == text


# ---- shard and merge -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_are_disjoint_cover_everything_and_ignore_order(n):
    ids = [f"op{i % 5}[x={i}]" for i in range(23)]
    owners = assign(ids, n)
    assert set(owners) <= set(range(1, n + 1))
    sizes = [owners.count(k) for k in range(1, n + 1)]
    assert max(sizes) - min(sizes) <= 1
    shuffled = ids[::-1]
    assert dict(zip(shuffled, assign(shuffled, n))) == dict(zip(ids, owners))


def test_sharded_runs_merge_into_the_unsharded_report(cli, base, tmp_path):
    paths = []
    for k in (1, 2):
        path = tmp_path / f"s{k}.json"
        assert cli("run", GRU, "--shard", f"{k}/2", "--json", path).exit_code == 0
        paths.append(path)
    shards = [read_json(p) for p in paths]
    ids = [{c["id"] for c in s["cases"]} for s in shards]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    result = cli("merge", paths[1], paths[0], "-o", tmp_path / "all.json")
    assert result.exit_code == 0, result.text
    merged, single = read_json(tmp_path / "all.json"), document(base)
    assert without_timings(merged["cases"]) == without_timings(single["cases"])
    assert merged["summary"]["total"] == 4 and merged["complete"] is True and "shard" not in merged["settings"]
    assert schema.errors(merged) == []
    assert cli("diff", base / "base.json", tmp_path / "all.json").exit_code == 0

    partial = cli("merge", paths[0], "-o", tmp_path / "half.json")
    assert partial.exit_code == 0 and "2/2 not given" in partial.text
    assert read_json(tmp_path / "half.json")["complete"] is False
    twice = cli("merge", paths[0], paths[0], "-o", tmp_path / "x.json")
    assert twice.exit_code == 2 and "also" in twice.text
    reseeded = shards[1] | {"seed": 1}
    refused = cli("merge", paths[0], write(tmp_path / "r.json", reseeded), "-o", tmp_path / "x.json")
    assert refused.exit_code == 2 and "seed" in refused.text


def test_bad_shard_values_are_usage_errors(cli):
    for value in ("0/2", "3/2", "a/b", "1/0"):
        result = cli("run", GRU, "--shard", value)
        assert result.exit_code == 2, value
        assert "--shard" in result.text


# ---- HTML ------------------------------------------------------------------------------------------------


def test_html_is_self_contained_with_histograms_and_worst_elements(base):
    page = (base / "base.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    for case in document(base)["cases"]:
        assert case["id"].replace("=", "=") in page
    assert page.count("<svg") >= 4 and "per decade" in page
    for bad in ('src="http', "src='http", 'href="http', "<link rel=stylesheet", "@import", "<iframe"):
        assert bad not in page
    out = document(base)["cases"][0]["outputs"][0]
    assert f"{out['worst_values'][0]:.3e}" in page


def test_example_workflow_shards_merges_diffs_and_writes_the_summary():
    import yaml

    from conftest import ROOT

    workflow = yaml.safe_load((ROOT / "examples" / "github-actions" / "eqcheck-gate.yml").read_text())
    assert workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"] == [1, 2, 3]
    steps = " ".join(str(s.get("run", "")) for job in workflow["jobs"].values() for s in job["steps"])
    for command in ("--shard ${{ matrix.shard }}/3", "--golden", "--junit", "eqcheck merge", "eqcheck diff ci/eqcheck-baseline.json"):
        assert command in steps
