"""Unsupported means the same on every release: the failure messages MindSpore 2.7, 2.8, 2.9 and 2.10 give on the
catalog (--grad), recorded in tests/data/failures/ by scripts/failure_messages.py, get one kind per case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eqcheck.backends.failure_kinds import MISSING_API, MISSING_KERNEL, classify, demangle

DATA = Path(__file__).parent / "data" / "failures"
RELEASES = {path.stem.split("-", 1)[1]: json.loads(path.read_text()) for path in sorted(DATA.glob("mindspore-*.json"))}


def _kinds(release: str) -> dict[str, tuple]:
    """case id -> (status, kind, what is missing) for one release's recorded failures."""
    out = {}
    for failure in RELEASES[release]["failures"]:
        dtype = failure["id"].rsplit(",", 1)[-1].rstrip("]").split("[")[-1]
        found = classify(failure["type"], failure["text"], dtype)
        out[failure["id"]] = (found.status, found.kind, found.missing)
    return out


def test_the_recorded_releases():
    assert {"2.7.0", "2.8.0", "2.9.0", "2.10.0"} <= set(RELEASES), sorted(RELEASES)
    for release, data in RELEASES.items():
        assert data["versions"]["mindspore"] == release and data["failures"], release


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_every_recorded_catalog_failure_has_a_kind(release):
    """On the catalog every failure is a missing kernel or a missing API: none may fall through to `error`."""
    unknown = {case: kind for case, kind in _kinds(release).items() if kind[0] != "unsupported"}
    assert not unknown, f"MindSpore {release}: {unknown}"


def test_a_case_fails_the_same_way_on_every_release():
    by_case: dict[str, dict[str, tuple]] = {}
    for release in RELEASES:
        for case, kind in _kinds(release).items():
            by_case.setdefault(case, {})[release] = kind
    for case, seen in by_case.items():
        assert len({(status, kind) for status, kind, _ in seen.values()}) == 1 or _api_then_kernel(seen), (case, seen)


def _api_then_kernel(seen: dict[str, tuple]) -> bool:
    """nn.InstanceNorm*: 2.7 lacks ops.InstanceNorm, later releases have it but no CPU kernel: unsupported either way."""
    return {kind for _, kind, _ in seen.values()} == {MISSING_API, MISSING_KERNEL} and {s for s, _, _ in seen.values()} == {"unsupported"}


def test_the_kernel_is_named_alike_whatever_the_wording():
    old = classify("RuntimeError", "Not found op N9mindspore6kernel7pyboost9CumsumExtE on device CPU", "float32")
    new = classify("RuntimeError", "The kernel CumsumExt unregistered.", "float32")
    assert old == new and old.kind == MISSING_KERNEL and old.missing == "CumsumExt"
    assert demangle("N9mindspore6kernel7pyboost13LogSoftmaxExtE") == "LogSoftmaxExt"
    api = classify("AttributeError", "module 'mindspore.ops' has no attribute 'InstanceNorm'", "float32")
    assert api.kind == MISSING_API and api.missing == "mindspore.ops.InstanceNorm" and api.status == "unsupported"
    # an AttributeError of the case's own making (not a framework module's) stays an error
    assert classify("AttributeError", "'NoneType' object has no attribute 'shape'", "float32").status == "error"
    assert classify("TypeError", "forward() got an unexpected keyword argument 'dim'", "float32").kind == "wrong_arguments"
    assert classify("TypeError", "forward() got an unexpected keyword argument 'dim'", "float32").status == "error"
    refused = "For 'GRUCell', the 'x' should be one of [mindspore.float32, mindspore.float16], but got 'mindspore.float64'."
    assert classify("TypeError", refused, "float64").kind == "refused_dtype"
    assert classify("TypeError", refused, "float32").status == "error"  # float32 refused is a bug, not a gap
