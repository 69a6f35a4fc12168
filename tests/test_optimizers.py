"""Spec kinds optimizer and schedule (docs/optimizers.md): optimizers stepped on shared seeded gradients, learning-rate
sequences compared. Real torch and MindSpore; every planted difference must be caught at the step it appears."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json

SGD = "optim/SGD.yaml"
STEP_LR = "lr_scheduler/StepLR.yaml"


def run(cli, spec, tmp_path, *extra):
    report = tmp_path / "report.json"
    result = cli("run", spec, "--json", report, *extra)
    return result, read_json(report)


def test_an_optimizer_pair_passes_with_parameters_and_state_compared_every_step(cli, copy_config, tmp_path):
    result, document = run(cli, copy_config(SGD), tmp_path)
    assert result.exit_code == 0, result.text
    for case in document["cases"]:
        names = [o["name"] for o in case["outputs"]]
        assert names[:4] == ["step1:weight", "step1:momentum_buffer:weight", "step1:bias", "step1:momentum_buffer:bias"]
        assert len(names) == 3 * 4 and all(o["passed"] for o in case["outputs"])
        assert case["optimizer"]["first_divergent"] is None


MS_SGD = "mindspore.experimental.optim.SGD\n  init: {lr: 0.1, momentum: 0.9, "


@pytest.mark.parametrize("old, new, first", [
    (MS_SGD, MS_SGD.replace("momentum: 0.9", "momentum: 0.8"), "step2:weight"),
    (MS_SGD, MS_SGD.replace("lr: 0.1,", "lr: 0.1001,"), "step1:weight"),
])
def test_a_planted_hyperparameter_difference_is_named_at_its_first_step(cli, copy_config, tmp_path, old, new, first):
    # Momentum only acts from step 2 (the buffer starts as the first gradient); the learning rate from step 1.
    spec = copy_config(SGD, {"nesterov: [false, true]": "nesterov: [false]", old: new})
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 1, result.text
    (case,) = document["cases"]
    assert case["status"] == "fail" and case["optimizer"]["first_divergent"]["row"] == first
    assert f"first in {first}" in case["message"]


def test_both_optimizers_apply_exactly_the_drawn_gradients(copy_config):
    # Plain SGD at lr 1 leaves parameter - gradient: each side's step-1 parameters show the gradient it applied.
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases.draws import DEFAULT_SEED, make_inputs
    from eqcheck.cases.sweep import expand, load_spec
    from eqcheck.execution.optimizer_steps import draw_gradients
    from eqcheck.execution.runner import CaseRunner

    spec = copy_config(SGD, {"nesterov: [false, true]": "nesterov: [false]", "lr: 0.1, momentum: 0.9": "lr: 1.0, momentum: 0.0",
                             "state: {momentum_buffer: accum}": "state: {}"})
    (case,) = expand(load_spec(spec))
    initial = make_inputs(case, DEFAULT_SEED)
    grads = draw_gradients(case, DEFAULT_SEED, [initial["weight"].shape, initial["bias"].shape])
    assert not np.array_equal(grads[0][0], grads[1][0])  # a fresh gradient each step
    runner = CaseRunner(parse_targets("torch,mindspore", "cpu"))
    runner.start()
    runner.preflight([case])
    result = runner.run(case)
    assert result.status == "pass", result.message
    for label in ("torch", "mindspore"):
        np.testing.assert_allclose(result.arrays[label]["step1:weight"], initial["weight"] - grads[0][0], rtol=0, atol=1e-6)
        np.testing.assert_allclose(result.arrays[label]["step2:bias"], initial["bias"] - grads[0][1] - grads[1][1], rtol=0, atol=1e-6)


def test_a_state_the_optimizer_does_not_keep_is_an_error_naming_the_field(cli, copy_config, tmp_path):
    spec = copy_config(SGD, {"state: {momentum_buffer: accum}": "state: {momentum_buffer: moments}"})
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 1
    assert all(c["status"] == "error" and "keeps no state 'moments' (spec optimizer.state.momentum_buffer)" in c["message"]
               for c in document["cases"])


def test_a_declared_optimizer_difference_is_confirmed(cli, tmp_path):
    from conftest import CONFIGS

    result, document = run(cli, CONFIGS / "optim/nn_AdamWeightDecay.yaml", tmp_path)
    assert result.exit_code == 0, result.text
    (case,) = document["cases"]
    assert case["status"] == "expected_difference" and case["optimizer"]["first_divergent"]["step"] == 1


def test_a_schedule_pair_passes_and_a_planted_gamma_fails_where_the_rates_first_part(cli, copy_config, tmp_path):
    result, document = run(cli, copy_config(STEP_LR), tmp_path)
    assert result.exit_code == 0, result.text
    (row,) = document["cases"][0]["outputs"]
    assert row["name"] == "lr" and row["shape"] == [12]
    spec = copy_config(STEP_LR, {"  init: {step_size: 3, gamma: 0.5}\nmindspore": "  init: {step_size: 3, gamma: 0.4}\nmindspore"})
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 1, result.text
    (case,) = document["cases"]
    assert case["schedule"]["first_divergent"]["step"] == 3  # the first decay
    assert "the learning rates differ from step 3" in case["message"]


def test_a_plateau_schedule_follows_the_metrics(cli, tmp_path):
    from conftest import CONFIGS

    text = (CONFIGS / "lr_scheduler/ReduceLROnPlateau.yaml").read_text()
    spec = tmp_path / "plateau.yaml"
    spec.write_text(text)
    result, document = run(cli, spec, tmp_path, "-k", "cooldown=0")
    assert result.exit_code == 0, result.text
    rates = document["cases"][0]["schedule"]
    assert rates["metrics"][0] == 1.0
    # metrics that never plateau keep the rate: a different sequence, so the metrics really reach step()
    spec.write_text(text.replace("metrics: [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]",
                                 "metrics: [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01]"))
    from eqcheck.backends.torch_eager import TorchEagerBackend
    import torch

    backend = TorchEagerBackend()
    backend.activate()
    falling = backend.learning_rates(torch.optim.lr_scheduler.ReduceLROnPlateau, {"factor": 0.5, "patience": 2, "threshold": 0.01},
                                     14, 0.1, tuple(1.0 - 0.07 * i for i in range(13)))
    flat = backend.learning_rates(torch.optim.lr_scheduler.ReduceLROnPlateau, {"factor": 0.5, "patience": 2, "threshold": 0.01},
                                  14, 0.1, (1.0,) * 13)
    assert falling == [0.1] * 14 and flat[-1] < 0.1


@pytest.mark.parametrize("config, edit, message", [
    (SGD, ("kind: optimizer\n", ""), "field 'optimizer': this section belongs to specs of kind: optimizer"),
    (SGD, ("optimizer:\n  steps: 3\n", "optimizer:\n  stepz: 3\n"), "unknown key 'stepz'"),
    (SGD, ("steps: 3\n", "steps: 0\n"), "field 'optimizer.steps': must be between 1 and 1000"),
    (SGD, ("state: {momentum_buffer: accum}", "state: {momentum_buffer: 3}"), "field 'optimizer.state.momentum_buffer'"),
    (SGD, ("optimizer:\n  steps: 3\n  state: {momentum_buffer: accum}\n", ""), "a spec of kind: optimizer needs this section"),
    (SGD, ("kind: optimizer\n", "kind: optimiser\n"), "field 'kind': must be one of"),
    (STEP_LR, ("schedule:\n  steps: 12\n  lr: 0.1\n", "schedule: {steps: 12}\n"), "field 'schedule.lr'"),
    (STEP_LR, ("schedule:\n  steps: 12\n  lr: 0.1\n", "schedule: {steps: 12, lr: -1}\n"), "must be positive"),
    (STEP_LR, ("schedule:\n  steps: 12\n  lr: 0.1\n", "schedule: {steps: 3, lr: 0.1, metrics: [1, 2, 3]}\n"), "3 steps need 2 values, got 3"),
    (STEP_LR, ("kind: schedule\n", ""), "inputs"),
])
def test_a_bad_optimizer_or_schedule_section_is_one_paragraph_exit_2(cli, copy_config, config, edit, message):
    result = cli("validate", copy_config(config, {edit[0]: edit[1]}))
    assert result.exit_code == 2 and message in result.text, result.text
    assert "Traceback" not in result.text


def test_a_list_argument_reaches_the_op_as_a_list(cli, copy_config, tmp_path):
    # MindSpore's MultiStepLR refuses a tuple of milestones: {list: [..]} is what makes the spec run at all.
    result, document = run(cli, copy_config("lr_scheduler/MultiStepLR.yaml"), tmp_path)
    assert result.exit_code == 0, result.text
    text = (tmp_path / "MultiStepLR.yaml").read_text()
    assert text.count("milestones: {list: [3, 7]}") == 2
    (tmp_path / "MultiStepLR.yaml").write_text(text.replace("milestones: {list: [3, 7]}", "milestones: [3, 7]"))
    result, document = run(cli, tmp_path / "MultiStepLR.yaml", tmp_path)
    assert result.exit_code == 1 and "'milestones' should be 'list', but got type 'tuple'" in document["cases"][0]["message"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("milestones: {list: [3, 7]}", "milestones: {list: 3}", 1))
    result = cli("validate", bad)
    assert result.exit_code == 2 and "field 'torch.init.milestones.list'" in result.text, result.text


def test_a_property_is_read_from_the_input_and_still_judged_by_the_allowlist(cli, tmp_path, write_spec):
    from conftest import CONFIGS

    result, document = run(cli, CONFIGS / "tensor/T.property.yaml", tmp_path)
    assert result.exit_code == 0, result.text
    (case,) = document["cases"]
    assert [o["shape"] for o in case["outputs"]] == [[8, 6], [6, 8]]  # the transpose, and its gradient
    spec = write_spec("""
        name: leak
        inputs: [{name: x, shape: [2]}]
        torch: {op: torch.Tensor.T}
        mindspore: {op: mindspore.Tensor.T.fget.__globals__}
    """)
    result = cli("run", spec)
    assert result.exit_code == 2 and "Traceback" not in result.text, result.text
