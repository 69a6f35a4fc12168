"""--markdown PATH and the GitHub step summary: a short GitHub-flavoured Markdown page for humans in a PR.

A run: the summary line, framework versions, a table of every case that is not a plain pass (with the worst
output's deviations), golden drift, and, with --baseline, the diff. `eqcheck diff --markdown` writes the
diff part alone. Everything user-controlled is escaped for table cells.
"""

from __future__ import annotations

import os
from typing import Any

from eqcheck.report.document import skipped_edges
from eqcheck.report.numbers import deviation

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
ICON = {"pass": "✅", "fail": "❌", "error": "💥", "expected_difference": "🟡", "unexpected_pass": "❗", "unsupported": "⏭️", "nondeterministic": "🎲", "accepts_invalid": "🔓"}
MAX_ROWS = 200  # a step summary is capped at 1 MiB; a few hundred rows stay far below


def cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " "), ("`", "'")):
        text = text.replace(old, new)
    return text


def _num(value: Any) -> str:
    return deviation(value) if isinstance(value, float) else cell(value)


def _worst(case: dict) -> dict | None:
    rows = [o for o in case.get("outputs") or [] if isinstance(o.get("max_abs"), (int, float))]
    failing = [o for o in rows if o.get("passed") is False]
    pool = failing or rows
    return max(pool, key=lambda o: o["max_abs"]) if pool else None


def run_summary(document: dict, diff: dict | None = None) -> str:
    s = document["summary"]
    versions = ", ".join(f"{k} {v}" for k, v in sorted((document.get("environment", {}).get("versions") or {}).items()))
    targets = " vs ".join(document.get("environment", {}).get("targets", []))
    lines = [f"## eqcheck: {cell(targets)}", ""]
    parts = [f"**{s['passed']} passed**", f"{s['failed']} failed", f"{s['errors']} errors",
             f"{s['expected_differences']} expected differences"]
    if s.get("unexpected_passes"):
        parts.append(f"{s['unexpected_passes']} unexpected passes")
    if s.get("unsupported"):
        parts.append(f"{s['unsupported']} unsupported")
    if s.get("nondeterministic"):
        parts.append(f"{s['nondeterministic']} nondeterministic")
    lines.append(", ".join(parts) + f" — {s['total']} cases in {float(s.get('wall_time_s', 0)):.1f}s"
                 + ("" if document.get("complete", True) else " (**partial report**)"))
    lines += ["", f"Versions: {cell(versions)}; seed {document.get('seed')}"]
    shard = (document.get("settings") or {}).get("shard")
    if shard:
        lines.append(f"Shard {shard['index']}/{shard['count']} ({len(shard.get('positions', []))} of {shard['total']} cases)")
    problems = [c for c in document["cases"] if c["status"] != "pass"]
    if problems:
        lines += ["", "| | case | status | worst output | max abs | max rel | note |", "|---|---|---|---|---|---|---|"]
        for case in problems[:MAX_ROWS]:
            worst = _worst(case) or {}
            note = case.get("message") or (case.get("expected_difference") or {}).get("reason")
            lines.append(f"| {ICON.get(case['status'], '')} | `{cell(case['id'])}` | {cell(case['status'])} | "
                         f"{cell(worst.get('name'))} | {_num(worst.get('max_abs'))} | {_num(worst.get('max_rel'))} | {cell(note)} |")
        if len(problems) > MAX_ROWS:
            lines.append(f"\n… and {len(problems) - MAX_ROWS} more (see the JSON report)")
    lines += _row_notes(document)
    skipped = skipped_edges(document)
    if skipped:
        lines += ["", "| spec | edge variants skipped | cases | reason |", "|---|---|---|---|"]
        lines += [f"| `{cell(spec)}` | {cell(', '.join(variants))} | {cases} | {cell(reason)} |"
                  for spec, variants, reason, cases in skipped[:MAX_ROWS]]
    golden = document.get("golden")
    if golden:
        lines += ["", f"**Golden outputs** ({cell(golden.get('dir'))}, stored with "
                      f"{cell(', '.join(f'{k} {v}' for k, v in sorted((golden.get('versions') or {}).items())))}): "
                      f"{golden.get('matched', 0)} matched, {golden.get('drifted', 0)} drifted, {golden.get('missing', 0)} missing"]
        drift = [(c["id"], label, e) for c in document["cases"] for label, e in (c.get("golden") or {}).items()
                 if e.get("status") == "drift"]
        if drift:
            lines += ["", "| case | target | output | max abs vs stored |", "|---|---|---|---|"]
            for case_id, label, entry in drift[:MAX_ROWS]:
                for row in entry["outputs"]:
                    if not row.get("passed"):
                        lines.append(f"| `{cell(case_id)}` | {cell(label)} | {cell(row['name'])} | {_num(row.get('max_abs'))} |")
    if diff is not None:
        lines += ["", diff_summary(diff, heading="###")]
    return "\n".join(lines) + "\n"


def _row_notes(document: dict) -> list[str]:
    """Every row's diagnosis (failing rows) and precision note (whatever the verdict), one table."""
    notes = [(case["id"], out["name"], label, out[key]) for case in document["cases"] for out in case.get("outputs") or []
             for key, label in (("diagnosis", "diagnosis"), ("precision_note", "precision")) if out.get(key)]
    if not notes:
        return []
    lines = ["", "| case | output | note |", "|---|---|---|"]
    lines += [f"| `{cell(case_id)}` | {cell(name)} | {label}: {cell(text)} |" for case_id, name, label, text in notes[:MAX_ROWS]]
    return lines


def diff_summary(diff: dict, heading: str = "##") -> str:
    c = diff["counts"]
    verdict = "❌ regression" if diff["regression"] else "✅ no regression"
    lines = [f"{heading} eqcheck diff: {verdict}", "",
             f"{c['regressions']} regressions, {c['fixed']} fixed, {c['improved']} improved, {c['changed']} changed, "
             f"{c['added']} cases added, {c['removed']} removed (deviation growth limit {diff['rel_change']:g}x)"]
    if diff["environment"]:
        lines += ["", "| environment | old | new |", "|---|---|---|"]
        lines += [f"| {cell(e['key'])} | {cell(e['old'])} | {cell(e['new'])} |" for e in diff["environment"]]
    if diff["changes"]:
        lines += ["", "| | case | output | change | old | new | note |", "|---|---|---|---|---|---|---|"]
        icon = {"regression": "❌", "fixed": "✅", "improved": "📉", "changed": "•"}
        for change in diff["changes"][:MAX_ROWS]:
            lines.append(f"| {icon[change['kind']]} | `{cell(change['id'])}` | {cell(change.get('output'))} | "
                         f"{cell(change['kind'])}: {cell(change['what'])} | {_num(change['old'])} | {_num(change['new'])} | "
                         f"{cell(change.get('note'))} |")
    if diff["added"] or diff["removed"]:
        lines += [""]
        if diff["added"]:
            lines.append(f"Added: {', '.join(f'`{cell(i)}`' for i in diff['added'][:50])}")
        if diff["removed"]:
            lines.append(f"Removed: {', '.join(f'`{cell(i)}`' for i in diff['removed'][:50])}")
    return "\n".join(lines) + "\n"


def write(path: str, text: str) -> None:
    from eqcheck.report.paths import write_text

    write_text(path, text)


def append_step_summary(text: str) -> str | None:
    """Append to $GITHUB_STEP_SUMMARY when GitHub Actions set it; the path written, or None."""
    path = os.environ.get(STEP_SUMMARY_ENV)
    if not path:
        return None
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return path
