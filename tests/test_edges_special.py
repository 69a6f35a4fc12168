"""`special:` overlays exact NaN, infinities, -0.0, kinks, ties and masked slices on an input's draw (docs/edges.md)."""

from __future__ import annotations

import numpy as np
import pytest

from eqcheck.cases import load_spec
from eqcheck.cases.draws import make_inputs, round_to_bfloat16
from eqcheck.cases.sweep import expand

SPEC = """
name: relu_special
dtypes: [{dtype}]
inputs:
  - name: x
    shape: [8, 16]
    {special}
  - name: other
    shape: [3]
torch: {{op: torch.add}}
mindspore: {{op: mindspore.ops.add}}
"""
FULL = ("special: {nan: 0.05, posinf: 0.02, neginf: 0.02, negzero: 0.1, values: {at: [0, 1, -1, 6], fraction: 0.2}, "
        "ties: 0.3, masked_slices: {axis: -1, fraction: 0.25, value: -inf}}")


def inputs(write_spec, special: str, dtype: str = "float32", seed: int = 7) -> dict[str, np.ndarray]:
    case = expand(load_spec(write_spec(SPEC.format(special=special, dtype=dtype))))[0]
    return make_inputs(case, seed)


def test_each_special_value_lands_exactly_at_its_fraction(write_spec):
    x = inputs(write_spec, "special: {nan: 0.05, posinf: 0.02, neginf: 0.03, negzero: 0.1, values: {at: [6, -3], fraction: 0.2}}")["x"]
    n = x.size  # 128
    assert np.isnan(x).sum() == round(0.05 * n)
    assert (x == np.inf).sum() == round(0.02 * n)
    assert (x == -np.inf).sum() == round(0.03 * n)
    assert (np.signbit(x) & (x == 0)).sum() == round(0.1 * n)
    assert np.isin(x, [6.0, -3.0]).sum() == round(0.2 * n)


def test_masked_slices_fill_whole_rows_and_only_them(write_spec):
    x = inputs(write_spec, "special: {masked_slices: {axis: -1, fraction: 0.25}}")["x"]
    masked_rows = np.all(x == -np.inf, axis=-1)
    assert masked_rows.sum() == 2  # a quarter of 8 rows
    assert np.isfinite(x[~masked_rows]).all()
    columns = inputs(write_spec, "special: {masked_slices: {axis: 0, fraction: 0.5, value: nan}}")["x"]
    assert np.all(np.isnan(columns), axis=0).sum() == 8 and np.isnan(columns).sum() == 8 * 8


def test_ties_share_values_and_include_the_maximum(write_spec):
    plain = inputs(write_spec, "")["x"]
    x = inputs(write_spec, "special: {ties: 0.3}")["x"]
    assert len(np.unique(plain)) == plain.size
    _, counts = np.unique(x, return_counts=True)
    assert counts.max() >= 4 and (x == x.max()).sum() > 1


def test_overlay_is_seeded_and_leaves_other_inputs_alone(write_spec):
    first, again = inputs(write_spec, FULL), inputs(write_spec, FULL)
    assert first["x"].tobytes() == again["x"].tobytes()
    assert inputs(write_spec, FULL, seed=8)["x"].tobytes() != first["x"].tobytes()
    assert first["other"].tobytes() == inputs(write_spec, "")["other"].tobytes()


def test_bfloat16_values_stay_on_the_bfloat16_grid(write_spec):
    x = inputs(write_spec, "special: {values: {at: [0.1, 6], fraction: 0.5}, negzero: 0.1}", dtype="bfloat16")["x"]
    assert x.tobytes() == round_to_bfloat16(x).tobytes()
    assert np.isin(x, [round_to_bfloat16(np.float32([0.1]))[0], 6.0]).sum() == 64


@pytest.mark.parametrize("special, phrases", [
    ("special: {nann: 0.1}", ["inputs[0].special.nann", "did you mean 'nan'"]),
    ("special: {nan: 1.5}", ["inputs[0].special.nan", "between 0 and 1"]),
    ("special: {nan: 0.6, posinf: 0.6}", ["inputs[0].special", "more than 1"]),
    ("special: {values: {at: [], fraction: 0.1}}", ["inputs[0].special.values.at", "at least one value"]),
    ("special: {values: {at: [0, one], fraction: 0.1}}", ["inputs[0].special.values.at[1]", "expected a number"]),
    ("special: {masked_slices: {fraction: 0.1}}", ["inputs[0].special.masked_slices.axis", "required"]),
    ("special: {masked_slices: {axis: 2, fraction: 0.1}}", ["masked_slices.axis", "outside the input's 2 dimensions"]),
    ("special: {}", ["inputs[0].special", "at least one of"]),
    ("dtype: int64\n    distribution: {integers: {high: 5}}\n    special: {nan: 0.1}", ["inputs[0].special", "int64 input cannot hold"]),
])
def test_bad_overlay_is_exit_2_naming_the_field(cli, write_spec, special, phrases):
    result = cli("validate", write_spec(SPEC.format(special=special, dtype="float32")))
    assert result.exit_code == 2, result.text
    for phrase in phrases:
        assert phrase in result.text
    assert "Traceback" not in result.text


def test_both_sides_receive_the_same_special_values(cli, write_spec, tmp_path):
    """Identity on both sides: any NaN/Inf/-0.0 the overlay places comes back identically, so the case passes."""
    spec = write_spec(SPEC.format(special=FULL, dtype="float32").replace("torch.add", "torch.clone")
                      .replace("mindspore.ops.add", "mindspore.ops.deepcopy").replace("  - name: other\n    shape: [3]\n", ""))
    result = cli("run", spec, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.text
