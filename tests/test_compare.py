"""compare(): deviation metrics and the pass/fail verdict between a reference and a candidate output."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eqcheck.verdict import compare as compare_module
from eqcheck.verdict.compare import Deviation, compare, within_tolerance
from eqcheck.dtypes import DEFAULT_TOLERANCES, Tolerance

F32 = DEFAULT_TOLERANCES["float32"]
TIGHT = Tolerance(rtol=1e-6, atol=1e-6)


def f64(*values):
    return np.array(values, dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# agreement and the basic failure


def test_identical_arrays_pass_with_zero_metrics():
    a = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    dev = compare(a, a.copy(), F32)
    assert dev.passed and dev.reason is None
    assert (dev.max_abs, dev.mean_abs, dev.max_rel, dev.mean_rel, dev.rms) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert dev.mismatched == 0 and dev.nonfinite_mismatch == 0 and dev.mismatched_fraction == 0.0
    assert dev.cosine == pytest.approx(1.0, abs=1e-15)
    assert dev.shape == (2, 3, 4) and dev.size == 24 and dev.dtypes == ("float32", "float32")
    assert dev.tolerance == F32


def test_one_element_off_fails_and_is_located_in_a_multidim_array():
    r = np.ones((3, 4, 5))
    c = r.copy()
    c[2, 1, 3] = 1.5  # far beyond 1e-6 + 1e-6 * 1.5
    c[0, 0, 0] = 1.0 + 1e-9  # inside the tolerance: a smaller deviation, not the worst
    dev = compare(r, c, TIGHT)
    assert not dev.passed
    assert dev.mismatched == 1 and dev.size == 60
    assert dev.mismatched_fraction == pytest.approx(1 / 60)
    assert dev.worst_index == (2, 1, 3)
    assert dev.worst_values == (1.0, 1.5)
    assert dev.max_abs == 0.5
    assert dev.reason == "1 of 60 elements (1.67%) exceeds atol+rtol*max(|r|,|c|)"


def test_reason_counts_several_mismatches_with_a_percentage():
    r = np.zeros(2048)
    c = r.copy()
    c[[5, 700, 2047]] = 1.0
    dev = compare(r, c, TIGHT)
    assert dev.mismatched == 3
    assert dev.reason == "3 of 2048 elements (0.15%) exceed atol+rtol*max(|r|,|c|)"


def test_worst_is_the_first_of_equal_largest_deviations():
    r = np.zeros(10)
    c = r.copy()
    c[3] = c[7] = 2.0
    assert compare(r, c, TIGHT, chunk_size=4).worst_index == (3,)


# --------------------------------------------------------------------------------------------------
# the rule: |r - c| <= atol + rtol * max(|r|, |c|)

# dyadic numbers, so the boundary is exact in binary: atol + rtol * 1 = 1/64 + 1/16 = 5/64
BOUNDARY_TOL = Tolerance(rtol=2.0**-4, atol=2.0**-6)


def test_exactly_on_the_boundary_passes():
    dev = compare(f64(1.0), f64(1.0 - 5 / 64), BOUNDARY_TOL)
    assert dev.passed and dev.max_abs == 5 / 64


def test_one_ulp_beyond_the_boundary_fails():
    dev = compare(f64(1.0), f64(np.nextafter(1.0 - 5 / 64, 0.0)), BOUNDARY_TOL)
    assert not dev.passed and dev.mismatched == 1


def test_the_relative_term_scales_with_the_larger_magnitude_so_the_rule_is_symmetric():
    # |r - c| = 0.1; rtol * |r| = 0.1 * 0.95 = 0.095 (fails if r were trusted), rtol * |c| = 0.105
    tol = Tolerance(rtol=0.1, atol=0.0)
    r, c = f64(0.95), f64(1.05)
    assert compare(r, c, tol).passed
    assert compare(c, r, tol).passed
    assert within_tolerance(r, c, tol).tolist() == within_tolerance(c, r, tol).tolist() == [True]


def test_zero_tolerance_means_exact_equality_for_floats():
    exact = Tolerance(rtol=0.0, atol=0.0)
    assert compare(f64(0.1, -0.0), f64(0.1, 0.0), exact).passed
    assert not compare(f64(0.1), f64(np.nextafter(0.1, 1.0)), exact).passed


def test_within_tolerance_is_elementwise_and_agrees_with_compare():
    r = f64(1.0, 1.0, 0.0, np.nan, np.nan, np.inf, np.inf, np.inf, 2.0)
    c = f64(1.0, 1.1, 1e-7, np.nan, 0.0, np.inf, -np.inf, 5.0, 2.0 + 4e-6)
    ok = within_tolerance(r, c, TIGHT)
    assert ok.tolist() == [True, False, True, True, False, True, False, False, False]
    assert compare(r, c, TIGHT).mismatched == int(np.count_nonzero(~ok))


def test_a_chunk_within_atol_and_a_chunk_within_rtol_both_pass_without_false_alarms():
    # every chunk of 4 takes a different shortcut: |d| <= atol, rel <= rtol, and neither
    r = f64(1, 1, 1, 1, 100, 200, 300, 400, 100, 100, 1, 1)
    c = r + f64(1e-7, 0, -1e-7, 0, 1e-4, 1e-4, 0, 0, 1e-4, 1e-3, 0, 0)
    tol = Tolerance(rtol=2e-6, atol=1e-6)
    dev = compare(r, c, tol, chunk_size=4)
    assert dev.mismatched == 1 and dev.worst_index == (9,)


# --------------------------------------------------------------------------------------------------
# relative error definition


def test_relative_error_is_symmetric_zero_for_two_zeros_and_bounded_by_two():
    r = f64(0.0, 1.0, 1.0, 3.0)
    c = f64(0.0, -1.0, 2.0, 1.0)
    dev = compare(r, c, TIGHT)
    # rel = |r - c| / max(|r|, |c|): 0 (both zero), 2/1 (sign flip: the bound), 1/2, 2/3
    assert dev.max_rel == 2.0
    assert dev.mean_rel == pytest.approx((0 + 2 + 0.5 + 2 / 3) / 4)
    swapped = compare(c, r, TIGHT)
    assert (swapped.max_rel, swapped.mean_rel) == (dev.max_rel, dev.mean_rel)


def test_relative_error_against_zero_is_one():
    assert compare(f64(0.0), f64(1e-30), TIGHT).max_rel == 1.0


# --------------------------------------------------------------------------------------------------
# NaN and Inf


def test_nan_on_one_side_only_fails():
    dev = compare(f64(1.0, np.nan, 3.0), f64(1.0, 2.0, 3.0), TIGHT)
    assert not dev.passed
    assert dev.mismatched == 1 and dev.nonfinite_mismatch == 1
    assert dev.worst_index == (1,)
    assert math.isnan(dev.worst_values[0]) and dev.worst_values[1] == 2.0
    assert dev.reason == "NaN/Inf pattern differs at 1 element"


def test_nan_on_both_sides_passes_and_metrics_cover_finite_elements_only():
    dev = compare(f64(1.0, np.nan, 3.0), f64(1.0, np.nan, 3.5), Tolerance(rtol=0.2, atol=0.0))
    assert dev.passed
    assert dev.max_abs == 0.5
    assert dev.mean_abs == pytest.approx(0.25)  # over the 2 finite pairs
    assert dev.worst_index == (2,)


def test_plus_inf_against_minus_inf_fails():
    dev = compare(f64(np.inf, 0.0), f64(-np.inf, 0.0), TIGHT)
    assert not dev.passed and dev.nonfinite_mismatch == 1
    assert dev.worst_values == (np.inf, -np.inf)


def test_same_signed_infinities_pass():
    assert compare(f64(np.inf, -np.inf, 1.0), f64(np.inf, -np.inf, 1.0), TIGHT).passed


def test_inf_against_a_finite_value_fails_even_with_a_huge_tolerance():
    assert not compare(f64(np.inf), f64(1e308), Tolerance(rtol=10.0, atol=1e308)).passed


def test_a_nonfinite_disagreement_is_the_worst_element_over_any_finite_one():
    r = f64(0.0, 0.0, 1.0, 0.0)
    c = f64(1e6, 0.0, np.nan, 0.0)
    dev = compare(r, c, TIGHT)
    assert dev.worst_index == (2,)
    assert dev.max_abs == 1e6
    assert dev.mismatched == 2 and dev.nonfinite_mismatch == 1
    assert dev.reason == (
        "NaN/Inf pattern differs at 1 element; 1 of 4 elements (25.00%) exceeds atol+rtol*max(|r|,|c|)"
    )


def test_agreeing_nans_are_never_reported_as_the_worst_element():
    dev = compare(f64(np.nan, 1.0, 2.0), f64(np.nan, 1.0, 2.0), TIGHT)
    assert dev.passed and dev.worst_index == (1,) and dev.worst_values == (1.0, 1.0)


def test_all_nan_on_both_sides_passes_with_zero_metrics():
    dev = compare(np.full((2, 2), np.nan), np.full((2, 2), np.nan), TIGHT)
    assert dev.passed and dev.max_abs == 0.0 and dev.rms == 0.0 and dev.cosine is None
    assert dev.worst_index is None


# --------------------------------------------------------------------------------------------------
# shapes, empties, integers, dtypes


def test_shape_mismatch_fails_with_both_shapes_named_and_does_not_raise():
    dev = compare(np.zeros((2, 3)), np.zeros((3, 2)), TIGHT)
    assert not dev.passed
    assert dev.reason == "shape (2, 3) vs (3, 2)"
    assert math.isnan(dev.max_abs) and math.isnan(dev.rms)
    assert dev.cosine is None and dev.worst_index is None and dev.worst_values is None
    assert dev.shape == (2, 3)


def test_empty_arrays_pass_with_zero_metrics():
    dev = compare(np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32), F32)
    assert dev.passed and dev.size == 0 and dev.mismatched == 0
    assert (dev.max_abs, dev.mean_abs, dev.max_rel, dev.rms) == (0.0, 0.0, 0.0, 0.0)
    assert dev.worst_index is None and dev.worst_values is None and dev.cosine is None
    assert dev.mismatched_fraction == 0.0


def test_scalar_arrays_compare():
    dev = compare(np.float64(2.0), np.float64(3.0), TIGHT)
    assert dev.shape == () and dev.worst_index == () and dev.worst_values == (2.0, 3.0)


def test_integers_must_be_exact_whatever_the_tolerance():
    r = np.arange(40, dtype=np.int64)
    c = r.copy()
    c[[1, 5, 9, 20, 39]] += 1
    dev = compare(r, c, Tolerance(rtol=1.0, atol=1e6))
    assert not dev.passed and dev.mismatched == 5
    assert dev.reason == "integer values differ at 5 of 40 elements"
    assert dev.max_abs == 1.0 and dev.worst_index == (1,)


def test_int64_and_int32_with_equal_values_pass():
    r = np.arange(-5, 5, dtype=np.int64).reshape(2, 5)
    dev = compare(r, r.astype(np.int32), Tolerance(rtol=0.0, atol=0.0))
    assert dev.passed and dev.dtypes == ("int64", "int32")


def test_bool_outputs_are_exact():
    r = np.array([True, False, True])
    assert compare(r, r.copy(), TIGHT).passed
    assert compare(r, ~r, TIGHT).mismatched == 3


def test_large_int64_values_are_compared_exactly_not_through_float64():
    big = 2**60
    dev = compare(np.array([big], np.int64), np.array([big + 1], np.int64), Tolerance(rtol=1.0, atol=1e9))
    assert not dev.passed  # float64 cannot tell 2**60 from 2**60 + 1, the integer rule can


def test_an_integer_side_against_a_float_side_uses_the_tolerance():
    assert compare(np.array([1, 2]), np.array([1.0, 2.0 + 1e-9]), TIGHT).passed


def test_float32_differences_are_measured_in_float64():
    one = np.float32(1.0)
    dev = compare(np.array([one]), np.array([np.nextafter(one, np.float32(2))]), F32)
    assert dev.max_abs == 2.0**-23
    assert dev.max_rel == 2.0**-23 / (1 + 2.0**-23)


def test_float16_inputs_widen_exactly():
    dev = compare(np.float16([1.0, 2.0]), np.float16([1.0, 2.001953125]), DEFAULT_TOLERANCES["float16"])
    assert dev.max_abs == 2.0**-9 and dev.dtypes == ("float16", "float16")


def test_unsupported_dtypes_raise_type_error():
    with pytest.raises(TypeError, match="complex128"):
        compare(np.zeros(2, complex), np.zeros(2, complex), TIGHT)


@pytest.mark.parametrize("chunk", [1, 5, 9, 20, 60, 1 << 20])  # steps shorter than a row, whole rows, everything
def test_strided_inputs_give_the_same_result_as_contiguous_copies(chunk):
    rng = np.random.default_rng(3)
    r = rng.standard_normal((7, 9, 4))
    c = r + 1e-3 * rng.standard_normal((7, 9, 4))
    c[3, 1, 2] = np.nan
    want = compare(np.ascontiguousarray(r.transpose(1, 0, 2)), np.ascontiguousarray(c.transpose(1, 0, 2)), TIGHT)
    for rr, cc in [
        (r.transpose(1, 0, 2), c.transpose(1, 0, 2)),  # both strided
        (r.transpose(1, 0, 2), np.ascontiguousarray(c.transpose(1, 0, 2))),  # one side strided
    ]:
        got = compare(rr, cc, TIGHT, chunk_size=chunk)
        assert _close(got, want)
    sliced = compare(r[:, ::2], c[:, ::2], TIGHT, chunk_size=chunk)
    assert _close(sliced, compare(r[:, ::2].copy(), c[:, ::2].copy(), TIGHT))


def _close(a: Deviation, b: Deviation) -> bool:
    da, db = a.as_dict(), b.as_dict()
    for key in ("mean_abs", "mean_rel", "rms", "cosine"):
        assert da.pop(key) == pytest.approx(db.pop(key), rel=1e-12), key
    assert da == db
    return True


# --------------------------------------------------------------------------------------------------
# cosine


def test_cosine_is_none_when_either_side_is_all_zeros():
    assert compare(np.zeros(4), np.ones(4), TIGHT).cosine is None
    assert compare(np.ones(4), np.zeros(4), TIGHT).cosine is None


def test_cosine_misses_a_scale_error_that_the_verdict_catches():
    x = np.linspace(-1.0, 2.0, 50)
    dev = compare(x, 2 * x, TIGHT)
    assert dev.cosine == pytest.approx(1.0, abs=1e-12)
    assert not dev.passed and dev.max_rel == pytest.approx(0.5)


def test_cosine_of_opposite_arrays_is_minus_one():
    x = np.arange(1.0, 6.0)
    assert compare(x, -x, TIGHT).cosine == pytest.approx(-1.0, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# chunking


@pytest.mark.parametrize("size", [1, 7, 8, 9, 15, 16, 17, 33])
def test_results_do_not_depend_on_chunk_boundaries(size):
    rng = np.random.default_rng(size)
    r = rng.standard_normal(size)
    c = r + rng.choice([0.0, 1e-9, 1e-3], size=size)
    c[size // 2] = np.nan if size > 2 else c[size // 2]
    c[-1] += 0.5  # the worst element sits on the last chunk's edge
    whole = compare(r, c, TIGHT, chunk_size=1 << 20)
    for chunk in (1, 3, 8):
        split = compare(r, c, TIGHT, chunk_size=chunk)
        for field in ("max_abs", "max_rel", "mismatched", "nonfinite_mismatch", "worst_index", "worst_values"):
            np.testing.assert_equal(getattr(split, field), getattr(whole, field), err_msg=f"{chunk} {field}")
        for field in ("mean_abs", "mean_rel", "rms", "cosine"):
            assert getattr(split, field) == pytest.approx(getattr(whole, field), rel=1e-12), (chunk, field)


def test_module_chunk_size_is_the_default(monkeypatch):
    r = np.zeros(10)
    c = r.copy()
    c[9] = 1.0
    monkeypatch.setattr(compare_module, "CHUNK_SIZE", 4)
    assert compare(r, c, TIGHT).worst_index == (9,)


def test_extra_memory_stays_small_for_a_large_input():
    n = 2**22
    r = np.linspace(-1, 1, n, dtype=np.float32)
    c = r + np.float32(1e-7)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        compare(r, c, F32)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < 8 * 2**20  # a full-size float64 temporary alone would be 32 MiB


# --------------------------------------------------------------------------------------------------
# serialization


def test_as_dict_is_strict_json_even_with_nan_metrics():
    shape_fail = compare(np.zeros((2, 3)), np.zeros(6), TIGHT).as_dict()
    text = json.dumps(shape_fail, allow_nan=False)
    assert json.loads(text)["max_abs"] == "nan"
    assert shape_fail["shape"] == [2, 3] and shape_fail["passed"] is False

    nan_fail = compare(f64(np.inf, 1.0), f64(np.nan, 1.0), TIGHT).as_dict()
    json.dumps(nan_fail, allow_nan=False)
    assert nan_fail["worst_values"] == ["inf", "nan"]
    assert nan_fail["worst_index"] == [0]
    assert nan_fail["tolerance"] == {"rtol": 1e-6, "atol": 1e-6}
    assert nan_fail["mismatched_fraction"] == 0.5
    assert nan_fail["reason"] == "NaN/Inf pattern differs at 1 element"


def test_as_dict_holds_only_python_types():
    d = compare(np.arange(4, dtype=np.int32), np.arange(4, dtype=np.int32), TIGHT).as_dict()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        else:
            assert v is None or type(v) in (bool, int, float, str), type(v)

    walk(d)
    assert set(d) >= {"max_abs", "cosine", "mismatched_fraction", "passed", "tolerance", "dtypes"}


def test_deviation_is_frozen():
    dev = compare(f64(1.0), f64(1.0), TIGHT)
    assert isinstance(dev, Deviation)
    with pytest.raises(AttributeError):
        dev.passed = False  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# property: chunked one-pass metrics == a naive full-array float64 implementation


def naive(r: np.ndarray, c: np.ndarray, tol: Tolerance) -> dict:
    """The definitions, written the obvious way on whole arrays."""
    exact = all(a.dtype.kind in "biu" for a in (r, c))
    r64 = r.astype(np.float64).ravel()
    c64 = c.astype(np.float64).ravel()
    fin = np.isfinite(r64) & np.isfinite(c64)
    same_pattern = (r64 == c64) | (np.isnan(r64) & np.isnan(c64))
    nonfinite_bad = ~fin & ~same_pattern
    rf, cf = r64[fin], c64[fin]
    d = np.abs(rf - cf)
    m = np.maximum(np.abs(rf), np.abs(cf))
    rel = np.zeros_like(d)
    np.divide(d, m, out=rel, where=m > 0)
    scale = float(m.max()) if m.size else 0.0
    if not exact and tol.atol > 0 and scale < 1:  # a row judged at its own scale
        tol = Tolerance(rtol=tol.rtol, atol=tol.atol * scale)
    if exact:
        finite_bad = int(np.count_nonzero(r.ravel() != c.ravel()))
    else:
        finite_bad = int(np.count_nonzero(d > tol.atol + tol.rtol * m))
    n = d.size
    out = {
        "max_abs": float(d.max()) if n else 0.0,
        "mean_abs": float(d.mean()) if n else 0.0,
        "max_rel": float(rel.max()) if n else 0.0,
        "mean_rel": float(rel.mean()) if n else 0.0,
        "rms": float(np.sqrt(np.mean(d * d))) if n else 0.0,
        "nonfinite_mismatch": int(np.count_nonzero(nonfinite_bad)),
        "mismatched": finite_bad + int(np.count_nonzero(nonfinite_bad)),
    }
    nr, nc = np.linalg.norm(rf), np.linalg.norm(cf)
    out["cosine"] = None if nr == 0 or nc == 0 else float(np.dot(rf, cf) / (nr * nc))
    if r64.size == 0:
        out["worst_index"] = None
    elif nonfinite_bad.any():
        out["worst_index"] = np.unravel_index(int(np.argmax(nonfinite_bad)), r.shape)
    elif finite_bad and not exact:  # the worst failing element: the largest |r-c| / bound, ties by |r-c|
        bound = tol.atol + tol.rtol * m
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(d > bound, d / bound, -1.0)
        key = np.full(r64.size, -1.0)
        key[fin] = np.where(factor == factor.max(), d, -1.0)
        out["worst_index"] = np.unravel_index(int(np.argmax(key)), r.shape)
    elif n:
        full = np.full(r64.size, -1.0)
        full[fin] = d
        out["worst_index"] = np.unravel_index(int(np.argmax(full)), r.shape)
    else:
        out["worst_index"] = None
    if out["worst_index"] is not None:
        out["worst_index"] = tuple(int(i) for i in out["worst_index"])
    out["passed"] = out["mismatched"] == 0
    return out


@st.composite
def array_pairs(draw):
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=0, max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["float16", "float32", "float64", "float32", "float64", "int32", "int64", "mixed"]))
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    if kind.startswith("int"):
        r = np.array(rng.integers(-50, 50, size=shape)).astype(kind)
        c = r.copy()
        flip = rng.random(shape) < draw(st.sampled_from([0.0, 0.1]))
        c[flip] += 1
        return r, c
    r = np.array(scale * rng.standard_normal(shape)).astype("float64" if kind == "mixed" else kind)
    noise = rng.choice([0.0, 1e-9, 1e-6, 1e-3, 1.0], size=shape) * rng.standard_normal(shape) * scale
    c = np.array(r.astype(np.float64) + noise).astype(r.dtype if kind != "mixed" else np.float32)
    # zeros on both sides, and NaN / +-Inf injections on either or both sides
    if n:
        for arr in (r, c):
            arr[rng.random(shape) < 0.05] = 0.0
        zero_both = rng.random(shape) < 0.05
        r[zero_both] = 0.0
        c[zero_both] = 0.0
        rate = draw(st.sampled_from([0.0, 0.1, 0.3]))
        for special in (np.nan, np.inf, -np.inf):
            both = rng.random(shape) < rate / 3
            r[both] = special
            c[both] = special
            c[rng.random(shape) < rate / 6] = special
            r[rng.random(shape) < rate / 6] = special
    return r, c


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pair=array_pairs(),
    chunk=st.integers(1, 40),
    tol=st.sampled_from([Tolerance(1e-6, 1e-6), Tolerance(1e-3, 1e-5), Tolerance(0.0, 0.0), Tolerance(0.5, 0.0)]),
)
def test_chunked_metrics_equal_a_naive_full_array_implementation(pair, chunk, tol):
    r, c = pair
    dev = compare(r, c, tol, chunk_size=chunk)
    want = naive(r, c, tol)
    assert dev.max_abs == want["max_abs"]
    assert dev.max_rel == want["max_rel"]
    assert dev.mean_abs == pytest.approx(want["mean_abs"], rel=1e-12, abs=1e-300)
    assert dev.mean_rel == pytest.approx(want["mean_rel"], rel=1e-12, abs=1e-300)
    assert dev.rms == pytest.approx(want["rms"], rel=1e-12, abs=1e-300)
    assert dev.mismatched == want["mismatched"]
    assert dev.nonfinite_mismatch == want["nonfinite_mismatch"]
    assert dev.worst_index == want["worst_index"]
    assert dev.passed == want["passed"]
    if want["cosine"] is None:
        assert dev.cosine is None
    else:
        assert dev.cosine == pytest.approx(want["cosine"], abs=1e-9)
    if not (r.dtype.kind in "iu" and c.dtype.kind in "iu"):
        assert dev.mismatched - dev.nonfinite_mismatch + dev.nonfinite_mismatch == int(
            np.count_nonzero(~within_tolerance(r, c, tol))
        )
    assert (dev.reason is None) == dev.passed
    json.dumps(dev.as_dict(), allow_nan=False)


def test_the_worst_element_is_the_worst_failing_one_and_the_absolute_worst_is_kept():
    # element 0 is 1e-3 apart but within rtol of 1000; element 1 is 1e-4 apart on ~0 and fails by ~10x its atol
    r = np.array([1000.0, 0.0], dtype=np.float32)
    c = np.array([1000.001, 1e-4], dtype=np.float32)
    dev = compare(r, c, Tolerance(rtol=1.3e-6, atol=1e-5))
    assert not dev.passed and dev.mismatched == 1
    assert dev.worst_index == (1,) and dev.worst_factor == pytest.approx(10.0, rel=1e-3)
    assert dev.max_abs_index == (0,) and dev.max_abs_values[0] == 1000.0
    record = dev.as_dict()
    assert record["worst_index"] == [1] and record["max_abs_index"] == [0]


def test_a_passing_row_reports_its_largest_difference_and_a_factor_below_one():
    r = np.array([1.0, 2.0], dtype=np.float32)
    dev = compare(r, r + np.float32(1e-6), Tolerance(rtol=1e-5, atol=1e-5))
    assert dev.passed and dev.worst_index == dev.max_abs_index and 0 < dev.worst_factor < 1


# --------------------------------------------------------------------------------------------------
# guards added from mutation testing (docs/mutation.md): each kills mutants that survived the tests above


def test_the_rule_is_evaluated_in_float64_even_for_float32_inputs():
    # atol just below 2**-23 rounds up to 2**-23 in float32 arithmetic, which would pass this pair
    tol = Tolerance(rtol=0.0, atol=float(np.nextafter(2.0**-23, 0.0)))
    r, c = np.array([1.0], np.float32), np.array([1.0 + 2.0**-23], np.float32)
    assert within_tolerance(r, c, tol).tolist() == [False]
    assert not compare(r, c, tol).passed


def test_the_rule_raises_no_floating_point_warnings(recwarn):
    r = f64(np.inf, -np.inf, np.nan, 1e308, 0.0)
    c = f64(np.inf, np.inf, 1.0, -1e308, 0.0)
    assert within_tolerance(r, c, TIGHT).tolist() == [True, False, False, False, True]
    compare(r, c, TIGHT)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("chunk", [1, 3, None])
def test_a_difference_that_overflows_float64_is_a_finite_mismatch(chunk):
    # both sides finite, |r - c| = inf: not a NaN/Inf pattern difference, and it fails whatever the tolerance
    r, c = f64(1.0, 1.5e308, 2.0), f64(1.0, -1.5e308, 2.0)
    dev = compare(r, c, Tolerance(rtol=1.0, atol=1.0), chunk_size=chunk)
    assert not dev.passed and dev.mismatched == 1 and dev.nonfinite_mismatch == 0
    assert dev.max_abs == math.inf and dev.worst_index == (1,) and dev.worst_values == (1.5e308, -1.5e308)
    assert dev.mean_abs == math.inf and dev.reason == "1 of 3 elements (33.33%) exceeds atol+rtol*max(|r|,|c|)"
    assert dev.max_rel == math.inf


def test_a_shape_mismatch_is_a_complete_failing_record():
    dev = compare(np.zeros((2, 3), np.float32), np.zeros(6, np.float64), TIGHT)
    assert dev.dtypes == ("float32", "float64")
    assert all(math.isnan(v) for v in (dev.max_abs, dev.mean_abs, dev.max_rel, dev.mean_rel, dev.rms))
    assert (dev.mismatched, dev.size, dev.nonfinite_mismatch) == (6, 6, 0)
    assert dev.tolerance == TIGHT and dev.mismatched_fraction == 1.0
    record = dev.as_dict()
    assert record["dtypes"] == ["float32", "float64"] and record["tolerance"] == {"rtol": 1e-6, "atol": 1e-6}


@pytest.mark.parametrize("size,percent", [(200, "0.50%"), (10_000, "0.01%"), (100_000, "0.001%"), (3, "33.33%")])
def test_the_mismatch_percentage_keeps_two_decimals_and_two_digits_below_that(size, percent):
    r = np.zeros(size)
    c = r.copy()
    c[-1] = 1.0
    assert compare(r, c, TIGHT).reason == f"1 of {size} elements ({percent}) exceeds atol+rtol*max(|r|,|c|)"


def test_as_dict_has_exactly_the_report_schemas_keys():
    # the JSON report (eqcheck/report/schema.json) names these keys; a renamed key breaks every consumer
    d = compare(f64(1.0, 2.0), f64(1.0, 2.5), TIGHT).as_dict()
    assert set(d) == {"shape", "dtypes", "max_abs", "mean_abs", "max_rel", "mean_rel", "rms", "cosine", "mismatched",
                      "mismatched_fraction", "size", "nonfinite_mismatch", "worst_index", "worst_values", "worst_factor",
                      "max_abs_index", "max_abs_values", "tolerance", "passed", "reason"}
    assert (d["max_rel"], d["mismatched"], d["size"], d["nonfinite_mismatch"]) == (0.2, 1, 2, 0)


def test_a_failing_chunk_with_an_exact_zero_still_fails_under_denormals_are_zero():
    # torch.set_flush_denormal (and native kernels that leave the CPU flag set) makes subnormals read as 0:
    # the relative error's 0/0 guard must still hold, or the chunk's NaN max_rel skips its mismatch count.
    torch = pytest.importorskip("torch")
    reference, candidate = f64(0.0, 1.0, 2.0), f64(0.0, 1.5, 2.0)
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    try:
        deviation = compare(reference, candidate, TIGHT)
    finally:
        torch.set_flush_denormal(False)
    assert not deviation.passed
    assert deviation.mismatched == 1
    assert deviation.max_rel == pytest.approx(1 / 3)
    assert deviation.mean_rel == pytest.approx(1 / 9)


def test_a_row_of_tiny_values_is_judged_at_its_own_scale():
    # gradients of 1e-9 at a realistic weight scale: a 57 % error sits far below atol 1e-5 yet must fail
    r = np.array([1e-9, -2e-9, 3e-9], np.float32)
    dev = compare(r, r * np.float32(1.57), Tolerance(rtol=1.3e-6, atol=1e-5))
    assert not dev.passed and dev.mismatched == 3
    assert dev.atol_scaled_from == 1e-5 and dev.tolerance.atol == pytest.approx(1e-5 * 3e-9 * 1.57, rel=1e-6)
    assert dev.as_dict()["atol_scaled_from"] == 1e-5
    # a row at scale >= 1 keeps the table's atol, and a tiny row's rounding still passes
    assert compare(r, r * np.float32(1 + 2**-23), Tolerance(rtol=1.3e-6, atol=1e-5)).passed
    big = np.array([2.0, 1e-6], np.float32)
    dev = compare(big, big + np.float32(5e-6), Tolerance(rtol=1.3e-6, atol=1e-5))
    assert dev.passed and dev.atol_scaled_from is None and dev.tolerance.atol == 1e-5
