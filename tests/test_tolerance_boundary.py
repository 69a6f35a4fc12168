"""The tolerance boundary itself: |r - c| == atol + rtol * max(|r|, |c|) passes, one ulp further fails.

Every number here is dyadic (exact in binary, in float32 and float64), so "exactly on the boundary" is exact:
r = 1, c = 1.5, rtol = 1/4, atol = 1/8 gives |r - c| = 1/2 = 1/8 + 1/4 * 1.5. The larger magnitude is the
candidate's, so a rule that scaled by |r| (1/8 + 1/4 = 3/8), by min(|r|, |c|) or by nothing fails on the
boundary, and one scaling by |r| + |c| (3/4) passes one ulp beyond it.
"""

from __future__ import annotations

import numpy as np
import pytest

from eqcheck.dtypes import Tolerance
from eqcheck.verdict.compare import compare, within_tolerance

TOL = Tolerance(rtol=0.25, atol=0.125)
R, C = 1.0, 1.5  # |r - c| = 0.5 = atol + rtol * max(|r|, |c|)
BEYOND = float(np.nextafter(C, 2.0))  # one float64 ulp further out
BEYOND32 = float(np.nextafter(np.float32(C), np.float32(2.0)))  # one float32 ulp further out


def test_the_boundary_values_are_exact():
    assert abs(R - C) == TOL.atol + TOL.rtol * max(abs(R), abs(C))
    assert float(np.float32(R)) == R and float(np.float32(C)) == C


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("r,c", [(R, C), (C, R), (-R, -C), (-C, -R)], ids=["r<c", "c<r", "negative", "negative-swapped"])
def test_a_difference_exactly_on_the_boundary_passes(dtype, r, c):
    ref, cand = np.array([r], dtype), np.array([c], dtype)
    assert within_tolerance(ref, cand, TOL).tolist() == [True]
    dev = compare(ref, cand, TOL)
    assert dev.passed and dev.mismatched == 0 and dev.max_abs == 0.5, dev.reason


@pytest.mark.parametrize("dtype,beyond", [(np.float64, BEYOND), (np.float32, BEYOND32)])
@pytest.mark.parametrize("swap", [False, True])
def test_one_ulp_beyond_the_boundary_fails(dtype, beyond, swap):
    ref, cand = np.array([R], dtype), np.array([beyond], dtype)
    if swap:
        ref, cand = cand, ref
    assert within_tolerance(ref, cand, TOL).tolist() == [False]
    dev = compare(ref, cand, TOL)
    assert not dev.passed and dev.mismatched == 1
    assert "exceeds atol+rtol*max(|r|,|c|)" in dev.reason


@pytest.mark.parametrize("chunk", [1, 2, 3, 1024])
def test_boundary_and_beyond_elements_are_counted_in_every_chunking(chunk):
    # boundary elements (pass) interleaved with one-ulp-beyond ones (fail); equal elements in between
    ref = np.array([R, R, 2.0, C, R, 7.0, R], np.float64)
    cand = np.array([C, BEYOND, 2.0, R, BEYOND, 7.0, C], np.float64)
    expected = [True, False, True, True, False, True, True]
    assert within_tolerance(ref, cand, TOL).tolist() == expected
    dev = compare(ref, cand, TOL, chunk_size=chunk)
    assert dev.mismatched == expected.count(False) and not dev.passed


def test_atol_alone_is_an_inclusive_bound():
    tol = Tolerance(rtol=0.0, atol=0.5)
    assert compare(np.array([R]), np.array([C]), tol).passed
    assert within_tolerance(np.array([R]), np.array([C]), tol).tolist() == [True]
    assert not compare(np.array([R]), np.array([BEYOND]), tol).passed
    assert within_tolerance(np.array([R]), np.array([BEYOND]), tol).tolist() == [False]


def test_rtol_alone_is_an_inclusive_bound_on_the_larger_magnitude():
    # |1 - 2| = 1 = rtol * max(1, 2); scaled by |r| = 1 instead it would fail
    tol = Tolerance(rtol=0.5, atol=0.0)
    assert compare(np.array([1.0]), np.array([2.0]), tol).passed
    assert compare(np.array([2.0]), np.array([1.0]), tol).passed
    assert within_tolerance(np.array([1.0]), np.array([2.0]), tol).tolist() == [True]
    assert not compare(np.array([1.0]), np.array([np.nextafter(2.0, 3.0)]), tol).passed
    assert within_tolerance(np.array([1.0]), np.array([np.nextafter(2.0, 3.0)]), tol).tolist() == [False]
