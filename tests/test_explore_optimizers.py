"""--explore for optimizer specs (issue 30): torch's OptimizerInfo configurations (optim_db) as cases.

The samples come from the real optim_db (built into a session cache by the child process); the runs step the real
torch and MindSpore optimizers."""

from __future__ import annotations

import os

import pytest

from conftest import read_json
from eqcheck.backends.samples import cache
from eqcheck.cases.explore import Skip, translate
from eqcheck.spec.loader import parse_spec


@pytest.fixture(scope="session")
def optim_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    old = os.environ.get(cache.CACHE_ENV)
    os.environ[cache.CACHE_ENV] = str(folder)
    cache.entries("optim", ["optim.SGD"])
    yield folder
    if old is None:
        os.environ.pop(cache.CACHE_ENV, None)
    else:
        os.environ[cache.CACHE_ENV] = old


def _by_desc(report) -> dict[str, dict]:
    return {c["sample"]["desc"]: c for c in read_json(report)["cases"] if "sample" in c and "desc" in c["sample"]}


def test_optim_db_entries_hold_constructor_kwargs_and_error_inputs(optim_cache):
    record = cache.entries("optim", ["optim.SGD"])["optim.SGD"]
    descs = [s["desc"] for s in record["samples"]]
    assert "nesterov" in descs and "momentum & fused" in descs  # torch's CPU list: fused where its CPU kernel exists
    nesterov = record["samples"][descs.index("nesterov")]
    assert nesterov["init"]["kwargs"] == {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1,
                                          "differentiable": False, "fused": False} and nesterov["call"]["args"] == []
    tensor_lr = record["samples"][descs.index("tensor lr")]["init"]["kwargs"]["lr"]
    assert tensor_lr["shape"] == [] and "tensor" in tensor_lr  # a tensor lr stays a tensor
    assert record["init_defaults"]["lr"] == 0.001 and record["init_signature"][:2] == ["lr", "momentum"]
    assert {"init": {"args": [], "kwargs": {"lr": 0.01, "momentum": -0.5}}} .items() <= record["errors"][-1].items()
    assert "about the params argument itself" in record["note_errors"]


SGD = """
name: t.sgd
kind: optimizer
optimizer: {steps: 2, state: {momentum_buffer: accum}}
inputs: [{name: weight, shape: [4, 3]}]
torch: {op: torch.optim.SGD, init: {lr: 0.1, momentum: 0.9}}
mindspore: {op: mindspore.nn.SGD, init: {learning_rate: 0.1, momentum: 0.9}}
explore:
  arguments:
    lr: {name: learning_rate, default: 0.001}
    momentum: momentum
    differentiable: {unsupported: no such switch, default: false}
    fused: {drop: an implementation choice}
"""


def test_a_sample_replaces_the_torch_constructor_and_reaches_mindspore_through_the_map(write_spec):
    spec = parse_spec(write_spec(SGD))
    record = {"entry": "optim.SGD", "signature": [], "init_signature": ["lr", "momentum", "differentiable", "fused"],
              "init_defaults": {"lr": 0.001, "momentum": 0}}
    sample = {"init": {"args": [], "kwargs": {"momentum": 0.5, "fused": True, "differentiable": False}},
              "call": {"args": [], "kwargs": {}}}
    derived, tensors = translate(spec, record, sample, "optim", index=0)
    assert derived.sides["torch"].init == {"momentum": 0.5, "fused": True, "differentiable": False}
    assert derived.sides["mindspore"].init == {"momentum": 0.5, "learning_rate": 0.001}  # fused dropped, lr's default
    assert [i.name for i in derived.inputs] == ["weight"] and tensors == ()  # the spec's parameters, drawn as usual
    with pytest.raises(Skip) as skipped:
        translate(spec, record, {**sample, "init": {"args": [], "kwargs": {"differentiable": True}}}, "optim", index=1)
    assert skipped.value.kind == "not_supported" and skipped.value.args == ("differentiable",)
    with pytest.raises(Skip) as skipped:
        translate(spec, record, {**sample, "init": {"args": [], "kwargs": {"dampening": 0.5}}}, "optim", index=2)
    assert skipped.value.kind == "unmapped" and skipped.value.args == ("dampening",)


def test_optimizer_samples_run_on_both_frameworks_and_are_counted(cli, copy_config, optim_cache, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", copy_config("optim/nn_SGD.yaml"), "--explore", "--json", report, "-k", "sample or error_input")
    assert result.exit_code == 0, result.text
    cases = _by_desc(report)
    nesterov = cases["nesterov"]
    assert nesterov["status"] == "pass"
    assert nesterov["sides"]["torch"]["init"] == {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1,
                                                  "differentiable": False, "fused": False}
    assert nesterov["sides"]["mindspore"]["init"] == {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1,
                                                      "learning_rate": 0.001}
    assert cases["nesterov & fused"]["status"] == "pass"
    tally = read_json(report)["explore"]["optim.nn.SGD"]
    assert tally["entry"] == "optim.SGD" and tally["samples"] == 27 and tally["run"] == len(cases) == 14
    assert tally["not_supported"] == {"differentiable": 9, "lr: a tensor constructor argument": 3, "maximize": 3}
    errors = [c for c in read_json(report)["cases"] if "error_input" in c["id"]]
    assert [c["status"] for c in errors] == ["pass"] and "Invalid momentum value" in errors[0]["message"]


def test_a_state_the_samples_configuration_does_not_keep_is_not_compared(cli, copy_config, optim_cache, tmp_path):
    """torch's SGD keeps no momentum_buffer at momentum=0 (its 'default' sample): the spec's state map names it."""
    report = tmp_path / "r.json"
    result = cli("run", copy_config("optim/SGD.yaml"), "--explore", "--json", report, "-k", "sample=0]")
    assert result.exit_code == 0, result.text
    case = _by_desc(report)["default"]
    assert case["status"] == "pass" and case["optimizer"]["state_not_kept"] == ["momentum_buffer"]
    assert not any(":momentum_buffer:" in o["name"] for o in case["outputs"])


def test_a_wrong_rename_fails_on_the_samples_it_reaches(cli, copy_config, optim_cache, tmp_path):
    """Planted: torch's momentum mapped onto MindSpore's dampening. A sample setting momentum sends it to the wrong
    argument (nesterov with dampening: MindSpore refuses); one leaving it out keeps the spec's own MindSpore momentum
    (0.9, no longer replaced): none passes."""
    report = tmp_path / "r.json"
    spec = copy_config("optim/nn_SGD.yaml", {"    momentum: momentum\n": "    momentum: dampening\n"})
    result = cli("run", spec, "--explore", "--json", report, "-k", "sample")
    assert result.exit_code == 1, result.text
    cases = _by_desc(report)
    assert {"momentum", "nesterov", "dampening", "default"} <= set(cases)
    assert all(c["status"] != "pass" for c in cases.values()), {d: c["status"] for d, c in cases.items()}
    assert cases["default"]["sides"]["mindspore"]["init"]["momentum"] == 0.9
