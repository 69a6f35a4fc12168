"""--export-side / --against: one side recorded on one machine, compared on another, gives the one-process report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import read_json
from conftest import without_timings as _without_timings


def without_timings(node):
    """As conftest's, minus OpInfo's third opinion: it is asked only where the torch side runs in the process,
    never on a replayed side (docs/verdicts.md), so a split run has none."""
    if isinstance(node, list) and node and isinstance(node[0], dict) and "id" in node[0]:
        node = [{k: v for k, v in case.items() if k != "third_opinion"} for case in node]
    return _without_timings(node)

pytestmark = pytest.mark.frameworks

# Cheap specs that still cover parameters with a transform (LSTM), buffers after a train-mode call
# (BatchNorm2d_train), integer inputs (Embedding), a MindSpore refusal (GRUCell float64: unsupported),
# a declared difference (std) and parameters only one side has (InstanceNorm2d defaults).
SPECS = ("configs/nn/GRUCell.yaml", "configs/nn/BatchNorm2d_train.yaml", "configs/nn/Embedding.yaml",
         "configs/nn/LSTM.yaml", "configs/defaults/std.yaml",
         "configs/defaults/InstanceNorm2d.yaml")  # MindSpore-only parameters (unmapped, with an init): drawn on replay
SELECT = ("-k", "not batch=64 and not float64 or GRUCell")

BROKEN_ON_TORCH = """
name: split.broken_on_torch
summary: shapes that cannot multiply (torch fails first, so the case is an error of torch)
inputs:
  - {name: input, shape: [3, 4]}
  - {name: other, shape: [5, 6]}
torch:
  op: torch.matmul
mindspore:
  op: mindspore.ops.matmul
"""


def split_run(cli, tmp_path, paths, *options, name="side"):
    folder = tmp_path / name
    exported = cli("run", *paths, *options, "--targets", "torch", "--export-side", folder, "--json", tmp_path / f"{name}-export.json")
    assert exported.exit_code in (0, 1), exported.text
    against = cli("run", *paths, *options, "--targets", "mindspore", "--against", folder, "--json", tmp_path / f"{name}.json")
    return folder, against, read_json(tmp_path / f"{name}.json")


def one_process_run(cli, tmp_path, paths, *options, name="one"):
    result = cli("run", *paths, *options, "--json", tmp_path / f"{name}.json")
    return result, read_json(tmp_path / f"{name}.json")


def test_a_split_run_equals_the_one_process_run_case_for_case(cli, tmp_path):
    options = (*SELECT, "--dtype", "float32,float64", "--grad")
    folder, split, split_doc = split_run(cli, tmp_path, SPECS, *options)
    single, single_doc = one_process_run(cli, tmp_path, SPECS, *options)
    assert split.exit_code == single.exit_code
    statuses = {c["status"] for c in single_doc["cases"]}
    assert {"pass", "unsupported", "expected_difference"} <= statuses  # the comparison covers more than passes
    assert any(o["kind"] == "grad" for c in single_doc["cases"] for o in c["outputs"])
    assert any(o["kind"] == "state" for c in single_doc["cases"] for o in c["outputs"])
    assert without_timings(split_doc["cases"]) == without_timings(single_doc["cases"])
    assert without_timings(split_doc["summary"]) == without_timings(single_doc["summary"])
    # both machines' environments are in the report
    recorded = split_doc["environment"]["recorded_side"]
    assert recorded["target"] == "torch" and recorded["versions"]["torch"] == single_doc["environment"]["versions"]["torch"]
    assert split_doc["environment"]["versions"] == single_doc["environment"]["versions"]
    assert split_doc["settings"]["against"] == str(folder)
    # the export's own report is the record replayed against the live side: every deviation is exactly 0
    export_doc = read_json(tmp_path / "side-export.json")
    rows = [o for c in export_doc["cases"] for o in c["outputs"] if "max_abs" in o]
    assert rows and all(o["max_abs"] == 0 for o in rows)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["settings"]["grad"] is True and manifest["target"]["label"] == "torch"
    assert set(manifest["cases"]) == {c["id"] for c in single_doc["cases"]}


def test_failing_rows_judged_against_float64_re_runs_replay_too(cli, tmp_path, copy_config):
    """A row outside its tolerance is judged again against both sides' float64 re-runs (the error budget): the export
    records the recorded side's float64 run for every case, since only the comparison shows which case needs it."""
    spec = copy_config("nn/Linear.yaml", {"grad: true": "grad: true\ntolerance: {float32: {rtol: 0.0, atol: 0.0}}"})
    _, split, split_doc = split_run(cli, tmp_path, (spec,), "-k", "float32")
    single, single_doc = one_process_run(cli, tmp_path, (spec,), "-k", "float32")
    assert split.exit_code == single.exit_code
    assert any(c.get("reference") for c in single_doc["cases"])  # the float64 re-runs did happen
    assert without_timings(split_doc["cases"]) == without_timings(single_doc["cases"])


def test_a_failure_on_the_recorded_side_replays_with_its_status_and_message(cli, tmp_path, write_spec):
    spec = write_spec(BROKEN_ON_TORCH)
    _, split, split_doc = split_run(cli, tmp_path, (spec,))
    single, single_doc = one_process_run(cli, tmp_path, (spec,))
    assert split.exit_code == single.exit_code == 1
    (case,) = split_doc["cases"]
    assert case["status"] == "error" and case["message"].startswith("torch failed to call: RuntimeError")
    assert without_timings(split_doc["cases"]) == without_timings(single_doc["cases"])


def test_a_gradient_the_recorded_side_cannot_take_does_not_derail_the_repeat_calls(cli, tmp_path):
    """torch has no gradient for one_hot: the mirror of the export is never asked for that gradient pass (its reload
    and the failure), and with --repeat the next steps it is asked for (reload, call) must be the repeat's, not the
    skipped pass's reload followed by a failed gradient."""
    options = ("--repeat", "2", "--grad")
    exported = cli("run", "configs/nn/F.one_hot.yaml", *options, "--targets", "torch", "--export-side", tmp_path / "side",
                   "--json", tmp_path / "export.json")
    assert exported.exit_code == 0, exported.text
    (case,) = read_json(tmp_path / "export.json")["cases"]
    assert case["status"] == "pass", case["message"]
    assert "cannot compute gradients" in next(o["ignored"] for o in case["outputs"] if o["kind"] == "grad")
    against = cli("run", "configs/nn/F.one_hot.yaml", *options, "--targets", "mindspore", "--against", tmp_path / "side",
                  "--json", tmp_path / "split.json")
    single, single_doc = one_process_run(cli, tmp_path, ("configs/nn/F.one_hot.yaml",), *options)
    assert against.exit_code == single.exit_code == 0, against.text
    assert without_timings(read_json(tmp_path / "split.json")["cases"]) == without_timings(single_doc["cases"])


def test_a_check_skipped_only_here_does_not_derail_the_repeat_calls(cli, tmp_path):
    """flatten's defaults differ in shape between the frameworks: torch against its own replay computes gradients,
    torch against MindSpore skips them. The replay here must pass over that recorded gradient pass (no failure in
    it) and answer the --repeat calls with the repeat's steps."""
    options = ("--repeat", "2", "--grad")
    _, split, split_doc = split_run(cli, tmp_path, ("configs/defaults/flatten.yaml",), *options)
    single, single_doc = one_process_run(cli, tmp_path, ("configs/defaults/flatten.yaml",), *options)
    assert split.exit_code == single.exit_code, split.text
    assert {c["gradients"]["status"] for c in single_doc["cases"]} == {"skipped"}
    assert without_timings(split_doc["cases"]) == without_timings(single_doc["cases"])


def test_the_replay_compares_the_recorded_outputs(cli, tmp_path):
    """Planted: one recorded output value changed on disk -> that case fails, the others still pass."""
    folder, _, _ = split_run(cli, tmp_path, ("configs/ops/atan2.yaml",))
    manifest = json.loads((folder / "manifest.json").read_text())
    case_id = next(iter(manifest["cases"]))
    path = folder / "cases" / manifest["cases"][case_id]
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    (key,) = [k for k in arrays if k.startswith("seed") and "/build0/" in k and k.endswith("-call")]  # the forward output
    arrays[key] = arrays[key] + 0.01
    np.savez_compressed(path, **arrays)
    result = cli("run", "configs/ops/atan2.yaml", "--targets", "mindspore", "--against", folder, "--json", tmp_path / "t.json")
    assert result.exit_code == 1, result.text
    statuses = {c["id"]: c["status"] for c in read_json(tmp_path / "t.json")["cases"]}
    assert statuses.pop(case_id) == "fail" and set(statuses.values()) == {"pass"}


def test_the_replay_runs_the_other_side_on_the_recorded_weights(cli, tmp_path):
    """Planted: the recorded canonical weights changed on disk -> they no longer map to what the recorded side loaded."""
    folder, _, _ = split_run(cli, tmp_path, ("configs/nn/Linear.yaml",), "-k", "float32")
    manifest = json.loads((folder / "manifest.json").read_text())
    case_id = next(iter(manifest["cases"]))
    path = folder / "cases" / manifest["cases"][case_id]
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    key = next(k for k in arrays if "/weights/" in k)
    arrays[key] = arrays[key] * 2
    np.savez_compressed(path, **arrays)
    cli("run", "configs/nn/Linear.yaml", "-k", "float32", "--targets", "mindspore", "--against", folder, "--json", tmp_path / "w.json")
    case = next(c for c in read_json(tmp_path / "w.json")["cases"] if c["id"] == case_id)
    assert case["status"] == "error" and "did not take the shared value" in case["message"]


def test_an_unreadable_case_file_is_that_case_s_error(cli, tmp_path):
    folder, _, _ = split_run(cli, tmp_path, ("configs/ops/atan2.yaml",))
    manifest = json.loads((folder / "manifest.json").read_text())
    case_id = next(iter(manifest["cases"]))
    (folder / "cases" / manifest["cases"][case_id]).write_bytes(b"PK\x03\x04 truncated")
    result = cli("run", "configs/ops/atan2.yaml", "--targets", "mindspore", "--against", folder, "--json", tmp_path / "u.json")
    assert result.exit_code == 1 and "Traceback" not in result.text
    cases = {c["id"]: c for c in read_json(tmp_path / "u.json")["cases"]}
    assert cases[case_id]["status"] == "error" and "cannot read the recorded side" in cases[case_id]["message"]
    assert {c["status"] for i, c in cases.items() if i != case_id} == {"pass"}


def test_mismatched_specs_seed_settings_or_version_are_exit_2_naming_the_field(cli, tmp_path, copy_config):
    spec = copy_config("ops/atan2.yaml")
    folder = tmp_path / "side"
    assert cli("run", spec, "--targets", "torch", "--export-side", folder, "-q").exit_code == 0
    manifest = folder / "manifest.json"

    def against(*options):
        result = cli("run", spec, "--targets", "mindspore", "--against", folder, *options)
        assert result.exit_code == 2, result.text
        assert "Traceback" not in result.text
        return " ".join(result.text.split())

    assert f"{manifest}: field 'seed': recorded with seed" in against("--seed", "7")
    assert "field 'settings.grad': recorded with grad = None, this run has True" in against("--grad")
    assert "field 'settings.dtypes'" in against("--dtype", "float64")
    assert "Invalid value for '--targets'" in against("--targets", "torch")  # the recorded side itself
    spec.write_text(spec.read_text().replace("[64]", "[65]"))
    assert f"field 'specs.ops.atan2': {spec} differs from the spec the side was exported with" in against()
    spec.write_text(spec.read_text().replace("[65]", "[64]"))
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "eqcheck_version": "0.0.1"}))
    assert "field 'eqcheck_version': recorded by eqcheck 0.0.1" in against()
    manifest.unlink()
    assert "no manifest" in against()


def test_split_runs_take_exactly_one_target_here(cli, tmp_path):
    result = cli("run", "configs/ops/atan2.yaml", "--export-side", tmp_path / "side")  # --targets defaults to two
    assert result.exit_code == 2 and "give exactly one target to run here" in result.text


def test_against_in_worker_processes_equals_in_process(cli, tmp_path):
    folder, _, in_process = split_run(cli, tmp_path, ("configs/nn/GRUCell.yaml",), "-k", "batch=1")
    result = cli("run", "configs/nn/GRUCell.yaml", "-k", "batch=1", "--targets", "mindspore", "--against", folder,
                 "--jobs", "1", "--json", tmp_path / "jobs.json")
    assert result.exit_code == 0, result.text
    assert without_timings(read_json(tmp_path / "jobs.json")["cases"]) == without_timings(in_process["cases"])


def test_a_shard_exported_is_a_shard_compared(cli, tmp_path):
    folder = tmp_path / "side"
    spec = "configs/defaults/std.yaml"
    assert cli("run", spec, "--shard", "2/2", "--targets", "torch", "--export-side", folder, "-q").exit_code == 0
    result = cli("run", spec, "--shard", "2/2", "--targets", "mindspore", "--against", folder, "--json", tmp_path / "s.json")
    assert result.exit_code == 0, result.text
    whole = cli("run", spec, "--targets", "mindspore", "--against", folder)
    assert whole.exit_code == 2 and "not part of the exported run" in whole.text  # the other shard's specs
