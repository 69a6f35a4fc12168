"""Fuzz `eqcheck run` itself: generated specs of cheap ops that validate run to a report with exit 0, 1 or 2 --
never a traceback, never an exception escaping the CLI -- and every report written validates against the schema.

Specs start from a few small pairs (Linear with a `$expr` weight init, LeakyReLU, std, atan2, Softmax, cumsum)
and get 0-2 mutations: values swapped for small numbers, expressions and distributions, keys renamed to other
spec or keyword names, ops swapped between the pairs; runs get random flags (--grad, --dtype, --no-error-budget,
--strict-precision, --reference float64). Inputs stay small so each run costs tens of milliseconds in-process.
EQCHECK_FUZZ_RUN_EXAMPLES raises the count (default 30); the closing test prints how many runs were made.
"""

from __future__ import annotations

import copy
import os

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import read_json
from test_fuzz_spec_loader import _paths
from eqcheck.cases import load_spec
from eqcheck.cases.sweep import expand
from eqcheck.errors import SpecError
from eqcheck.report import schema

pytestmark = pytest.mark.frameworks

EXAMPLES = int(os.environ.get("EQCHECK_FUZZ_RUN_EXAMPLES", "30"))
MAX_ELEMENTS = 1 << 14  # per input, so a generated run stays cheap
COUNT = {"runs": 0, "ran_cases": 0, "exit": {0: 0, 1: 0, 2: 0}}
FUZZ_RUN = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])

BASES = [
    {"name": "fz.linear", "params": {"in_features": 6, "out_features": 4}, "sweep": {"bias": [True, False]},
     "inputs": [{"name": "input", "shape": [3, "in_features"], "mindspore": "x"}],
     "torch": {"op": "torch.nn.Linear", "init": {"in_features": "$in_features", "out_features": "$out_features", "bias": "$bias"}},
     "mindspore": {"op": "mindspore.nn.Dense", "init": {"in_channels": "$in_features", "out_channels": "$out_features", "has_bias": "$bias"}},
     "weights": {"weight": {"init": {"uniform": {"low": "$-in_features**-0.5", "high": "$in_features**-0.5"}}}}},
    {"name": "fz.leaky", "sweep": {"slope": [0.01, 0.2]}, "inputs": [{"name": "input", "shape": [4, 5], "mindspore": "x"}],
     "torch": {"op": "torch.nn.LeakyReLU", "init": {"negative_slope": "$slope"}},
     "mindspore": {"op": "mindspore.nn.LeakyReLU", "init": {"alpha": "$slope"}}},
    {"name": "fz.std", "sweep": {"correction": [0, 1]}, "inputs": [{"name": "input", "shape": [3, 7]}],
     "torch": {"op": "torch.std", "call": {"dim": -1, "correction": "$correction"}},
     "mindspore": {"op": "mindspore.ops.std", "call": {"axis": -1, "ddof": "$correction"}}},
    {"name": "fz.atan2", "inputs": [{"name": "input", "shape": [5]}, {"name": "other", "shape": [5], "distribution": {"positive": {}}}],
     "torch": {"op": "torch.atan2"}, "mindspore": {"op": "mindspore.ops.atan2"}},
    {"name": "fz.softmax", "params": {"dim": -1}, "inputs": [{"name": "input", "shape": [2, 3, 4], "mindspore": "x"}],
     "torch": {"op": "torch.nn.Softmax", "init": {"dim": "$dim"}}, "mindspore": {"op": "mindspore.nn.Softmax", "init": {"axis": "$dim"}}},
    {"name": "fz.cumsum", "inputs": [{"name": "input", "shape": [2, 64], "distribution": {"uniform": {"low": 0.0, "high": 1.0}}}],
     "torch": {"op": "torch.cumsum", "call": {"dim": -1}}, "mindspore": {"op": "mindspore.ops.cumsum", "call": {"axis": -1}}},
]


def _keys(node, out: set) -> set:
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            _keys(value, out)
    elif isinstance(node, list):
        for item in node:
            _keys(item, out)
    return out


KEYS = sorted(_keys(BASES, set()) | {"axes", "keepdim", "tolerance", "grad", "reference", "trials", "mode", "outputs",
                                      "expected_difference", "dtypes", "args", "keyword", "transform"})
OPS = sorted({b[fw]["op"] for b in BASES for fw in ("torch", "mindspore")} | {"torch.nn.GRUCell", "mindspore.ops.sum", "torch.sum",
             "mindspore.Tensor.offload", "torch.PyTorchFileWriter", "torch.set_default_tensor_type"})  # #32: refused
VALUES = st.one_of(
    st.integers(-2, 9), st.sampled_from([0.0, 0.5, -1.5, 1e-3, True, False, None, "float16", "float64", "train", "eval"]),
    st.sampled_from(["$in_features", "$2*in_features", "$-1", "$dtype", "$in_features**-0.5", "$1/0", "$slope * 2",
                     "$correction + 1", "$dim", "$unknown", "$", "$(", "$[1, 2]", "$2**20"]),
    st.sampled_from([{"normal": {"mean": 0.0, "std": "$-1"}}, {"uniform": {"low": 1.0, "high": 0.0}}, {"integers": {"low": 0, "high": 3}},
                     {"constant": 0.0}, {"normal": {"mean": "$slope", "std": 2.0}}, {"positive": {}}, "normal"]),
    st.lists(st.integers(-1, 6), max_size=4), st.sampled_from(OPS), st.sampled_from(KEYS),
).map(copy.deepcopy)  # later mutations must not edit the pool's own dicts
FLAGS = st.lists(st.sampled_from([("--grad",), ("--dtype", "float16"), ("--dtype", "float64"), ("--no-error-budget",),
                                  ("--strict-precision",), ("--reference", "float64"), ("--seed", "7"),
                                  # #32: options and paths refused as input, before any case runs
                                  ("--seed", "-1"), ("--timeout", "nan"), ("--timeout", "1e308"), ("--junit", "/dev/full"),
                                  ("--html", "/dev/null/x.html")]), max_size=3, unique=True)


@st.composite
def specs(draw):
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from([p for p in _paths(doc) if p]))
        parent, last = doc, path[-1]
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["value", "value", "rename", "drop", "add"]))
        if action == "value":
            parent[last] = draw(VALUES)
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = parent.pop(last)
        elif action == "drop" and isinstance(parent, dict) and len(path) > 1:
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(VALUES)
    return doc


def _small(path) -> bool:
    """Does every case of this spec have small inputs (or does the spec not validate: then it exits 2 cheaply)?"""
    try:
        spec = load_spec(path)
        cases = expand(spec)
        return len(cases) <= 8 and all(
            max((int(__import__("math").prod(case.input_shape(i))) for i in range(len(spec.inputs))), default=0) <= MAX_ELEMENTS
            for case in cases)
    except SpecError:
        return True


@FUZZ_RUN
@given(doc=specs(), flags=FLAGS)
def test_generated_specs_run_to_a_report_never_a_traceback(cli, tmp_path_factory, doc, flags):
    folder = tmp_path_factory.mktemp("fuzz-run")
    spec = folder / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    assume(_small(spec))
    report = folder / "r.json"
    args = ["run", spec, "--json", report, "-q", *[a for flag in flags for a in flag]]
    result = cli(*args)
    COUNT["runs"] += 1
    COUNT["exit"][result.exit_code] = COUNT["exit"].get(result.exit_code, 0) + 1
    assert result.exit_code in (0, 1, 2), (doc, flags, result.exit_code, result.output, repr(result.exception))
    assert result.exception is None or isinstance(result.exception, SystemExit), (doc, flags, repr(result.exception))
    assert "Traceback" not in result.output, (doc, flags, result.output)
    if result.exit_code in (0, 1):
        document = read_json(report)
        COUNT["ran_cases"] += len(document["cases"])
        assert schema.errors(document) == [], (doc, flags)


def test_zz_generated_run_count():
    print(f"\nfuzz run: {COUNT['runs']} generated runs ({COUNT['ran_cases']} cases run), exit codes {COUNT['exit']}")
    assert COUNT["runs"] == 0 or COUNT["runs"] >= EXAMPLES // 2, COUNT  # assume() may discard a few large specs
