"""`mode: train` with `train:`: a few optimizer steps on both sides with the same data, every shared weight compared
under its canonical name after each step.

The loss is sum(output * cotangent) with the case's seeded cotangent (the same bytes on both sides, as for --grad);
each step reuses the case's inputs. Each framework builds its own optimizer (torch.optim.SGD/Adam,
mindspore.nn.SGD/Adam) from the spec's hyperparameters, every one passed explicitly (spec/model.py OPTIMIZERS).
Rows use the gradient tolerance: an update is a gradient scaled by the learning rate. Dropout draws from each
framework's own RNG and cannot match: train only models without active dropout.

Adam divides each gradient element by its own running scale, so an element whose gradient is at rounding-noise
level on both sides (|g| <= the gradient atol; its true value is zero: a convolution bias before BatchNorm, the
key bias of attention) gets a step of undetermined sign and full learning-rate size. Those elements are left out
of the parameter comparison from that step on and counted in the report (`training.noise_excluded`). What such a
parameter feeds still sees the noise: a convolution bias before BatchNorm shifts its running mean, so train such
models with SGD (or bias=False before BatchNorm, the usual choice).
"""

from __future__ import annotations

import numpy as np

from eqcheck.cases import draws
from eqcheck.execution.trial import Trial
from eqcheck.verdict.results import CaseResult


def compare_training(runner, trial: Trial, result: CaseResult) -> None:
    case, built, weight_map, loaded, inputs = trial.case, trial.built, trial.weight_map, trial.loaded, trial.inputs
    train = case.spec.train
    cotangents = draws.cotangents(case, trial.seed, trial.flat[runner.targets[0].label])
    optimizers, tensors = {}, {}
    for t in runner.targets:
        backend = runner.backends[t.label]
        backend.load(built[t.label], loaded[t.label])  # the forward in train mode moved the running statistics
        tensors[t.label] = {inp.name: backend.tensor(inputs[inp.name], case.input_dtype(inp, t.framework)) for inp in case.spec.inputs}
        optimizers[t.label] = runner.step(t, case, f"build {train.optimizer}",
                                          lambda: backend.optimizer(built[t.label], train.optimizer, train.args))
    a_label, b_label = (t.label for t in runner.targets)
    tolerance = case.grad_tolerance()
    rows, first, noisy = [], None, {}
    for step in range(1, train.steps + 1):
        canonical, grads = {}, {}
        for t in runner.targets:
            backend = runner.backends[t.label]
            step_grads = runner.step(t, case, f"train (step {step})", lambda: backend.train_step(
                built[t.label], optimizers[t.label], lambda ts, t=t: runner.pack(case, t, ts), tensors[t.label], cotangents))
            grads[t.label] = weight_map.to_canonical(t.framework, step_grads)
            canonical[t.label] = weight_map.to_canonical(t.framework, backend.read(built[t.label]))
        for w in weight_map.weights:
            if w.integer_default is not None:
                continue  # counters
            a, b = canonical[a_label][w.name], canonical[b_label][w.name]
            if train.optimizer == "adam" and w.name in grads[a_label] and w.name in grads[b_label]:
                mask = noisy.get(w.name, np.zeros(a.shape, bool)) | noise_level(grads[a_label][w.name], grads[b_label][w.name], tolerance)
                noisy[w.name] = mask
                b = np.where(mask, a, b)  # undetermined by the gradients: not compared
            row = runner.row(f"step{step}:{w.name}", "train", a, b, tolerance)
            rows.append((row, a, b))
            if first is None and not row.passed:
                first = {"step": step, "weight": w.name}
    runner.add_rows(result, rows)
    result.details["training"] = {"steps": train.steps, "optimizer": train.optimizer, "args": dict(train.args),
                                  "loss": "sum(output * cotangent), cotangent normal(0, 1) seeded per case",
                                  "tolerance": tolerance.as_dict(), "first_divergent": first,
                                  **({"noise_excluded": {n: int(m.sum()) for n, m in noisy.items() if m.any()}} if noisy else {})}


def noise_level(a: np.ndarray, b: np.ndarray, tolerance) -> np.ndarray:
    """Gradient elements at rounding-noise level on both sides: Adam turns their sign into a full step."""
    return np.maximum(np.abs(a.astype(np.float64)), np.abs(b.astype(np.float64))) <= tolerance.atol
