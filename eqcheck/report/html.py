"""--html PATH: one self-contained HTML page (inline CSS, inline SVG, a few lines of inline JS; nothing fetched).

Per case: status, each output's deviations and tolerance, the worst element's index and both values, and a
histogram of the per-element deviations |a - b| in decades (log10 bins from 1e-12 to 1e3, plus "equal" and
"NaN/Inf mismatch" bars; the dashed line is the row's atol). Per-element deviations are not in the JSON
report: the histograms are computed at run time from each case's raw outputs (`deviation_histogram`) and
live only in the HTML page.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from eqcheck.report.numbers import deviation
from eqcheck.report.text import printable

LOW, HIGH = -12, 3  # decades: bin i holds 10**(LOW+i) <= |a-b| < 10**(LOW+i+1); the ends are open
_CHUNK = 1 << 20


def deviation_histogram(a: Any, b: Any) -> dict[str, Any] | None:
    """Counts of |a - b| per decade over both-finite elements; None for arrays that cannot be compared."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype.kind not in "biuf" or b.dtype.kind not in "biuf":
        return None
    a, b = a.reshape(-1), b.reshape(-1)
    counts = np.zeros(HIGH - LOW, dtype=np.int64)
    equal = nonfinite = 0
    with np.errstate(all="ignore"):
        for start in range(0, a.size, _CHUNK):
            x = a[start:start + _CHUNK].astype(np.float64)
            y = b[start:start + _CHUNK].astype(np.float64)
            finite = np.isfinite(x) & np.isfinite(y)
            same_nonfinite = ~finite & ((x == y) | (np.isnan(x) & np.isnan(y)))
            nonfinite += int(np.count_nonzero(~finite & ~same_nonfinite))
            equal += int(np.count_nonzero(same_nonfinite))
            d = np.abs(x[finite] - y[finite])
            equal += int(np.count_nonzero(d == 0))
            d = d[d > 0]
            if d.size:
                decade = np.clip(np.floor(np.log10(d)).astype(np.int64) - LOW, 0, HIGH - LOW - 1)
                counts += np.bincount(decade, minlength=HIGH - LOW)
    return {"low": LOW, "high": HIGH, "counts": counts.tolist(), "equal": equal, "nonfinite": nonfinite, "size": int(a.size)}


def histograms_for(result) -> dict[str, dict]:
    """output name -> histogram, from a CaseResult's raw arrays (the first two targets)."""
    labels = list(result.arrays)
    if len(labels) < 2:
        return {}
    first, second = result.arrays[labels[0]], result.arrays[labels[1]]
    out = {}
    for name, array in first.items():
        if name in second:
            hist = deviation_histogram(array, second[name])
            if hist is not None:
                out[name] = hist
    return out


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d232a;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px} .meta{color:#57606a;margin-bottom:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.s-pass{background:#1a7f37}.s-fail,.s-error{background:#cf222e}.s-expected_difference{background:#bf8700}
.s-unexpected_pass{background:#8250df}.s-unsupported{background:#0969da}.s-nondeterministic{background:#cf222e}.s-drift{background:#cf222e}.s-match{background:#1a7f37}
.s-missing{background:#6e7781}
.summary span{margin-right:12px}
details{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:4px 10px}
summary{cursor:pointer;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
table{border-collapse:collapse;margin:8px 0;font-size:13px} th,td{border-bottom:1px solid #eaeef2;padding:3px 8px;text-align:left;vertical-align:top}
td.num{white-space:nowrap;text-align:right;font-family:ui-monospace,monospace} .bad{color:#cf222e;font-weight:600}.ok{color:#1a7f37}
svg{background:#f6f8fa;border-radius:4px} .msg{color:#57606a;font-size:13px;margin:4px 0} .native{color:#9a6700}
body.only-problems details.st-pass{display:none}
"""

JS = """
document.getElementById('only-problems').addEventListener('change', function (e) {
  document.body.classList.toggle('only-problems', e.target.checked);
});
document.getElementById('expand-all').addEventListener('click', function () {
  document.querySelectorAll('details').forEach(function (d) { d.open = true; });
});
document.body.setAttribute('data-ready', 'yes');
"""


def _e(value: Any) -> str:
    return html.escape(printable("-" if value is None else str(value)), quote=True)


def _num(value: Any) -> str:
    return _e(deviation(value, 3))


def histogram_svg(hist: dict, atol: float | None) -> str:
    bins = [("=", hist["equal"])] + [(f"1e{LOW + i}", c) for i, c in enumerate(hist["counts"])] + [("NaN", hist["nonfinite"])]
    width, height, pad, bar = 20 * len(bins) + 20, 110, 18, 16
    top = max(c for _, c in bins) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="histogram of |a-b| per decade">']
    for i, (label, count) in enumerate(bins):
        x = 10 + i * 20
        h = 0 if count == 0 else max(2.0, (height - 2 * pad) * math.log1p(count) / math.log1p(top))
        color = "#1a7f37" if label == "=" else "#cf222e" if label == "NaN" else "#0969da"
        parts.append(f'<rect x="{x}" y="{height - pad - h:.1f}" width="{bar}" height="{h:.1f}" fill="{color}">'
                     f'<title>{_e(label)}: {count} elements</title></rect>')
        if i % 3 == 0 or label in ("=", "NaN"):
            parts.append(f'<text x="{x + bar / 2}" y="{height - 4}" font-size="9" text-anchor="middle" fill="#57606a">{_e(label)}</text>')
    if atol and atol > 0:
        position = math.log10(atol) - LOW
        if 0 <= position <= HIGH - LOW:
            x = 10 + 20 + position * 20
            parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - pad}" stroke="#cf222e" stroke-dasharray="3,2"/>'
                         f'<text x="{x + 3:.1f}" y="12" font-size="9" fill="#cf222e">atol</text>')
    parts.append("</svg>")
    return "".join(parts)


def _outputs_table(case: dict, hists: dict[str, dict]) -> str:
    rows = ["<table><tr><th>output</th><th>kind</th><th>shape / dtype</th><th>max abs</th><th>mean abs</th><th>max rel</th>"
            "<th>mismatched</th><th>tolerance</th><th>verdict</th><th>worst element (index: a vs b)</th><th>|a−b| per decade</th></tr>"]
    for out in case.get("outputs") or []:
        tol = out.get("tolerance") or {}
        dtypes = "/".join(dict.fromkeys((out.get("dtypes") or {}).values()))
        shape = "×".join(map(str, out.get("shape") or [])) or "scalar"
        if out.get("ignored"):
            verdict = f'<span class="msg">ignored: {_e(out["ignored"])}</span>'
        else:
            verdict = f'<span class="{"ok" if out.get("passed") else "bad"}">{_e(out.get("verdict") or ("pass" if out.get("passed") else "fail"))}</span>'
            if out.get("precision_note"):
                verdict += f'<div class="msg note">{_e(out["precision_note"])}</div>'
            if out.get("diagnosis"):
                verdict += f'<div class="msg diagnosis">diagnosis: {_e(out["diagnosis"])}</div>'
        worst = "-"
        if out.get("worst_index") is not None and out.get("worst_values") is not None and out.get("max_abs") not in (0, None):
            a, b = out["worst_values"]
            worst = f"({_e(', '.join(map(str, out['worst_index'])))}): {_num(a)} vs {_num(b)}"
        hist = hists.get(out["name"])
        svg = histogram_svg(hist, tol.get("atol") if isinstance(tol.get("atol"), (int, float)) else None) if hist else ""
        rows.append(f"<tr><td>{_e(out['name'])}</td><td>{_e(out.get('kind', 'output'))}</td><td>{_e(shape)} {_e(dtypes)}</td>"
                    f"<td class=num>{_num(out.get('max_abs'))}</td><td class=num>{_num(out.get('mean_abs'))}</td>"
                    f"<td class=num>{_num(out.get('max_rel'))}</td><td class=num>{_e(out.get('mismatched'))}</td>"
                    f"<td>rtol {_e(tol.get('rtol'))}, atol {_e(tol.get('atol'))}</td><td>{verdict}</td><td>{worst}</td><td>{svg}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def layers_svg(section: dict) -> str:
    """Deviation growth through the network: one bar per layer (log10 max |a-b|, firing order), the atol budget dashed."""
    rows = section["rows"]
    values = [r.get("max_abs") for r in rows]
    logs = [math.log10(v) if isinstance(v, (int, float)) and v > 0 else None for v in values]
    known = [v for v in logs if v is not None] + [math.log10(section["tolerance"]["atol"] or 1e-12)]
    low, high = math.floor(min(known)) - 1, math.ceil(max(known)) + 0.5
    step, height, pad, left = 22, 150, 20, 36
    width = left + step * len(rows) + 10
    y = lambda v: pad + (high - v) / (high - low) * (height - 2 * pad)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 70}" role="img" '
             f'aria-label="deviation per layer ({_e(section["direction"])})">']
    for decade in range(int(low), int(math.floor(high)) + 1):
        parts.append(f'<line x1="{left}" x2="{width - 6}" y1="{y(decade):.1f}" y2="{y(decade):.1f}" stroke="#eaeef2"/>'
                     f'<text x="2" y="{y(decade) + 3:.1f}" font-size="9" fill="#57606a">1e{decade}</text>')
    for i, (row, value) in enumerate(zip(rows, logs)):
        x = left + i * step
        first = row["name"] == section.get("first_divergent")
        color = "#8a6d00" if row["passed"] is None else "#cf222e" if row["passed"] is False else "#0969da"
        if value is not None:
            top = y(value)
            outline = ' stroke="#000" stroke-width="2"' if first else ""
            parts.append(f'<rect x="{x}" y="{top:.1f}" width="{step - 6}" height="{height - pad - top:.1f}" fill="{color}"'
                         f'{outline}><title>{_e(row["name"])} ({_e(row["type"])}): '
                         f'max abs {_num(row.get("max_abs"))}{" — first to deviate" if first else ""}'
                         f'{"; " + _e((row.get("attribution") or {}).get("statement")) if row.get("attribution") else ""}</title></rect>')
        parts.append(f'<text x="{x + 6}" y="{height - pad + 8}" font-size="9" fill="{color}" '
                     f'transform="rotate(55 {x + 6} {height - pad + 8})">{_e(row["name"][:24])}</text>')
    atol = section["tolerance"]["atol"]
    if atol:
        parts.append(f'<line x1="{left}" x2="{width - 6}" y1="{y(math.log10(atol)):.1f}" y2="{y(math.log10(atol)):.1f}" '
                     f'stroke="#cf222e" stroke-dasharray="3,2"/><text x="{width - 40}" y="{y(math.log10(atol)) - 3:.1f}" '
                     f'font-size="9" fill="#cf222e">atol</text>')
    parts.append("</svg>")
    return "".join(parts)


def _layers(case: dict) -> str:
    parts = []
    for direction, section in (case.get("layers") or {}).items():
        if not section:
            continue
        if section.get("status") != "compared":
            parts.append(f'<div class=msg>layers, {_e(direction)}: {_e(section.get("message"))}</div>')
            continue
        first = section.get("first_divergent")
        headline = f'first layer to deviate: <span class=bad>{_e(first)}</span>' if first else '<span class=ok>every layer within budget</span>'
        parts.append(f'<div class="layers" data-direction="{_e(direction)}"><div class=msg>layers, {_e(direction)} '
                     f'({"output" if direction == "forward" else "input gradient"} per layer, in firing order): {headline}</div>'
                     f'{layers_svg(section)}</div>')
    return "".join(parts)


def _golden(case: dict) -> str:
    parts = []
    for label, entry in (case.get("golden") or {}).items():
        worst = max((r.get("max_abs") for r in entry.get("outputs", []) if isinstance(r.get("max_abs"), (int, float))), default=None)
        parts.append(f'<div class="msg">golden {_e(label)}: <span class="badge s-{_e(entry["status"])}">{_e(entry["status"])}</span>'
                     f" largest max abs against the stored outputs: {_num(worst)}</div>")
    return "".join(parts)


def render(document: dict, histograms: dict[str, dict[str, dict]] | None = None) -> str:
    histograms = histograms or {}
    env = document.get("environment", {})
    s = document["summary"]
    versions = ", ".join(f"{k} {v}" for k, v in sorted((env.get("versions") or {}).items()))
    counts = [("pass", s["passed"], "passed"), ("fail", s["failed"], "failed"), ("error", s["errors"], "errors"),
              ("expected_difference", s["expected_differences"], "expected differences"),
              ("unexpected_pass", s.get("unexpected_passes", 0), "unexpected passes"),
              ("unsupported", s.get("unsupported", 0), "unsupported"),
              ("nondeterministic", s.get("nondeterministic", 0), "nondeterministic")]
    out = ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
           '<meta name=viewport content="width=device-width,initial-scale=1"><link rel=icon href="data:,">',
           f"<title>eqcheck report: {_e(' vs '.join(env.get('targets', [])))}</title><style>{CSS}</style></head><body>",
           f"<h1>eqcheck: {_e(' vs '.join(env.get('targets', [])))}</h1>",
           f'<div class=meta>{_e(versions)} · seed {_e(document.get("seed"))} · {_e(document.get("created"))} · '
           f'eqcheck {_e(document.get("eqcheck_version"))}{"" if document.get("complete", True) else " · <b>partial report</b>"}</div>',
           '<div class=summary>' + "".join(f'<span><span class="badge s-{k}">{n}</span> {label}</span>' for k, n, label in counts if n or k == "pass")
           + f"<span>{s['total']} cases in {float(s.get('wall_time_s', 0)):.2f}s</span></div>",
           '<p><label><input type=checkbox id=only-problems> only problems</label> <button id=expand-all type=button>expand all</button></p>']
    for case in document["cases"]:
        status = case["status"]
        drift = any(e.get("status") == "drift" for e in (case.get("golden") or {}).values())
        opened = " open" if status not in ("pass",) or drift or case.get("native_errors") else ""
        out.append(f'<details class="st-{"problem" if drift else _e(status)}"{opened}><summary>'
                   f'<span class="badge s-{_e(status)}">{_e(status)}</span> {_e(case["id"])} '
                   f'<span class=msg>{float(case.get("duration_s", 0)) * 1000:.0f} ms</span></summary>')
        if case.get("message"):
            out.append(f'<div class=msg>{_e(case["message"])}</div>')
        if case.get("native_errors"):
            out.append(f'<div class="msg native">native log: {_e(case["native_errors"]["note"])}</div>')
        if case.get("expected_difference"):
            ed = case["expected_difference"]
            out.append(f'<div class=msg>expected difference: {_e(ed.get("reason"))}</div>')
        out.append(_outputs_table(case, histograms.get(case["id"], {})))
        out.append(_layers(case))
        out.append(_golden(case))
        out.append("</details>")
    out.append(f"<script>{JS}</script></body></html>")
    return "\n".join(out)


def write(path: str, document: dict, histograms: dict[str, dict[str, dict]] | None = None) -> None:
    from eqcheck.report.paths import write_text

    write_text(path, render(document, histograms))
