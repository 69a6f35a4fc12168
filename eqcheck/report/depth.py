"""The explore-depth section of docs/coverage.md: per pair, the torch samples still out of MindSpore's reach and why.

Computed from the specs and torch's cached samples alone (`explore_cases`: the counts `list --explore` prints), no
run: each argument a sample sets that no map carries (`unmapped`) or that the map refuses (`not supported`), with
its reason from the map (`unsupported:`, `unsupported_inputs:`), from the pair's "Differences with torch.X" page where it
has a row for the argument (mapping/pytorch_diff-*.json), or from MindSpore's signature (no such parameter)."""

from __future__ import annotations

import re

from eqcheck.backends.samples import cache, diff_pages
from eqcheck.report.markdown import cell

HEADING = "## Explore depth"
_VALUE = re.compile(r"^(\w+)=(.*)$")


def _page_reason(what: str, page: dict | None) -> str | None:
    """The page's row for the argument `what` names (`mode=bicubic`: mode's), as the depth cell cites it; none for a
    row that says the two agree (the reason lies elsewhere) or for eqcheck's own reasons (`weight: a tensor ...`)."""
    name = re.split(r"[ =]", what, maxsplit=1)[0]
    row = next((r for r in page["rows"] if r["torch"] == name), None) if page and ": " not in what else None
    if row is None or row["kind"] == "consistent":
        return None
    return f"MindSpore's page ({page['page'].removesuffix('.md')}, {page['branch']}): {row['kind']}: {row['reason']}"


def _why_unmapped(what: str, spec, ms_names: dict | None, page: dict | None = None) -> str:
    cited = _page_reason(what, page)
    if cited:
        return cited
    if what.startswith(("call positional", "init positional")):
        return "torch's signature is unreadable (a wrapped or C op): `explore.signature` names the positions"
    match = _VALUE.match(what)
    if match and match.group(1) in (spec.explore.arguments if spec.explore else {}):
        return f"the map's `values:` has no MindSpore form of {match.group(2)}"
    theirs = (ms_names or {}).get("call") or []
    if ms_names is None or not theirs and not (ms_names or {}).get("init"):
        return "MindSpore's signature is unreadable: no same-name rule; needs a map entry"
    if what in theirs or what in ((ms_names or {}).get("init") or []):
        return "the spec sets it and the sample leaves it at torch's default: needs the map's `default:`"
    return f"MindSpore's op has no parameter `{what}` ({', '.join(theirs[:8])}): a rename or `unsupported:` from its page"


def _why_not_supported(what: str, spec, page: dict | None = None) -> str:
    explore = spec.explore
    name = re.split(r"[ =:]", what, maxsplit=1)[0]
    if explore and what.endswith(tuple(f"ndim={n}" for n in range(9))) and name in explore.unsupported_inputs:
        return explore.unsupported_inputs[name].reason
    if explore and name in explore.arguments and explore.arguments[name].unsupported:
        return explore.arguments[name].unsupported
    match = _VALUE.match(what)
    if explore and match and name in explore.arguments:  # a value the map's `values:` marks unsupported
        reason = next((r for k, r in explore.arguments[name].value_unsupported.items() if str(k) == match.group(2)), None)
        if reason:
            return reason
    cited = _page_reason(what, page)
    if cited:
        return cited
    if "=" in what:
        return "a torch-only value (a dtype, a function, None where MindSpore needs a number)"
    return what.split(": ", 1)[1] if ": " in what else "-"


def _why_no_entry(note: str, spec) -> str:
    """A spec torch's test databases have no entry for says so plainly: not a sample gap a map could close."""
    if not note.startswith(("no opinfo entry", "no module entry")):
        return note
    if spec.sides["torch"].op.startswith("torch.optim.lr_scheduler."):
        return f"{note}: not a tensor op (op_db, module_db and optim_db hold tensor ops, nn modules and optimizers; " \
               "no test database holds LR schedules)"
    return f"{note}, nor under another name: torch's test databases have no samples for it (a tensor attribute such " \
           "as shape, numel or is_signed, or an op they do not cover)"


def render(specs: list, tallies: dict[str, dict], mapping=diff_pages.MAPPING) -> str:
    """The section; `mapping`: the folder of the parsed pages (mapping/pytorch_diff-*.json)."""
    by_name = {spec.name: spec for spec in specs}
    names = cache.mindspore_names(sorted({by_name[n].sides["mindspore"].op for n in tallies
                                          if "mindspore" in by_name[n].sides}))
    total = sum(t["samples"] for t in tallies.values())
    run = sum(t["run"] for t in tallies.values())
    lines = [HEADING, "",
             f"torch's own samples (`--explore`) reaching MindSpore, computed from the specs and the sample cache without a "
             f"run: {run} of {total} samples run over {len(tallies)} specs. Each row is a pair with samples out of reach: "
             "the argument, how many samples set it, and why (the map's reason, the pair's \"Differences with\" page where it has a "
             "row for the argument, or MindSpore's signature). "
             "`unmapped` is work (a map entry from the pair's \"Differences with\" page); `not supported` is documented.",
             "", "| spec | torch API | MindSpore API | entries | run / samples | out of reach |", "| --- | --- | --- | --- | ---: | --- |"]
    for name in sorted(tallies):
        tally, spec = tallies[name], by_name[name]
        if tally["run"] == tally["samples"] and not tally.get("note"):
            continue
        ms_op = spec.sides["mindspore"].op if "mindspore" in spec.sides else "-"
        page = diff_pages.page(spec.sides["torch"].op, ms_op, mapping)
        parts = [f"unmapped `{a}` x{n}: {_why_unmapped(a, spec, names.get(ms_op), page)}" for a, n in tally["unmapped"].items()]
        parts += [f"not supported `{a}` x{n}: {_why_not_supported(a, spec, page)}" for a, n in tally["not_supported"].items()]
        if tally.get("note"):
            parts.append(_why_no_entry(tally["note"], spec))
        lines.append(f"| {name} | `{spec.sides['torch'].op}` | `{ms_op}` | {cell(tally['entry'] or '-')} | "
                     f"{tally['run']} / {tally['samples']} | {cell('; '.join(parts)[:600])} |")
    return "\n".join(lines) + "\n"


def splice(page: str, section: str) -> str:
    """The page with its explore-depth section (the last one) replaced by `section`, or `section` appended."""
    head = page.split("\n" + HEADING, 1)[0].rstrip("\n")
    return head + "\n\n" + section


def compute(configs: str) -> tuple[list, dict[str, dict]]:
    from eqcheck.cases import load_specs
    from eqcheck.cases.explore import explore_cases

    specs = [s for s in load_specs([configs]) if not s.is_model and "torch" in s.sides]
    return specs, explore_cases(specs, ("float32",))[1]
