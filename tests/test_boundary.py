"""--boundary variants: argument values by type, shapes, layouts, domain tails, the stale-memory decoy, and how a
refusal by one or both sides is judged."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import CONFIGS, read_json

SLOPE = """
name: slope
params: {{negative_slope: 0.2}}
sweep: {{inplace: [false]}}
inputs:
  - name: x
    shape: [4, 6]
    {distribution}
torch: {{op: torch.nn.LeakyReLU, init: {{negative_slope: $negative_slope, inplace: $inplace}}}}
mindspore: {{op: mindspore.nn.LeakyReLU, init: {{alpha: $negative_slope}}}}
{extra}
"""


def ids(cli, *args) -> list[str]:
    result = cli("list", *args, "--boundary")
    assert result.exit_code == 0, result.text
    return result.text.split()


def boundary_of(listed: list[str]) -> list[str]:
    return [i.split(",boundary=")[1].rstrip("]") for i in listed if ",boundary=" in i]


def test_dims_get_their_first_last_most_negative_and_first_out_of_range_index(cli):
    listed = ids(cli, CONFIGS / "nn" / "Softmax.yaml")  # sweep dim: [0, 1, -1] over a 3-d input
    names = boundary_of(listed)
    assert [n for n in names if n.startswith("dim:")] == ["dim:2", "dim:-3", "dim:3"]
    assert all(i.startswith("nn.Softmax[dim=0,float32,") for i in listed if ",boundary=" in i)  # the first sweep point
    assert {"one@1", "one@2", "odd", "noncontig", "large", "tiny", "stale"} <= set(names)
    assert "one@0" not in names  # the reduced axis of size 1 is --edges' `single`, not repeated here
    empties = [i for i, n in enumerate(listed) if "empty@" in n]
    assert empties and empties == list(range(len(listed) - len(empties), len(listed)))  # every empty input runs last


def test_values_follow_the_type_of_what_the_spec_already_uses(cli, write_spec):
    names = boundary_of(ids(cli, write_spec(SLOPE.format(distribution="", extra=""))))
    # a float param: zero, the units, a large and a tiny magnitude; `inplace` only feeds torch, so it is left alone
    assert [n for n in names if n.startswith("negative_slope:")] == [
        "negative_slope:0.0", "negative_slope:1.0", "negative_slope:-1.0", "negative_slope:1000000.0", "negative_slope:1e-07"]
    assert not any(n.startswith("inplace:") for n in names)
    losses = boundary_of(ids(cli, CONFIGS / "losses" / "KLDivLoss.yaml"))  # reduction: none, sum, batchmean
    assert "reduction:mean" in losses and "reduction:sum" not in losses
    gru = boundary_of(ids(cli, CONFIGS / "nn" / "GRUCell.yaml"))  # bias: [true, false] is swept already
    assert not any(n.startswith("bias:") for n in gru)
    assert "hidden_size:0" in gru and "hidden_size:-1" not in gru  # a negative size does not evaluate: left out
    assert {"batch", "stale@empty_batch"} <= set(gru)


def test_bounded_domains_get_their_exact_ends_and_integers_their_first_and_last_value():
    from eqcheck.cases import load_specs
    from eqcheck.cases.boundary import boundary_cases

    (spec,) = load_specs([str(CONFIGS / "math" / "log.yaml")])
    by_name = {c.edge.name: c for c in boundary_cases(spec)}
    bounds = by_name["bounds"].input_distribution(0)
    assert bounds.special.values == (0.1, 2.0) and bounds.special.values_fraction == 0.5  # positive: low .. high
    assert by_name["tiny"].input_distribution(0).args == {"low": pytest.approx(1e-5), "high": pytest.approx(1e-4)}
    (gather,) = load_specs([str(CONFIGS / "indexing" / "gather.yaml")])  # index: integers in [0, 6)
    variant = next(c for c in boundary_cases(gather) if c.edge.name == "bounds")
    index = [i.name for i in gather.inputs].index("index")
    assert variant.input_distribution(index).special.values == (0.0, 5.0)
    assert variant.input_distribution(0).special is None  # the normal input has no ends; its tails are large/tiny


def test_boundary_kinds_are_declared_and_skipped_like_edge_variants(cli, write_spec, tmp_path):
    spec = write_spec(SLOPE.format(distribution="", extra='edges: {skip: {stale: "no memory to reuse", arg: "not now"}}'))
    names = boundary_of(ids(cli, spec))
    assert "stale" not in names and not any(n.startswith("negative_slope:") for n in names) and "large" in names
    bad = write_spec(SLOPE.format(distribution="", extra='edge_differences: [{edge: stael, reason: r}]'))
    result = cli("validate", bad)
    assert result.exit_code == 2 and "edge_differences[0].edge" in result.text and "did you mean 'stale'" in result.text


def test_both_sides_refusing_is_agreement_and_one_side_refusing_a_finding(cli, write_spec, tmp_path):
    cli("run", "-j", "0", CONFIGS / "nn" / "Softmax.yaml", "--boundary", "-k", "boundary=dim:3", "--json", tmp_path / "s.json")
    (case,) = read_json(tmp_path / "s.json")["cases"]
    assert case["status"] == "pass" and case["message"].startswith("both sides refuse this boundary variant: torch failed")
    assert set(case["boundary"]["refused"]) == {"torch", "mindspore"} and case["boundary"]["kind"] == "arg"
    shipped = (CONFIGS / "nn" / "Linear.yaml").read_text()
    undeclared = write_spec(shipped.split("\n# --boundary")[0], "linear.yaml")  # without its edge_differences
    result = cli("run", "-j", "0", undeclared, "--boundary", "-k", "boundary=out_features:0", "--json", tmp_path / "l.json")
    assert result.exit_code == 1
    (case,) = read_json(tmp_path / "l.json")["cases"]
    assert case["status"] == "error" and case["message"].startswith("only mindspore refuses this boundary variant")
    assert case["message"].endswith("torch returns a value")
    # the shipped spec declares it (edge: arg, when: {out_features: [0]}): an expected difference; out_features=1 passes
    result = cli("run", "-j", "0", CONFIGS / "nn" / "Linear.yaml", "--boundary", "-k", "boundary=out_features",
                 "--json", tmp_path / "d.json")
    statuses = {c["id"].split("boundary=")[1]: c["status"] for c in read_json(tmp_path / "d.json")["cases"]}
    assert statuses["out_features:0]"] == "expected_difference" and statuses["out_features:1]"] == "pass", result.text


def test_torch_alone_refusing_is_mindspore_accepting_invalid_input(cli, tmp_path):
    # a kernel longer than the input: torch refuses, MindSpore's default pad_mode='same' computes a value
    result = cli("run", "-j", "0", CONFIGS / "defaults" / "Conv1d.yaml", "--boundary", "-k", "boundary=one@2", "--json", tmp_path / "c.json")
    (case,) = read_json(tmp_path / "c.json")["cases"]
    assert case["status"] == "accepts_invalid" and result.exit_code == 0, result.text
    assert case["message"].startswith("only torch refuses this boundary variant") and case["message"].endswith("mindspore returns a value")


def test_layouts_reach_both_frameworks_with_identical_values():
    import mindspore
    import torch

    from eqcheck.backends.mindspore_pynative import MindSporePyNativeBackend
    from eqcheck.backends.torch_eager import TorchEagerBackend
    from eqcheck.execution.layouts import place

    array = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    torch_backend, ms_backend = TorchEagerBackend(), MindSporePyNativeBackend()
    for backend in (torch_backend, ms_backend):
        backend.activate()
    strided = place(torch_backend, array, "float32", "noncontig")
    assert not strided.is_contiguous() and np.array_equal(strided.numpy(), array)
    last = place(torch_backend, array, "float32", "channels_last")
    assert last.is_contiguous(memory_format=torch.channels_last) and np.array_equal(last.numpy(), array)
    for layout in ("noncontig", "channels_last"):
        tensor = place(ms_backend, array, "float32", layout)
        assert isinstance(tensor, mindspore.Tensor) and not tensor.is_contiguous()
        assert np.array_equal(tensor.asnumpy(), array)
    assert place(torch_backend, array[:, :0], "float32", "noncontig").shape == (2, 0, 4, 5)  # nothing to stride


STALE = """
name: stale
kind: model
inputs: [{name: x, shape: [4, 6]}]
torch: {model: "tests.stale_ports:ZeroLastRow"}
mindspore: {model: "tests.stale_ports:UnwrittenLastRow"}
layers: false  # layer hooks and their probe call the model again: only the decoy may call it before the case
"""


def test_the_decoy_call_exposes_output_memory_the_port_never_writes(cli, write_spec, tmp_path):
    import importlib

    stale_ports = importlib.import_module("tests.stale_ports")  # the module the factory path loads
    spec = write_spec(STALE)
    statuses = {}
    for selection in ("not boundary", "boundary=stale"):  # each alone, on a fresh pool: the unwritten row is zeros
        stale_ports.RECYCLED.clear()
        cli("run", "-j", "1", spec, "--boundary", "--allow-module", "tests.stale_ports", "-k", selection, "--json", tmp_path / "r.json")
        (case,) = read_json(tmp_path / "r.json")["cases"]
        statuses[case["id"]] = case["status"]
    assert statuses == {"stale[float32]": "pass", "stale[float32,boundary=stale]": "fail"}
    assert "decoy" in case["boundary"]


DEFAULTS = """
name: defaults
inputs: [{name: x, shape: [4, 6]}]
torch: {op: torch.nn.LeakyReLU}
mindspore: {op: mindspore.nn.LeakyReLU, init: {alpha: 0.01}}
explore:
  arguments:
    negative_slope: {name: alpha, default: 0.01}
    inplace: {drop: "in-place flag; the output is the same", default: false}
"""


def test_arguments_left_at_their_default_are_varied_through_the_explore_map(cli, write_spec, tmp_path):
    spec = write_spec(DEFAULTS)
    names = boundary_of(ids(cli, spec))
    assert [n for n in names if ":" in n] == [
        "negative_slope:0.0", "negative_slope:1.0", "negative_slope:-1.0", "negative_slope:1000000.0", "negative_slope:1e-07"]
    cli("run", "-j", "1", spec, "--boundary", "-k", "boundary=negative_slope:-1.0", "--json", tmp_path / "d.json")
    (case,) = read_json(tmp_path / "d.json")["cases"]
    assert case["status"] == "pass"
    assert case["sides"]["torch"]["init"] == {"negative_slope": -1.0} and case["sides"]["mindspore"]["init"] == {"alpha": -1.0}


def test_integer_bounds_and_an_empty_softmax_axis_draw(cli, tmp_path):
    """Two draws the variants reach first: an exact-value overlay on integer indices, log_softmax over an empty axis."""
    result = cli("run", "-j", "0", CONFIGS / "indexing" / "gather.yaml", CONFIGS / "losses" / "NLLLoss.yaml", "--boundary",
                 "-k", "gather and boundary=bounds or NLLLoss and reduction=none and boundary=empty@1", "--json", tmp_path / "r.json")
    cases = read_json(tmp_path / "r.json")["cases"]
    assert [c["status"] for c in cases] == ["pass", "pass"], result.text
    assert cases[0]["boundary"]["inputs"]["index"] == "integers(low=0, high=6) + special(values=[0.0, 5.0]@0.5)"


def test_a_schedule_refusing_a_boundary_value_is_judged_on_its_own_path_not_as_a_bad_spec(cli, tmp_path):
    # T_mult=0 makes torch's CosineAnnealingWarmRestarts raise; asking MindSpore alone must build its scheduler
    # through the schedule path (with its optimizer), not as a plain op, or the whole run stopped with exit 2.
    report = tmp_path / "r.json"
    result = cli("run", CONFIGS / "lr_scheduler" / "CosineAnnealingWarmRestarts.yaml", "--boundary", "-k", "T_mult:0",
                 "-j", "0", "--json", report)
    assert result.exit_code != 2, result.text
    (case,) = read_json(report)["cases"]
    assert case["status"] in ("pass", "accepts_invalid"), case
    assert "required positional argument" not in (case.get("message") or "")


def test_one_boundary_argument_value_is_declared_by_the_name_its_case_id_gives(cli, tmp_path):
    # MindSpore's BatchNorm refuses eps > 1; torch computes: BatchNorm3d declares `edge: "eps:1000000.0"` alone
    report = tmp_path / "r.json"
    result = cli("run", CONFIGS / "normalization" / "BatchNorm3d.yaml", "--boundary", "-k", "boundary=eps", "--json", report)
    assert result.exit_code == 0, result.text
    statuses = {c["id"].split("boundary=")[1]: c["status"] for c in read_json(report)["cases"]}
    assert statuses["eps:1000000.0]"] == "expected_difference"
    assert set(statuses.values()) <= {"pass", "expected_difference"}
