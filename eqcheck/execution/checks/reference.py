"""--reference float64: each side re-runs the case in float64 on the same values; every forward output's
deviation is attributed (distance from the reference, own float32 error, the outlier). The rule is attribution.py's."""

from __future__ import annotations

import dataclasses

import numpy as np

from eqcheck.cases import weights
from eqcheck.verdict import attribution
from eqcheck.cases.sweep import Case
from eqcheck.dtypes import is_float
from eqcheck.verdict.results import CaseResult
from eqcheck.execution.failures import CaseFailure
from eqcheck.backends.targets import Target


def attribute_to_float64(runner, case: Case, result: CaseResult, seed: int, weight_map: weights.WeightMap, canonical, inputs, flat) -> None:
    """--reference float64: re-run each side in float64 on the same values; attribute every output's deviation."""
    case64 = dataclasses.replace(case, dtype="float64")
    runs, status = {}, {}
    for t in runner.targets:
        try:
            runs[t.label] = float64_run(runner, t, case, case64, seed, weight_map, canonical, inputs)
            status[t.label] = "ok"
        except CaseFailure as failure:
            status[t.label] = failure.message
            runner.backends[t.label].recover()
    if runs and any(len(r) != len(flat[runner.targets[0].label]) for r in runs.values()):
        runs = {}
    genuine = [label for label, r in runs.items() if all(a.dtype == np.float64 for _, a in r if np.issubdtype(a.dtype, np.floating))]
    ordered = [t.label for t in runner.targets if t.framework == "torch" and t.label in genuine] + genuine
    record = {"dtype": "float64", "float64_runs": status, "reference": ordered[0] if ordered else None,
              "k": attribution.NOISE_K}
    result.details["reference"] = record
    if not ordered:
        record["message"] = "no side could run this case in float64: no attribution"
        return
    ref_label = ordered[0]
    labels = [t.label for t in runner.targets]
    for i, out in enumerate(result.outputs):
        if out.kind != "output" or out.deviation is None or not np.issubdtype(flat[labels[0]][i][1].dtype, np.floating):
            continue
        dev = out.deviation
        out.attribution = attribution.attribute(
            dev.max_abs, dev.passed, dev.nonfinite_mismatch,
            {label: flat[label][i][1] for label in labels}, ref_label, runs[ref_label][i][1],
            # a "float64" run that returns another dtype computed in that dtype: it measures no own error
            {label: runs[label][i][1] if label in runs and runs[label][i][1].dtype == np.float64 else None for label in labels},
            case.dtype,
        )

def float64_run(runner, t: Target, case: Case, case64: Case, seed: int, weight_map: weights.WeightMap, canonical, inputs):
    backend = runner.backends[t.label]
    built = runner.step(t, case64, "build in float64", lambda: runner.build(t, case64, seed))
    params64 = backend.parameters(built)
    up = {n: a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a for n, a in canonical.items()}
    side = {n: a.astype(params64[n].default.dtype, copy=False) for n, a in weight_map.to_side(t.framework, up).items()}
    runner.step(t, case64, "load float64 weights", lambda: backend.load(built, side))
    runner.verify_loaded(t, backend.read(built), side)  # a float64 run on anything but the shared values is no reference
    tensors = {}
    for inp in case.spec.inputs:
        array, dtype = inputs[inp.name], case64.input_dtype(inp, t.framework)
        tensors[inp.name] = backend.tensor(array.astype(np.float64) if is_float(dtype) else array, dtype)
    args, kwargs = runner.pack(case64, t, tensors)
    raw = runner.step(t, case64, "run in float64", lambda: backend.call(built, args, kwargs))
    return runner.step(t, case64, "run in float64", lambda: runner.flatten(backend, raw, t.label))
