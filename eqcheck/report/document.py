"""The JSON report: versioned, deterministic for a given seed (apart from TIMING_KEYS), written atomically."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from eqcheck.cases import case_id
from eqcheck import __version__
from eqcheck.errors import EqcheckError
from eqcheck.verdict.results import (
    ACCEPTS_INVALID, ERROR, EXPECTED_DIFFERENCE, FAIL, FAILING, NONDETERMINISTIC, PASS, UNEXPECTED_PASS, UNSUPPORTED, CaseResult,
)

# 2: optional `golden` sections, settings.shard, merged_from (eqcheck/report/schema.json). A version-1 report is a
# version-2 report without them, so `show`, `diff` and `merge` read both and refuse anything else.
# 3: per row verdict, tolerance_verdict, budget_verdict, precision_note, diagnosis, worst_factor and the absolute
# worst element (max_abs_index, max_abs_values); worst_index/worst_values name the worst *failing* element.
SCHEMA_VERSION = 3
READABLE_SCHEMA_VERSIONS = (1, 2, 3)
# Keys that legitimately differ between two runs with the same seed.
TIMING_KEYS = ("created", "wall_time_s", "duration_s")


def base_environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def summarize(cases: list[dict]) -> dict[str, int]:
    count = lambda status: sum(1 for c in cases if c["status"] == status)
    return {
        "total": len(cases),
        "passed": count(PASS),
        "failed": count(FAIL),
        "errors": count(ERROR),
        "expected_differences": count(EXPECTED_DIFFERENCE),
        "unexpected_passes": count(UNEXPECTED_PASS),
        "unsupported": count(UNSUPPORTED),
        "nondeterministic": count(NONDETERMINISTIC),
        **({"accepts_invalid": n} if (n := count(ACCEPTS_INVALID)) else {}),  # --explore error inputs only
    }


def _budget_verdict(out) -> str:
    """The error budget's judgement of a row: pass | fail | not needed (within tolerance) | unavailable (no float64)."""
    if out.deviation.passed:
        return "not needed"
    if not out.attribution or out.attribution.get("noise") is None:
        return "unavailable"
    return "pass" if out.within_noise else "fail"


def case_record(result: CaseResult) -> dict[str, Any]:
    outputs = []
    for out in result.outputs:
        record = {"name": out.name, **(out.deviation.as_dict() if out.deviation is not None else {})}
        record.update(shape=out.shape, dtypes=out.dtypes, passed=out.passed)  # per target, not the deviation's pair
        if out.ignored:
            record["ignored"] = out.ignored
        record["kind"] = getattr(out, "kind", "output")
        if out.deviation is not None:
            record.update(verdict=out.verdict, tolerance_verdict="pass" if out.deviation.passed else "fail",
                          budget_verdict=_budget_verdict(out))
        if out.attribution:
            record["attribution"] = out.attribution
        if out.precision_note:
            record["precision_note"] = out.precision_note
        if out.diagnosis:
            record["diagnosis"] = out.diagnosis
            record.update(diagnosis_kind=out.diagnosis_kind, **({"diagnosis_side": out.diagnosis_side} if out.diagnosis_side else {}))
        outputs.append(record)
    details = {k: v for k, v in getattr(result, "details", {}).items() if not k.startswith("_")}
    return {
        "id": result.id,
        "spec": result.spec,
        "status": result.status,
        "message": result.message,
        "expected_difference": result.expected,
        "targets": result.targets,
        "sides": result.sides,
        "weights": result.weights,
        "outputs": outputs,
        "duration_s": round(result.duration_s, 6),
        **details,  # mode, gradients, reference, trials (eqcheck/execution/runner.py)
    }


def build_document(
    results: list[CaseResult],
    *,
    environment: dict[str, Any],
    seed: int,
    settings: dict[str, Any],
    wall_time_s: float,
    complete: bool = True,
    explore: dict[str, Any] | None = None,
) -> dict[str, Any]:
    cases = [case_record(r) for r in results]
    summary = summarize(cases)
    summary["wall_time_s"] = round(wall_time_s, 3)
    return {
        "schema_version": SCHEMA_VERSION,
        "eqcheck_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,
        "environment": {**base_environment(), **environment},
        "seed": seed,
        "settings": settings,
        "summary": summary,
        "cases": cases,
        **({"explore": explore} if explore is not None else {}),  # --explore: per spec, samples run and not run
    }


def skipped_edges(document: dict[str, Any]) -> list[tuple[str, list[str], str, int]]:
    """--edges: (spec name, variants, reason, cases) for each reason a spec gave to skip edge variants, in report
    order, gathered from the plain cases' `edges_skipped`."""
    groups: dict[tuple[str, str], tuple[list[str], set[str]]] = {}
    for case in document["cases"]:
        for variant, reason in (case.get("edges_skipped") or {}).items():
            variants, ids = groups.setdefault((case_id.spec_name(case["id"]), reason), ([], set()))
            if variant not in variants:
                variants.append(variant)
            ids.add(case["id"])
    return [(spec, variants, reason, len(ids)) for (spec, reason), (variants, ids) in groups.items()]


def exit_code(document: dict[str, Any]) -> int:
    return 1 if any(c["status"] in FAILING for c in document["cases"]) else 0


def dumps(document: dict[str, Any]) -> str:
    """The report's text: indented, with one case per line. A line per case diffs well between runs, and the
    cases are written by json's C encoder (an indented explored report costs ~6 s of pure-Python encoding)."""
    parts = []
    for key, value in document.items():
        if key == "cases" and isinstance(value, list) and value:
            body = ",\n".join("    " + json.dumps(case, allow_nan=False) for case in value)
            text = "[\n" + body + "\n  ]"
        else:
            text = json.dumps(value, indent=2, allow_nan=False).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_atomic(path: str | os.PathLike, document: dict[str, Any]) -> None:
    """Temp file in the same folder, fsync, rename: a reader never sees half a report."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(document)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: str) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EqcheckError("no such file", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EqcheckError(f"cannot read the file ({exc})", file=path) from None
    except json.JSONDecodeError as exc:
        raise EqcheckError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=path) from None
    if not isinstance(document, dict) or "schema_version" not in document:
        raise EqcheckError("not an eqcheck report (no schema_version)", file=path, field="schema_version")
    version = document["schema_version"]
    if version not in READABLE_SCHEMA_VERSIONS:
        raise EqcheckError(
            f"report schema version {version!r} is not readable by eqcheck {__version__} "
            f"(reads {', '.join(map(str, READABLE_SCHEMA_VERSIONS))})", file=path, field="schema_version",
        )
    for key in ("summary", "cases"):
        if key not in document:
            raise EqcheckError(f"the report has no '{key}'", file=path, field=key)
    return document
