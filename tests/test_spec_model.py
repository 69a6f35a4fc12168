"""The spec layer without frameworks: safe expressions, case ids and sweeps, -k selection, layout transforms."""

from __future__ import annotations

import click
import numpy as np
import pytest

from eqcheck.cases.sweep import expand
from eqcheck.spec.layout import ReorderChunks, Reshape, Transpose, apply_all, invert_all
from eqcheck.cases.selection import compile_selection
from eqcheck.cases import load_spec
from eqcheck.spec import expressions
from eqcheck.cases.weights import auto_distribution


class TestExpressions:
    @pytest.mark.parametrize("text,value", [
        ("3*hidden", 96), ("1 - momentum", 0.9), ("hidden // 5", 6), ("not bias", False),
        ("approximate == 'tanh'", True), ("2 if bias else 3", 2), ("hidden > 16 and bias", True),
        ("-len(shape)", -3),
    ])
    def test_arithmetic_over_names(self, text, value):
        assert expressions.evaluate(text, {"hidden": 32, "momentum": 0.1, "bias": True, "approximate": "tanh",
                                           "shape": (2, 2, 5)}) == value

    @pytest.mark.parametrize("text", [
        "__import__('os').system('true')", "hidden.real", "[1, 2]", "lambda: 1", "open('x')", "(1).bit_length()",
        "len('ab')", "len(hidden, hidden)", "print(hidden)", "len(hidden)", "len(x=hidden)",
    ])
    def test_anything_but_arithmetic_is_refused(self, text):
        with pytest.raises(expressions.ExpressionError):
            expressions.evaluate(text, {"hidden": 1})

    def test_huge_powers_are_refused_before_computing(self):
        with pytest.raises(expressions.ExpressionError, match="power above"):
            expressions.evaluate("10 ** 10 ** 10", {})

    def test_undefined_names_list_what_is_defined(self):
        with pytest.raises(expressions.ExpressionError, match=r"'hiden', which is not defined \(defined: hidden\)"):
            expressions.evaluate("hiden", {"hidden": 1})


class TestCases:
    SPEC = """
name: demo.op
params: {hidden: $2 * width}
sweep: {width: [4, 8], flag: [true, false]}
dtypes: [float32, float64]
inputs: [{name: x, shape: [width, hidden]}]
torch: {op: torch.relu}
mindspore: {op: mindspore.ops.relu}
"""

    def test_grid_times_dtypes_in_declared_order_with_readable_ids(self, write_spec):
        ids = [c.id for c in expand(load_spec(write_spec(self.SPEC)))]
        assert ids[:3] == ["demo.op[width=4,flag=True,float32]", "demo.op[width=4,flag=True,float64]", "demo.op[width=4,flag=False,float32]"]
        assert len(ids) == 8

    def test_params_may_use_sweep_values(self, write_spec):
        case = expand(load_spec(write_spec(self.SPEC)))[-1]
        assert case.input_shape(0) == (8, 16)

    def test_dtype_flag_replaces_the_specs_list(self, write_spec):
        assert {c.dtype for c in expand(load_spec(write_spec(self.SPEC)), ("float16",))} == {"float16"}


class TestSelection:
    IDS = ["nn.GRUCell[batch=1,float32]", "nn.LSTM[num_layers=2,float32]", "ops.std[dim=0,float64]"]

    @pytest.mark.parametrize("expr,selected", [
        ("gru or lstm", [0, 1]), ("GRU", [0]), ("not gru", [1, 2]), ("float32 and not (lstm or std)", [0]),
        ("num_layers=2", [1]),
    ])
    def test_words_match_substrings_case_insensitively(self, expr, selected):
        matches = compile_selection(expr)
        assert [i for i, case_id in enumerate(self.IDS) if matches(case_id)] == selected

    @pytest.mark.parametrize("expr", ["gru and", "(gru", "or lstm", ""])
    def test_malformed_expressions_are_usage_errors(self, expr):
        with pytest.raises(click.BadParameter):
            compile_selection(expr)


class TestLayout:
    def test_transforms_invert_exactly(self):
        array = np.arange(4 * 3 * 2, dtype=np.float32).reshape(12, 2)
        chain = (ReorderChunks(axis=0, order=(0, 2, 1, 3)), Transpose((1, 0)), Reshape((2, 2, 6), (2, 12)))
        moved = apply_all(chain, array)
        assert moved.shape == (2, 2, 6)
        np.testing.assert_array_equal(invert_all(chain, moved), array)

    def test_reorder_swaps_gate_blocks(self):
        gates = np.repeat(np.arange(4), 2)  # i i f f g g o o
        assert ReorderChunks(0, (0, 2, 1, 3)).apply(gates).tolist() == [0, 0, 2, 2, 1, 1, 3, 3]

    def test_wrong_rank_is_an_error(self):
        with pytest.raises(ValueError, match="needs a 2-d array"):
            Transpose((1, 0)).apply(np.zeros(3))


class TestAutoInit:
    def test_random_init_keeps_its_spread(self):
        default = np.random.default_rng(0).uniform(-0.25, 0.25, 10_000)
        dist = auto_distribution(default)
        assert dist.kind == "uniform"
        assert dist.args["low"] == pytest.approx(-0.25, abs=0.01) and dist.args["high"] == pytest.approx(0.25, abs=0.01)

    @pytest.mark.parametrize("constant,low,high", [(1.0, 0.5, 1.5), (0.0, -0.1, 0.1)])
    def test_constant_init_gets_a_spread_so_swaps_show(self, constant, low, high):
        dist = auto_distribution(np.full(8, constant))
        assert (dist.args["low"], dist.args["high"]) == (low, high)
