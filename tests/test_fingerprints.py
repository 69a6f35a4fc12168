"""`eqcheck findings --fingerprints`: a run's measurements become each declaration's fingerprint in its spec file (nobody
types the numbers), and the declarations that covered cases and matched none are listed as stale (and retired with
--retire, unless intermittent). The cases below are the JSON records a run writes (runner: `measured`, `covered_by`)."""

from __future__ import annotations

import json

from eqcheck.report import fingerprints
from eqcheck.cases import load_spec

SPEC = """name: planted.fingerprints
inputs:
- {name: x, shape: [4]}
torch: {op: torch.sin}
mindspore: {op: mindspore.ops.sin}
expected_difference:
  - reason: the output differs
  - reason: >-
      the gradient differs, a long reason folded over several lines so that the rewrite must keep it one string
      wherever it breaks it
    when: {dtype: [float64]}
  - {reason: never shown, intermittent: {shown: 1, runs: 4}, symptom: crash}
  - {reason: stale, when: {dtype: [float16]}}
# a comment after the section stays
grad: true
"""


def case(name: str, status: str, measured: dict | None = None, spec: str = "spec.yaml") -> dict:
    declared = {"reason": "r", "link": None, "declaration": name} if status != "pass" else None
    return {"spec": spec, "status": status, "expected_difference": declared, **({"covered_by": name} if not declared else {}),
            **({"measured": measured} if measured else {})}


def value(row: str, max_abs: float, symptom: str = "value") -> dict:
    return {"row": row, "symptom": symptom, **({"max_abs": max_abs} if symptom == "value" else {})}


CASES = [
    case("expected_difference[0]", "expected_difference", {"rows": [value("out", 0.12345)]}),
    case("expected_difference[0]", "expected_difference", {"rows": [value("out", 0.5), value("out", 0.2), value("out.1", 0, "nonfinite")]}),
    case("expected_difference[0]", "pass"),
    case("expected_difference[1]", "expected_difference", {"rows": [value("grad:x", 0, "nonfinite")]}),
    case("expected_difference[1]", "expected_difference", {"rows": [value("grad:x", 3e19)]}),
    case("expected_difference[2]", "pass"),
    case("expected_difference[3]", "pass"),
]


def test_a_run_writes_each_declarations_fingerprint_and_retires_the_stale_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(SPEC)
    assert fingerprints.stale(CASES) == [("spec.yaml", "expected_difference[2]", 1), ("spec.yaml", "expected_difference[3]", 1)]
    done = fingerprints.apply(CASES, retire=True)
    assert done == {"files": 1, "written": 2, "retired": [("spec.yaml", "expected_difference[3]")], "left": []}
    text = (tmp_path / "spec.yaml").read_text()
    assert "# a comment after the section stays\ngrad: true" in text
    spec = load_spec(tmp_path / "spec.yaml")  # what it wrote is a valid spec
    first, second, third = spec.expected_differences
    assert [(r.row, r.symptoms, r.max_abs) for r in first.rows] == [("out", ("value",), 0.5), ("out.1", ("nonfinite",), None)]
    assert [(r.row, r.symptoms, r.max_abs) for r in second.rows] == [("grad:x", ("nonfinite", "value"), 3e19)]
    assert second.reason.startswith("the gradient differs") and second.reason.endswith("wherever it breaks it")
    assert third.reason == "never shown" and third.intermittent.runs == 4 and third.symptom == "crash"


def test_numbers_are_rounded_up_and_a_mix_of_refusal_and_rows_is_left_for_a_person():
    assert fingerprints.fingerprint([{"rows": [value("out", 0.12341)]}]) == {"rows": {"out": {"symptom": "value", "max_abs": 0.124}}}
    crash = {"failure": {"symptom": "crash", "signal": "SIGFPE"}}
    assert fingerprints.fingerprint([crash, crash]) == {"symptom": "crash", "signal": "SIGFPE"}
    assert fingerprints.fingerprint([crash, {"failure": {"symptom": "crash"}}]) == {"symptom": "crash"}
    assert fingerprints.fingerprint([crash, {"rows": [value("out", 1.0)]}]) is None
    json.dumps(fingerprints.fingerprint([{"rows": [value("out", 1.0)]}]))  # plain data
