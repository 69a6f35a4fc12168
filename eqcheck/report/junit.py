"""--junit PATH: one <testcase> per case, in the JUnit XML most CI systems read (Jenkins, GitLab, GitHub actions).

Mapping: pass -> passed; fail and unexpected_pass -> <failure> whose text lists every failing output's
deviations; nondeterministic -> <failure> naming the side; error -> <error>; unsupported -> <skipped>; expected_difference -> <skipped> naming the reason
(as pytest reports an xfail). A golden drift (`--golden`) makes the testcase a <failure> as well.
classname is the spec name (the case id before '['), name the full case id.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from eqcheck.cases import case_id
from eqcheck.report.numbers import deviation


def _fmt(value: Any) -> str:
    return deviation(value, 3)


def _exact(value: Any) -> str:
    return f"{value:.9g}" if isinstance(value, float) else str(value)


def deviation_lines(case: dict) -> list[str]:
    """Plain-text lines for a case's failing rows (also used by the pytest plugin and the Markdown summary)."""
    lines = []
    for out in case.get("outputs") or []:
        if out.get("passed") is False or case["status"] == "unexpected_pass":
            tol = out.get("tolerance") or {}
            where = ""
            if out.get("worst_index") is not None and out.get("worst_values") is not None:
                a, b = out["worst_values"]
                where = f"; worst at {tuple(out['worst_index'])}: {_exact(a)} vs {_exact(b)}"
            lines.append(
                f"{out['name']} [{out.get('kind', 'output')}]: max_abs={_fmt(out.get('max_abs'))} "
                f"max_rel={_fmt(out.get('max_rel'))} mismatched={out.get('mismatched', '-')}"
                f"/{out.get('size', '-')} (rtol {tol.get('rtol')}, atol {tol.get('atol')})"
                f"{': ' + out['reason'] if out.get('reason') else ''}{where}")
            for label in ("precision_note", "diagnosis"):
                if out.get(label):
                    lines.append(f"  {label.replace('_', ' ')}: {out[label]}")
    for label, entry in (case.get("golden") or {}).items():
        if entry.get("status") == "drift":
            for row in entry.get("outputs", []):
                if not row.get("passed"):
                    lines.append(f"golden drift of {label} {row['name']}: max_abs={_fmt(row.get('max_abs'))} "
                                 f"against the stored outputs{': ' + row['reason'] if row.get('reason') else ''}")
    return lines


def build(document: dict) -> ET.ElementTree:
    cases = document.get("cases", [])
    suite = ET.Element("testsuite", name="eqcheck", tests=str(len(cases)),
                       timestamp=str(document.get("created", "")),
                       time=f"{float(document.get('summary', {}).get('wall_time_s', 0.0)):.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, version in sorted((document.get("environment", {}).get("versions") or {}).items()):
        ET.SubElement(properties, "property", name=f"version.{name}", value=str(version))
    ET.SubElement(properties, "property", name="seed", value=str(document.get("seed")))
    failures = errors = skipped = 0
    for case in cases:
        status = case["status"]
        element = ET.SubElement(suite, "testcase", classname=case_id.spec_name(case["id"]), name=case["id"],
                                file=str(case.get("spec", "")), time=f"{float(case.get('duration_s', 0.0)):.3f}")
        drift = any(e.get("status") == "drift" for e in (case.get("golden") or {}).values())
        lines = deviation_lines(case)
        if status in ("fail", "unexpected_pass") or (drift and status not in ("error",)):
            failures += 1
            message = case.get("message") or (
                "golden drift" if status not in ("fail", "unexpected_pass") else f"{len(lines)} output(s) outside tolerance")
            ET.SubElement(element, "failure", message=message, type=status if status != "pass" else "golden_drift").text = "\n".join(lines)
        elif status == "nondeterministic":  # a side disagreed with itself: the comparison cannot be trusted
            failures += 1
            ET.SubElement(element, "failure", message=case.get("message") or status, type=status).text = case.get("message") or ""
        elif status == "error":
            errors += 1
            ET.SubElement(element, "error", message=case.get("message") or "error", type="error").text = case.get("message") or ""
        elif status in ("unsupported", "accepts_invalid"):
            skipped += 1
            ET.SubElement(element, "skipped", message=case.get("message") or "unsupported")
        elif status == "expected_difference":
            skipped += 1
            reason = (case.get("expected_difference") or {}).get("reason", "")
            ET.SubElement(element, "skipped", message=f"expected difference: {reason}", type="expected_difference")
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", name="eqcheck", tests=str(len(cases)), failures=str(failures), errors=str(errors),
                      skipped=str(skipped))
    root.append(suite)
    ET.indent(root)
    return ET.ElementTree(root)


def write(path: str, document: dict) -> None:
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    build(document).write(path, encoding="utf-8", xml_declaration=True)
