"""Every renderable the CLI shows is built here: the deviations table, the summary line, the progress bar."""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager
from typing import Any, Iterator

from rich import box
from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from eqcheck.cases.case_id import spec_name
from eqcheck.report.document import skipped_edges
from eqcheck.report.numbers import deviation
from eqcheck.report.text import printable


def escape(text: str) -> str:
    """Text from a spec, a framework or a report for the terminal: no markup, no control characters."""
    return _markup_escape(printable(text))

STATUS_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "error": "bold red",
    "expected_difference": "yellow",
    "unexpected_pass": "bold magenta",
    "unsupported": "cyan",
    "nondeterministic": "bold red",
    "accepts_invalid": "magenta",
}
STATUS_LABEL = {
    "pass": "pass",
    "fail": "FAIL",
    "error": "ERROR",
    "expected_difference": "expected diff",
    "unexpected_pass": "UNEXPECTED PASS",
    "unsupported": "unsupported",
    "nondeterministic": "NONDETERMINISTIC",
    "accepts_invalid": "accepts invalid",
}
PLAIN_WIDTH = 200  # logs are not terminals: keep rows on one line


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    probe = Console(file=stream)
    if probe.is_terminal:
        return probe
    return Console(file=stream, width=PLAIN_WIDTH, no_color=True, highlight=False, emoji=False)


_num = deviation


def _worst(out: dict) -> str:
    index = out.get("worst_index")
    values = out.get("worst_values")
    if index is None or values is None:
        return out.get("reason") or "-"
    if out.get("max_abs") == 0:
        return "-"
    factor = out.get("worst_factor")
    beyond = f" ({_value(factor)}x its bound)" if isinstance(factor, (int, float)) and factor > 1 else ""
    return f"{tuple(index)}: {_value(values[0])} vs {_value(values[1])}{beyond}"


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return f"{v:.7g}"


def _verdict(status: str) -> Text:
    style = STATUS_STYLE.get(status, STATUS_STYLE["pass"] if status.startswith("pass") else
                             STATUS_STYLE["fail"] if status.startswith("fail") else "")
    return Text(STATUS_LABEL.get(status, status), style=style)


# -q: rows a CI log needs no line for (declared differences stay a count in the summary; reports keep everything)
QUIET_STATUSES = ("pass", "expected_difference")


def results_table(document: dict, only_problems: bool = False) -> Table:
    targets = " vs ".join(document.get("environment", {}).get("targets", [])) or "deviations"
    table = Table(title=f"eqcheck: {targets}", box=box.SIMPLE_HEAD, show_lines=False, title_justify="left")
    table.add_column("case", overflow="fold")
    table.add_column("output")
    table.add_column("shape / dtype")
    for name in ("max abs", "mean abs", "max rel"):
        table.add_column(name, justify="right")
    table.add_column("verdict")
    table.add_column("worst element (index: ref vs cand)", overflow="fold")
    for case in document["cases"]:
        status = case["status"]
        if only_problems and status in QUIET_STATUSES:
            continue
        outputs = case.get("outputs") or []
        if not outputs:
            table.add_row(escape(case["id"]), "-", "-", "-", "-", "-", _verdict(status), escape(case.get("message") or ""))
            continue
        for i, out in enumerate(outputs):
            out_status = status if status in ("expected_difference", "unexpected_pass") else ("pass" if out["passed"] else "fail")
            if out_status in ("pass", "fail") and out.get("verdict") not in (None, "ignored"):
                out_status = out["verdict"]  # "pass (within float32 noise)" renders green through its "pass" prefix
            dtypes = "/".join(dict.fromkeys(out.get("dtypes", {}).values()))
            shape = "x".join(map(str, out["shape"])) or "scalar"
            if out.get("ignored"):
                table.add_row(escape(case["id"]) if i == 0 else "", out["name"], f"{shape} {dtypes}", "-", "-", "-",
                              Text("ignored", style="dim"), escape(out["ignored"]))
                continue
            table.add_row(
                escape(case["id"]) if i == 0 else "",
                out["name"],
                f"{shape} {dtypes}",
                _num(out.get("max_abs")),
                _num(out.get("mean_abs")),
                _num(out.get("max_rel")),
                _verdict(out_status),
                escape(_worst(out)),
            )
            third = ((case.get("third_opinion") or {}).get("rows") or {}).get(out["name"], {}).get("statement")
            for note, style in ((out.get("precision_note"), "yellow"), (out.get("diagnosis") and f"diagnosis: {out['diagnosis']}", "red"),
                                (third and f"third opinion: {third}", "cyan")):
                if note:
                    table.add_row("", "", "", "", "", "", "", Text(note, style=style))
        if status in ("expected_difference", "unexpected_pass") and case.get("expected_difference"):
            reason = case["expected_difference"]["reason"]
            table.add_row("", "", "", "", "", "", "", Text(f"expected: {reason}", style="dim"))
        if case.get("native_errors"):
            table.add_row("", "", "", "", "", "", "", Text(f"native log: {case['native_errors']['note']}", style="yellow"))
    return table


def native_log_count(document: dict) -> Text | None:
    """-q: the cases whose kernel logged an error, as one line (the table that names them is not printed)."""
    cases = [c for c in document["cases"] if c.get("native_errors") and c["status"] in QUIET_STATUSES]
    if not cases:
        return None
    sources = sorted({s for c in cases for s in c["native_errors"].get("sources", [])})
    return Text(f"{len(cases)} passing or declared case(s) logged native kernel errors"
                + (f" ({', '.join(sources)})" if sources else "") + "; the report's native_log has the lines", style="yellow")


def failure_notes(document: dict) -> list[Text]:
    """One line per failing output saying what failed and against which tolerance."""
    notes = []
    for case in document["cases"]:
        declared = case["status"] == "fail" and case.get("expected_difference")  # failing unlike its declaration
        if (case["status"] in ("error", "unsupported", "unexpected_pass", "nondeterministic", "accepts_invalid") or declared) \
                and case.get("message"):
            notes.append(Text.assemble((f"{case['id']}: ", "bold"), (case["message"], STATUS_STYLE[case["status"]])))
        for out in case.get("outputs") or []:
            if out.get("passed") is False and case["status"] == "fail":
                notes.append(Text.assemble(
                    (f"{case['id']} {out['name']}: ", "bold"),
                    (out.get("reason") or "outside tolerance", "red"),
                    f" ({tolerance_text(out)})",
                    f"; {out['attribution']['statement']}" if out.get("attribution") else "",
                    f"; diagnosis: {out['diagnosis']}" if out.get("diagnosis") else "",
                ))
    return notes


def tolerance_text(out: dict) -> str:
    """The tolerance a row was judged by, saying so when its atol was scaled to the row's own magnitude."""
    tol = out.get("tolerance", {})
    if out.get("atol_scaled_from") is not None:
        return f"rtol {tol.get('rtol')}, atol {out['atol_scaled_from']:g} x the row's largest value = {tol.get('atol'):.3g}"
    return f"rtol {tol.get('rtol')}, atol {tol.get('atol')}"


def stale_notes(document: dict) -> list[Text]:
    """One line per declaration that covered cases in this run and matched none (report/fingerprints.py)."""
    from eqcheck.report.fingerprints import stale

    return [Text.assemble((f"{spec} {name}: ", "bold"), (f"matched none of the {covered} cases it covers", "magenta"),
                          " (stale: retire it, or re-run an intermittent one with --confirm-intermittent)")
            for spec, name, covered in stale(document["cases"])]


def skipped_edge_notes(document: dict) -> list[Text]:
    """--edges: one line per reason a spec gave for skipping edge variants (edges.skip); --boundary: constructor
    values the spec's map cannot carry (`boundary=NAME:VALUE`)."""
    return [Text.assemble((f"{spec}: ", "bold"), (f"skipped {', '.join(v if '=' in v else 'edge=' + v for v in variants)}", "cyan"),
                          f" ({cases} case{'s' if cases != 1 else ''}): {reason}")
            for spec, variants, reason, cases in skipped_edges(document)]


def _skips(counts: dict[str, int]) -> str:
    return ", ".join(f"{arg} ×{n}" for arg, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def explore_table(document: dict, only_skips: bool = False) -> Table | None:
    """--explore: per spec, the sample source, samples run, the arguments that kept the others from running, and the
    error inputs (run of total, and how many MindSpore accepted although torch refuses them)."""
    explore = document["explore"]
    accepted: dict[str, int] = {}
    for case in document["cases"]:
        if case["status"] == "accepts_invalid":
            name = spec_name(case["id"])
            accepted[name] = accepted.get(name, 0) + 1
    rows = [(name, t) for name, t in explore.items()
            if not only_skips or t["unmapped"] or t["not_supported"] or t.get("note") or accepted.get(name)]
    if not rows:
        return None
    table = Table(title="explored samples", box=box.SIMPLE_HEAD, title_justify="left")
    for column in ("spec", "entry", "run", "unmapped (arg ×samples)", "not supported (arg ×samples)", "error inputs"):
        table.add_column(column, justify="right" if column == "run" else "left", overflow="fold")
    for name, t in rows:
        entry = f"{t['source']}:{t['entry']}" if t["entry"] else Text(t.get("note") or "-", style="dim")
        errors = t.get("error_inputs")
        shown = f"{errors['run']}/{errors['total']}" if errors else ""
        if accepted.get(name):
            shown += f", {accepted[name]} accepted by the candidate"
        table.add_row(escape(name), entry if isinstance(entry, Text) else escape(entry), f"{t['run']}/{t['samples']}",
                      escape(_skips(t["unmapped"])), escape(_skips(t["not_supported"])), escape(shown))
    return table


def explore_line(explore: dict[str, dict]) -> Text:
    run = sum(t["run"] for t in explore.values())
    total = sum(t["samples"] for t in explore.values())
    unmapped = sum(1 for t in explore.values() if t["unmapped"])
    return Text.assemble(("explore: ", "bold"), f"{run} of {total} torch samples run over {len(explore)} specs; ",
                         (f"{unmapped} specs have unmapped arguments", "yellow" if unmapped else ""))


def summary_line(document: dict) -> Text:
    s = document["summary"]
    parts = [
        (f"{s['passed']} passed", "green"),
        (f"{s['failed']} failed", "bold red" if s["failed"] else ""),
        (f"{s['errors']} errors", "bold red" if s["errors"] else ""),
        (f"{s['expected_differences']} expected differences", "yellow" if s["expected_differences"] else ""),
    ]
    if s.get("unexpected_passes"):
        parts.append((f"{s['unexpected_passes']} unexpected passes", "bold magenta"))
    if s.get("unsupported"):
        parts.append((f"{s['unsupported']} unsupported", "cyan"))
    if s.get("nondeterministic"):
        parts.append((f"{s['nondeterministic']} nondeterministic", "bold red"))
    if s.get("accepts_invalid"):
        parts.append((f"{s['accepts_invalid']} accepted an input torch refuses", "magenta"))
    text = Text()
    for i, (chunk, style) in enumerate(parts):
        text.append(("" if i == 0 else ", ") + chunk, style=style)
    text.append(f" in {s.get('wall_time_s', 0):.2f}s ({s['total']} cases)")
    if not document.get("complete", True):
        text.append(" — interrupted, partial report", style="bold yellow")
    return text



def watch_banner(spec_files: int, paths: list[str], workers: int) -> Text:
    """`eqcheck watch`: what is watched and how to drive it."""
    return Text(f"watching {spec_files} spec file{'s' * (spec_files != 1)} under {', '.join(paths)} ({workers} warm "
                f"worker{'s' * (workers != 1)}): save a file to re-run its specs, Enter re-runs all, Ctrl-C quits", style="dim")


def watch_status(specs: int, cases: int, seconds: float, after_save: float | None) -> Text:
    """After each re-run: its size and cost, and the wall time from the file's save to this line."""
    text = Text(f"re-ran {specs} spec{'s' * (specs != 1)} ({cases} case{'s' * (cases != 1)}) in {seconds:.2f} s", style="bold")
    if after_save is not None:
        text.append(f", answered {after_save:.2f} s after the change")
    return text


def watch_problem(message: str) -> Text:
    """A spec error (or a removed file) while watching: shown, and the watch goes on."""
    return Text(message + "\n(still watching: save the file again to re-run it)", style="bold red")

GROWTH_WIDTH = 16  # characters of the deviation-growth bar


def growth_bar(value: Any, low: float, high: float) -> str:
    """|a-b| on a log scale between the smallest and largest nonzero deviation of the table."""
    if not isinstance(value, (int, float)) or value <= 0:
        return "" if value != "inf" else "█" * GROWTH_WIDTH
    if high <= low:
        return "█"
    share = (math.log10(value) - low) / (high - low)
    return "█" * max(1, round(1 + share * (GROWTH_WIDTH - 1)))


def layers_table(case: dict, direction: str) -> Table | None:
    """One model case's layers in firing order: deviation, its growth, verdict against the budget; the first culprit marked."""
    section = (case.get("layers") or {}).get(direction)
    if not section or section.get("status") != "compared":
        return None
    rows = section["rows"]
    nonzero = [r["max_abs"] for r in rows if isinstance(r.get("max_abs"), (int, float)) and r["max_abs"] > 0]
    low, high = (math.log10(min(nonzero)), math.log10(max(nonzero))) if nonzero else (0.0, 0.0)
    tol = section["tolerance"]
    what = "output" if direction == "forward" else "input gradient"
    if any("local" in row for row in rows):  # the verdict is the local one; growth shows what accumulated
        what = ("output of each layer run alone on the reference side's recorded inputs (local)" if direction == "forward" else
                "input gradient of each layer differentiated alone on the reference side's recorded inputs and output gradient (local)") \
            + " and through the model (accumulated)"
    else:
        what += " per layer"
    table = Table(title=f"{escape(case['id'])}: layers, {direction} ({what}, in the order the hooks fired; "
                        f"budget rtol {tol['rtol']}, atol {tol['atol']})",
                  box=box.SIMPLE_HEAD, title_justify="left")
    local = any("local" in row for row in rows)  # each layer replayed alone (execution/replay.py) decides, both directions
    anchor_of = lambda row: (row.get("local") or {}).get("attribution") if local else row.get("attribution")
    anchored = any(anchor_of(row) for row in rows)
    accumulated = "accumulated max abs" if local else "max abs"
    columns = (("layer", "left"), ("type", "left"), ("shape", "left")) + ((("local max abs", "right"),) if local else ()) + (
        (accumulated, "right"), ("max rel", "right"), ("growth (log |a-b|)", "left"), ("verdict", "left"))
    for name, justify in columns + ((("against float64", "left"),) if anchored else ()):
        one_line = name in ("layer", "type", "verdict")  # one row per line: long module paths cut from the left (short_path)
        table.add_column(name, justify=justify, overflow="ellipsis" if one_line else "fold", no_wrap=one_line)
    for row in rows:
        if row["passed"] is None:
            verdict = Text(row.get("note") or "-", style="dim")
        elif row["name"] == section.get("first_divergent"):
            verdict = Text("FAIL  <- first to deviate" + ("" if not local else " (alone)"), style="bold red")
        else:
            verdict = _verdict("pass" if row["passed"] else "fail")
        replayed = row.get("local") or {}
        table.add_row(escape(short_name(row["name"])), escape(row["type"]), "x".join(map(str, row.get("shape") or [])) or "-",
                      *((_num(replayed["max_abs"]) if "max_abs" in replayed else Text("-", style="dim"),) if local else ()),
                      _num(row.get("max_abs")), _num(row.get("max_rel")),
                      Text(growth_bar(row.get("max_abs"), low, high), style="red" if row.get("accumulated_passed", row["passed"]) is False else "blue"),
                      verdict, *((escape(_anchor(anchor_of(row))),) if anchored else ()))
    return table


PATH_WIDTH = 40  # per side of a layer row's name


def short_path(path: str, width: int = PATH_WIDTH) -> str:
    """A long module path cut from the left at a part boundary: '…layers.0.layer.1.convolution'; the end says which."""
    if len(path) <= width:
        return path
    parts = path.split(".")
    kept: list[str] = []
    while parts and len(".".join([parts[-1], *kept])) + 1 <= width:
        kept.insert(0, parts.pop())
    return "…" + (".".join(kept) if kept else path[-(width - 1):])


def short_name(name: str) -> str:
    """A layer row's 'ref / cand #call' with each path shortened."""
    name, _, call = name.partition(" #")
    return " / ".join(short_path(side) for side in name.split(" / ")) + (f" #{call}" if call else "")


def layers_headline(case: dict) -> Text | None:
    """One sentence per direction above a model case's layer tables: the first layer that deviates alone, or none."""
    sentences = []
    for direction in ("forward", "backward"):
        section = (case.get("layers") or {}).get(direction)
        if not section or section.get("status") != "compared":
            continue
        first = section.get("first_divergent")
        if first is None:
            sentences.append(f"{direction.capitalize()}, no layer deviates.")
            continue
        row = next(r for r in section["rows"] if r["name"] == first)
        local = "local" in row and row["local"].get("passed") is not None
        judged = row["local"] if local else row
        sentences.append(f"{direction.capitalize()}, the first layer to deviate{' alone' if local else ''} is {first} "
                         f"({row['type']}), max abs {_num(judged.get('max_abs'))}.")
    return Text(f"{case['id']}: " + " ".join(sentences), style="bold") if sentences else None


def _anchor(record: dict | None) -> str:
    """--reference float64 on a layer row: the outlier, or a pass within float32 noise."""
    if not record:
        return "-"
    noise = f"; {record['noise_ratio']:.1f}x noise" if isinstance(record.get("noise_ratio"), (int, float)) else ""
    if record.get("within_noise"):
        return "pass (within float32 noise)" + noise
    return record["statement"].replace(" from the float64 reference", "") + noise


def layer_notes(document: dict) -> list[Text]:
    notes = []
    for case in document["cases"]:
        for direction, section in (case.get("layers") or {}).items():
            if not section:
                continue
            if section.get("status") == "unavailable":
                notes.append(Text(f"{case['id']}: no layer comparison {direction}: {section.get('message')}", style="yellow"))
            if section.get("note"):
                notes.append(Text(f"{case['id']}: layers {direction}: {section['note']}", style="yellow"))
            if section.get("not_recorded"):
                notes.append(Text(f"{case['id']}: paired but not recorded {direction} (no hook fired on the reference side): "
                                  f"{', '.join(section['not_recorded'])}", style="dim"))
            elif section.get("first_divergent"):
                row = next(r for r in section["rows"] if r["name"] == section["first_divergent"])
                inherited = " (forward already deviates: gradients inherit it)" if section.get("after_forward_deviation") else ""
                judged = row["local"] if "accumulated_passed" in row else row  # a local verdict names the layer itself
                alone = ("" if judged is row else " run alone on the reference side's inputs" if direction == "forward"
                         else " differentiated alone on the reference side's inputs and output gradient")
                notes.append(Text.assemble((f"{case['id']}: ", "bold"), (f"first layer to deviate ({direction}): ", "red"),
                                           (f"{row['name']} ({row['type']})", "bold red"),
                                           f"{alone}, max abs {_num(judged.get('max_abs'))}" + (f": {judged['reason']}" if judged.get("reason") else "")
                                           + (f"; {judged['attribution']['statement']}" if judged.get("attribution") else "")
                                           + inherited))
    return notes


def render_document(console: Console, document: dict, quiet: bool = False) -> None:
    for renderable in document_renderables(document, quiet):
        console.print(renderable)


def document_renderables(document: dict, quiet: bool = False) -> Iterator[Any]:
    """What `eqcheck run` and `show` print for a report, in order (a Python Report yields the same)."""
    if not quiet or any(c["status"] not in QUIET_STATUSES for c in document["cases"]):
        yield results_table(document, only_problems=quiet)
    for case in document["cases"]:
        if quiet and case["status"] in QUIET_STATUSES:
            continue
        headline = layers_headline(case)
        if headline is not None:
            yield headline
        for direction in ("forward", "backward"):
            table = layers_table(case, direction)
            if table is not None:
                yield table
    yield from layer_notes(document)
    yield from failure_notes(document)
    yield from skipped_edge_notes(document)
    yield from stale_notes(document)
    if quiet and (count := native_log_count(document)) is not None:
        yield count
    if "explore" in document:
        table = explore_table(document, only_skips=quiet)
        if table is not None and not quiet:
            yield table
        yield explore_line(document["explore"])
    yield summary_line(document)


@contextmanager
def progress_bar(console: Console, total: int, enabled: bool) -> Iterator[Any]:
    """A transient bar on terminals for multi-case runs; elsewhere a no-op advance()."""
    if not enabled or total < 2 or not console.is_terminal:
        yield lambda case_id: None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, transient=True)
    with bar:
        task = bar.add_task("running", total=total)

        def advance(case_id: str) -> None:
            bar.update(task, advance=1, description=escape(case_id[:60]))

        yield advance


def case_list_table(rows: list[tuple[str, str]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("case id")
    table.add_column("spec")
    for case_id, path in rows:
        table.add_row(escape(case_id), escape(path))
    return table


def partial_map_table(case_id: str, partial, unpaired: dict[str, list[str]], params: dict, frameworks: list[str]) -> list[Any]:
    """A refused `eqcheck map`: the pairs that were found, then what is left on each side (the refusal follows)."""
    ref, cand = frameworks
    table = Table(title=f"{escape(case_id)}: partial weight map ({len(partial.proposals)} paired, refused)", box=box.SIMPLE_HEAD,
                  title_justify="left")
    for name in (ref, "shape", cand, "shape", "how"):
        table.add_column(name, overflow="fold")
    shape = lambda fw, name: "x".join(map(str, params[fw][name].shape)) or "scalar"
    for p in partial.proposals:
        a, b = p.entry.sides[ref].name, p.entry.sides[cand].name
        table.add_row(escape(a), shape(ref, a) if a in params[ref] else "-", escape(b), shape(cand, b) if b in params[cand] else "-", p.how)
    left = Table(title="left unpaired", box=box.SIMPLE_HEAD, title_justify="left")
    for name in ("side", "parameter", "shape"):
        left.add_column(name, overflow="fold")
    for fw in frameworks:
        for name in unpaired.get(fw, []):
            left.add_row(fw, escape(name), shape(fw, name))
    return [table, left]


def weight_map_tables(case_id: str, weight_map, params: dict, layers: list, frameworks: list[str],
                      unwatched: dict[str, dict[str, str]] | None = None) -> list[Any]:
    """`eqcheck map`: every canonical weight with each side's parameter and how it was paired; what stays unshared;
    layer pairs and every module left unwatched."""
    ref, cand = frameworks
    table = Table(title=f"{escape(case_id)}: weight map ({len(weight_map.weights)} shared)", box=box.SIMPLE_HEAD, title_justify="left")
    for name in ("canonical", f"{ref}", "shape", f"{cand}", "shape", "how"):
        table.add_column(name, overflow="fold")
    style = {"name": "green", "override": "bold", "module": "cyan", "order+shape": "yellow"}
    for w in weight_map.weights:
        a, b = w.sides[ref], w.sides[cand]
        layout = lambda side: escape(side.param + "".join(f" |{t.kind}" for t in side.transforms))
        table.add_row(escape(w.name), layout(a), "x".join(map(str, params[ref][a.param].shape)) or "scalar",
                      layout(b), "x".join(map(str, params[cand][b.param].shape)) or "scalar",
                      Text(w.how or "identical name", style=style.get(w.how, "")))
    out: list[Any] = [table]
    if any(weight_map.skipped.values()):
        skipped = Table(title="not shared", box=box.SIMPLE_HEAD, title_justify="left")
        for name in ("side", "parameter", "reason"):
            skipped.add_column(name, overflow="fold")
        for fw, reasons in weight_map.skipped.items():
            for param, reason in reasons.items():
                skipped.add_row(fw, escape(param), escape(reason))
        out.append(skipped)
    if layers:
        pairs = Table(title=f"layers watched ({len(layers)} pairs)", box=box.SIMPLE_HEAD, title_justify="left")
        for name in (ref, "type", cand, "type", "paired by"):
            pairs.add_column(name, overflow="fold")
        for p in layers:
            pairs.add_row(escape(p.ref), escape(p.ref_type), escape(p.cand), escape(p.cand_type), p.how)
        out.append(pairs)
    if unwatched and any(unwatched.values()):
        loose = Table(title=f"not watched ({sum(map(len, unwatched.values()))} modules: no partner; pair one under layers:)",
                      box=box.SIMPLE_HEAD, title_justify="left")
        for name in ("side", "module", "type"):
            loose.add_column(name, overflow="fold")
        for fw, modules in unwatched.items():
            for path, kind in modules.items():
                loose.add_row(fw, escape(path), escape(kind))
        out.append(loose)
    out.append(Text("review the proposal: 'module' pairs rest on execution order and parameter shapes, 'order+shape' pairs on "
                    "declaration order; correct any pair under weights: in the spec", style="dim"))
    return out
