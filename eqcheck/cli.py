"""Command line. Commands stay small; heavy modules (frameworks, numpy, rich) are imported inside the commands that need them.

Exit codes: 0 all passed (or differed as declared), 1 a failure or case error, 2 usage or spec error, 130 interrupted.
"""

from __future__ import annotations

import sys

import click
from pathlib import Path

from eqcheck import __version__
from eqcheck.gate.cli import COMMANDS as GATE_COMMANDS
from eqcheck.gate.cli import gate_option_names, gate_options, gate_session
from eqcheck.gate import options as option_types
from eqcheck.errors import EqcheckError, SpecError

class InputError(click.ClickException):
    """A user's input was wrong: one paragraph on stderr, exit 2, no traceback."""

    exit_code = 2


class SafePath(click.Path):
    """click.Path lets os.stat's ValueError (a NUL byte in the name) escape as a traceback; make it a usage error."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except ValueError as exc:
            self.fail(f"{value!r} is not a usable path ({exc})", param, ctx)


class EqcheckGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EqcheckError as exc:
            raise InputError(exc.paragraph()) from None


@click.group(cls=EqcheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eqcheck")
def main() -> None:
    """Prove (or disprove) that PyTorch and MindSpore compute the same thing.

    Each operator spec (YAML) names the op on each side, argument renames, a sweep, inputs and a weight
    map. eqcheck builds both sides from one shared weight set, feeds identical seeded inputs and reports
    every output's deviation against per-dtype tolerances.
    """


paths_argument = click.argument("paths", nargs=-1, required=True, type=SafePath())
select_option = click.option("-k", "selection", metavar="EXPR", help="Select case ids: words match substrings; and/or/not, parentheses.")
boundary_option = click.option("--boundary", is_flag=True, help="Also run boundary variants of every spec (argument values, "
                               "empty/size-1/odd shapes, a larger batch, non-contiguous and channels-last inputs, domain tails, "
                               "a stale-memory decoy; docs/boundary.md).")
explore_option = click.option("--explore", is_flag=True, default=None, help="Also run torch's own test samples of each spec's op (OpInfo, "
                              "ModuleInfo; ids ...,sample=K]) through its explore: argument map (docs/explore.md).")
edges_option = click.option("--edges", is_flag=True, help="Also run edge variants of every case (NaN/Inf, integers, kinks, masked "
                            "slices, zero batch, single-element reductions; docs/edges.md); implies --repeat 2.")


def _allow_modules(ctx, param, values):
    from eqcheck.spec import allowlist

    for value in values:
        for prefix in value.split(","):
            if prefix.strip() and not all(part.isidentifier() for part in prefix.strip().rstrip(".").split(".")):
                raise click.BadParameter(f"'{prefix}' is not a module prefix such as mypackage.models", param=param)
    allowlist.allow_modules([p for value in values for p in value.split(",")])


def _allow_ops(ctx, param, values):
    from eqcheck.spec import allowlist

    paths = [p.strip() for value in values for p in value.split(",") if p.strip()]
    for path in paths:
        if not all(part.isidentifier() for part in path.split(".")):
            raise click.BadParameter(f"'{path}' is not a dotted callable such as torch.nn.init.ones_", param=param)
    allowlist.allow_ops(paths)


allow_module_option = click.option(
    "--allow-module", "allow_module", multiple=True, metavar="PREFIX", expose_value=False, callback=_allow_modules,
    help="Opt a Python package in for model specs' factories (repeatable; also EQCHECK_ALLOWED_MODULES). Importing it runs its code.")
allow_op_option = click.option(
    "--allow-op", "allow_op", multiple=True, metavar="PATH", expose_value=False, callback=_allow_ops,
    help="Let specs name this one callable beyond eqcheck's reviewed list (repeatable; also EQCHECK_ALLOWED_OPS).")
dtype_option = click.option("--dtype", "dtypes", metavar="LIST", help="Comma list of float dtypes, replacing each spec's own (e.g. float32,float64).")


@main.command()
@paths_argument
@select_option
@dtype_option
@allow_module_option
@allow_op_option
@click.option("--json", "json_path", type=SafePath(dir_okay=False), help="Also write the JSON report here (atomically).")
@click.option("--seed", type=option_types.SEED, default=None, help="Seed for shared weights and inputs (recorded in the report).")
@click.option("--device", default="cpu", show_default=True, metavar="DEV",
              help="cpu, gpu, or per target: torch=gpu,mindspore=cpu.")
@click.option("--targets", default="torch,mindspore", show_default=True, metavar="A,B",
              help="The two targets to compare; an inline device compares one framework across devices: torch:gpu,torch:cpu.")
@click.option("--weights", "weights_file", type=SafePath(dir_okay=False), help="A .npz of canonical weights to use instead of the seeded draw.")
@click.option("--inputs", "inputs", type=SafePath(dir_okay=False), metavar="FILE",
              help="Real data: each array of this .npz (or torch .pt dict, weights_only) replaces the spec input of its name; "
                   "shapes and dtypes are checked first.")
@click.option("-q", "--quiet", is_flag=True, help="Only failing rows and the summary (for CI logs); declared differences "
                                                  "are a count in the summary, the reports keep everything.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=None, metavar="N",
              help="Run cases in N isolated worker processes (a crash or hang costs one case) [default: 1]; 0: in this "
                   "process, for debugging (a native crash then ends the run).")
@click.option("--timeout", type=option_types.TIMEOUT, default=None, metavar="S",
              help="Per-case time limit in seconds for worker processes [default: 300]; turns --jobs 0 into --jobs 1.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Intra-op threads per framework and process; fixed, so a report does not depend on --jobs or the core count.")
@click.option("--grad/--no-grad", default=None, help="Also compare gradients w.r.t. float inputs and parameters (spec: grad: true); --no-grad turns a spec's off.")
@click.option("--reference", type=click.Choice(["float64"]), default=None,
              help="Re-run each case in float64: each side's distance from it, the outlier, float32-noise verdicts.")
@click.option("--error-budget/--no-error-budget", "error_budget", default=None,
              help="Judge a row that fails its tolerance again against float64 re-runs (default on; docs/verdicts.md).")
@click.option("--strict-precision", is_flag=True, default=None,
              help="Fail rows where one side is >=10x further from float64 than the other (runs every case in float64).")
@click.option("--trials", type=click.IntRange(min=1), default=None, metavar="N",
              help="N independent seeds per case; the report keeps the worst trial and the spread of max_abs.")
@click.option("--export-side", type=SafePath(file_okay=False), default=None, metavar="DIR",
              help="Run only the one target of --targets and record it (inputs, weights, cotangents, outputs) in DIR, "
                   "for --against on another machine.")
@click.option("--against", type=SafePath(file_okay=False), default=None, metavar="DIR",
              help="Compare the one target of --targets, run here, with the side recorded in DIR by --export-side.")
@click.option("--executor", "executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process or --jobs worker processes; ray: Ray actors on a cluster (pip install 'eqcheck[ray]').")
@click.option("--address", default=None, metavar="ADDR",
              help="With --executor ray: auto (the running cluster this node belongs to), ray://HOST:PORT, or local (a new "
                   "instance); default: Ray's own choice (a running local cluster, else a new instance).")
@click.option("--resources", default=None, metavar="T=R:N,...",
              help="With --executor ray: Ray resources a target needs, e.g. torch=GPU:1; targets asking for different ones "
                   "run on two actors (two nodes if need be).")
@click.option("--strict-logs", "strict_logs", is_flag=True, default=None,
              help="Fail a case during which a kernel logged an error line to the native log (e.g. MindSpore's [ERROR]), "
                   "even if every row passed; the lines are on the case in the JSON report.")
@edges_option
@boundary_option
@explore_option
@click.option("--repeat", type=click.IntRange(min=1), default=None, metavar="N",
              help="Call each side N times on the same inputs and compare the results bitwise (status nondeterministic).")
@click.option("--force", is_flag=True, help="Write reports through a symlink or device path instead of refusing it.")
@click.option("--fresh", is_flag=True, default=None, help="Run each case in a worker process of its own, so that no case "
              "runs after another (slower: a framework import per case); `eqcheck recheck` compares such a run with a catalog run.")
@gate_options  # --baseline, --golden, --save-golden, --junit, --markdown, --html, --shard (eqcheck/gate/cli.py)
def run(paths, json_path, quiet, device, targets, export_side=None, against=None, force=False, **options):
    """Run specs (files or folders) and report the deviations."""
    from eqcheck.report.paths import check_outputs

    check_outputs({"--json": json_path, **{f"--{k}": options.get(k) for k in ("junit", "markdown", "html")}}, force)
    from eqcheck.execution.session import ExportManifest, RunSession, StrictLogs
    from eqcheck.execution.settings import RunSettings
    from eqcheck.report import console as view
    from eqcheck.report import document as doc
    from eqcheck.report.run_view import JsonWriter, Progress, RunView

    settings = RunSettings.from_options(paths, options)  # the options named like its fields; the rest are the gate's
    with RunSession(settings, targets=targets, device=device, export_side=export_side, against=against) as session:
        session.prepare()  # workers start first: their framework import overlaps spec loading
        out, err = view.make_console(), view.make_console(stderr=True)
        gating = gate_session(options, session.settings.seed, out, err)  # reads --baseline/--golden: exit 2 before any case runs
        observers = [
            *([StrictLogs()] if settings.strict_logs else []),  # first: it may fail a case the others then see
            gating,
            *([ExportManifest(session, doc.base_environment)] if export_side else []),
            Progress(err, enabled=not quiet),
            *([JsonWriter(json_path, lambda: session.snapshot(doc.build_document))] if json_path else []),
            RunView(out, err, quiet=quiet, json_path=json_path),
        ]
        code = session.run(observers, doc.build_document)
    sys.exit(code)


@main.command(name="list")
@paths_argument
@select_option
@dtype_option
@allow_module_option
@allow_op_option
@edges_option
@boundary_option
@explore_option
def list_cases(paths, selection, dtypes, edges, boundary, explore=False):
    """Print every case id, one per line (imports no framework)."""
    if dtypes or edges or boundary or explore:
        from eqcheck.execution.session import load_cases

        loaded = load_cases(paths, selection=selection, dtypes=dtypes, edges=edges, boundary=boundary or explore,
                            explore=bool(explore))
        ids, explored = [case.id for case in loaded.cases], loaded.explored
    else:  # the spec's own dtypes: unchanged files answer from the cache (eqcheck/cases/spec_cache.py)
        from eqcheck.cases.selection import compile_selection
        from eqcheck.cases.spec_cache import summaries

        explored = None
        matches = compile_selection(selection)
        ids = [i for summary in summaries(list(paths)) for i in summary.ids if matches(i)]
        if not ids:
            raise click.UsageError(f"no case id matches -k '{selection}'" if selection else "the specs define no cases")
    click.echo("\n".join(ids))
    for name, tally in (explored or {}).items():  # stderr: stdout stays one id per line
        skipped = {**{f"unmapped ({a})": n for a, n in tally["unmapped"].items()},
                   **{f"not supported ({a})": n for a, n in tally["not_supported"].items()}}
        click.echo(f"{name}: {tally['run']} of {tally['samples']} samples of {tally['source']}:{tally['entry']}"
                   + "".join(f"; {k} x{n}" for k, n in skipped.items()) + (f" ({tally['note']})" if tally.get("note") else ""),
                   err=True)


@main.command()
@paths_argument
@allow_module_option
@allow_op_option
def validate(paths):
    """Check specs against the schema and evaluate every size expression (imports no framework)."""
    from eqcheck.cases.spec_cache import summaries

    specs = summaries(list(paths))
    click.echo("\n".join(f"ok  {spec.path}  ({spec.name}, {len(spec.ids)} cases)" for spec in specs))
    click.echo(f"{len(specs)} specs valid")


@main.command()
@click.argument("report", type=SafePath())
@click.option("-q", "--quiet", is_flag=True, help="Only failing rows and the summary.")
def show(report, quiet):
    """Render a saved JSON report again."""
    from eqcheck.report import console as view
    from eqcheck.report import document as doc

    document = doc.read(report)
    view.render_document(view.make_console(), document, quiet=quiet)


@main.command()
def env():
    """Python, numpy, torch and MindSpore versions, and the devices each can use."""
    from eqcheck.report.environment import describe

    from eqcheck.report import console as view

    view.make_console().print(describe())


@main.command()
@click.argument("case_id")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder for repro.py and case.npz.")
@click.option("--seed", type=option_types.SEED, default=None, help="Seed for shared weights and inputs (as given to run).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Intra-op threads per framework and process; fixed, so a report does not depend on --jobs or the core count.")
@click.option("--grad", is_flag=True, default=None, help="Also reproduce the gradients (cotangents go into the .npz).")
@allow_module_option
@allow_op_option
def repro(case_id, paths, out_dir, seed, threads, grad):
    """Write a self-contained script + .npz reproducing CASE_ID with plain torch and MindSpore (default paths: configs/)."""
    from eqcheck.cases.case_id import parts
    from eqcheck.cases.draws import resolve_seed
    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.session import load_cases

    named = parts(case_id)
    selection = dict(edges="edge" in named,  # an --edges variant
                     boundary="boundary" in named,  # a --boundary variant (its layout and decoy call are not in the script)
                     explore="sample" in named)  # an --explore sample (its tensors go into the .npz)
    cases = load_cases(paths or ("configs",), **selection).cases
    matching = [c for c in cases if c.id == case_id]
    if not matching:
        dtype = named.get("dtype")
        if dtype in ("float16", "bfloat16", "float64"):  # a --dtype case id
            cases = load_cases(paths or ("configs",), dtypes=dtype, **selection).cases
            matching = [c for c in cases if c.id == case_id]
    if not matching:
        raise click.BadParameter(f"no case '{case_id}' (see `eqcheck list {' '.join(paths) or 'configs'}`)", param_hint="'CASE_ID'")
    from eqcheck.execution.settings import RunSettings

    case = RunSettings(grad=grad, trials=1).apply(matching)[0]

    from eqcheck.report import repro as repro_module
    from eqcheck.execution.runner import CaseRunner

    runner = CaseRunner(parse_targets("torch,mindspore", "cpu"), seed=resolve_seed(seed), threads=threads)
    runner.start()
    runner.preflight([case])
    result = runner.run(case)
    if runner.trial is None or runner.trial.case is not case:
        raise click.ClickException(f"{case_id} did not run to its outputs ({result.status}: {result.message})")
    script, npz = repro_module.write(runner, case, result, out_dir)
    click.echo(f"{case_id}: {result.status}")
    for out in result.outputs:
        if out.deviation is not None:
            click.echo(f"{out.name}: max_abs={out.deviation.max_abs!r}")
    click.echo(f"wrote {script} and {npz}; run: python {script}")


@main.command()
@click.argument("torch_path")
@click.argument("mindspore_path")
@click.option("-o", "--output", "out_file", type=SafePath(dir_okay=False), help="Write the draft here instead of stdout.")
def scaffold(torch_path, mindspore_path, out_file):
    """Draft a spec for TORCH_PATH vs MINDSPORE_PATH from their signatures (imports both frameworks).

    Renames come from a table and name similarity; differing defaults are written out on both sides;
    parameters and buffers are listed for the weight map; TODO marks every guess.
    """
    from eqcheck.spec.scaffold import draft

    text = draft(torch_path, mindspore_path)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_file}; check its TODOs, then: eqcheck run {out_file}")
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("report", type=SafePath())
@click.option("-o", "--output", "out_file", type=SafePath(dir_okay=False), default="configs/CATALOG.md", show_default=True,
              help="Where to write the catalog page.")
@click.option("--root", default="configs", show_default=True, help="The specs' root folder: families are its subfolders.")
def catalog(report, out_file, root):
    """Write the catalog page (pairs, families, statuses, worst deviations) from a run's JSON report."""
    from eqcheck.report import catalog as catalog_page
    from eqcheck.report import document as doc
    from eqcheck.report.markdown import write

    document = doc.read(report)
    write(out_file, catalog_page.render(document, root, command=f"eqcheck catalog REPORT.json -o {out_file}"))
    click.echo(f"wrote {out_file} ({len(catalog_page.rows(document, root))} pairs)")


@main.command()
@click.argument("report", type=SafePath())
@click.option("-o", "--output", "out_file", type=SafePath(dir_okay=False), default="docs/findings.md", show_default=True,
              help="Where to write the findings page.")
@click.option("--commentary", type=SafePath(dir_okay=False), default="docs/findings-commentary.md", show_default=True,
              help="The hand-written part, included verbatim at the top of the page.")
@click.option("--shrink", is_flag=True, help="Re-run smaller variants of each finding's example (fewer elements) and "
              "report the smallest that still fails the same way; imports the frameworks.")
@click.option("--fingerprints", is_flag=True, help="Instead of the page: write into each spec file the fingerprint "
              "(rows, symptom, measured max_abs) of every declaration the run matched, so nobody types the numbers.")
@click.option("--retire", is_flag=True, help="With --fingerprints: also drop the declarations that covered cases and "
              "matched none (intermittent ones stay).")
def findings(report, out_file, commentary, shrink, fingerprints, retire):
    """Write the findings page from a run's JSON report: failing and declared cases once per root cause
    (spec x variant x symptom) with counts, the smallest example, a repro command and the spec line to declare it."""
    from eqcheck.report import document as doc
    if fingerprints:
        from eqcheck.report import fingerprints as prints

        done = prints.apply(doc.read(report)["cases"], retire=retire)
        click.echo(f"{done['written']} fingerprints written into {done['files']} spec files; {len(done['retired'])} "
                   f"stale declarations retired; {len(done['left'])} left as they were (mixed symptoms)")
        for spec, name in done["left"]:
            click.echo(f"  mixed: {spec} {name}")
        for spec, name in done["retired"]:
            click.echo(f"  retired: {spec} {name}")
        return
    from eqcheck.report import findings as findings_page
    from eqcheck.report.markdown import write

    try:
        text = Path(commentary).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {commentary}: {exc.strerror}", param_hint="--commentary") from None
    document = doc.read(report)
    found = findings_page.collect(document)
    if shrink:
        findings_page.shrink_findings(found, document)
    write(out_file, findings_page.render(document, text, found=found,
                                         command=f"eqcheck findings REPORT.json -o {out_file}"))
    click.echo(f"wrote {out_file} ({len(found)} findings from {sum(len(f.cases) for f in found)} cases)")


@main.command()
@click.argument("report", type=SafePath())
@click.option("--sample", "count", type=click.IntRange(min=1), default=None, metavar="N",
              help="Run a seeded random sample of N of the report's cases, each in a process of its own, and compare "
                   "every status, failing row and max |diff| with the report: 0 differences, or exit 1.")
@click.option("--draw", "draw_seed", type=int, default=0, show_default=True, help="The seed of the --sample draw.")
@click.option("--intermittent", "repeats", type=click.IntRange(min=1), default=None, metavar="N",
              help="Run every case an intermittent declaration covers N times, each in a process of its own, and say "
                   "in how many runs each declaration showed (0: retire it; N: it is not intermittent).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=2, show_default=True, help="Worker processes.")
@click.option("--json", "json_path", type=SafePath(dir_okay=False), default=None, help="Write the re-run's cases here.")
def recheck(report, count, draw_seed, repeats, jobs, json_path):
    """Re-run cases of a run's JSON report each in a fresh worker process: a verdict must not depend on the cases
    that ran before it (--sample), and an intermittent declaration is measured, not remembered (--intermittent)."""
    import json

    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.settings import RunSettings
    from eqcheck.execution.workers import order_results
    from eqcheck.gate import recheck as checks
    from eqcheck.report import document as doc

    if (count is None) == (repeats is None):
        raise click.UsageError("give one of --sample N or --intermittent N")
    document = doc.read(report)
    ran = document["settings"]
    names = ("grad", "reference", "trials", "error_budget", "strict_precision", "repeat", "edges", "boundary", "explore")
    settings = RunSettings.from_options((), {k: ran.get(k) for k in names} | {"jobs": jobs, "fresh": True})
    settings = settings.replace(targets=tuple(parse_targets(",".join(ran["targets"]), "cpu")), seed=document["seed"])

    def cases_of(files: set[str]) -> list:
        from eqcheck.execution.session import load_cases

        return settings.apply(load_cases(tuple(sorted(files)), dtypes=ran.get("dtypes"), edges=bool(settings.edges),
                                         boundary=bool(settings.boundary or settings.explore),
                                         explore=bool(settings.explore)).cases)

    def run_fresh(cases: list) -> list[dict]:
        executor = settings.make_executor()
        try:
            executor.start(cases)
            return [doc.case_record(r) for r in order_results(list(executor.run(cases)), cases)]
        finally:
            executor.close()

    if count is not None:
        spec_of = {c["id"]: c["spec"] for c in document["cases"]}
        everything = cases_of(set(spec_of.values()))
        intermittent = {c.id for c in everything if c.expected_difference and c.expected_difference.intermittent}
        wanted = set(checks.sample(document["cases"], count, draw_seed, intermittent))
        fresh = run_fresh([c for c in everything if c.id in wanted])
        found = checks.differences(document["cases"], fresh)
        for line in found:
            click.echo(line)
        click.echo(f"{len(fresh)} cases re-run each in a fresh process (draw {draw_seed}): {len(found)} differences from {report}")
        outcome = {"cases": fresh, "differences": found}
    else:
        from eqcheck.cases import load_specs

        files = {c["spec"] for c in document["cases"]}
        files = {s.path for s in load_specs(sorted(files)) if any(e.intermittent for e in s.expected_differences)}
        cases = [c for c in cases_of(files) if c.expected_difference and c.expected_difference.intermittent]
        runs = [run_fresh(cases) for _ in range(repeats)]
        counts = checks.shown(runs)
        for (spec, name), (k, n) in sorted(counts.items()):
            verdict = "retire it" if k == 0 else ("not intermittent" if k == n else f"intermittent: {{shown: {k}, runs: {n}}}")
            click.echo(f"{spec} {name}: shown in {k} of {n} fresh runs ({verdict})")
        found = []
        outcome = {"runs": runs, "shown": [[s, n, k, r] for (s, n), (k, r) in sorted(counts.items())]}
    if json_path:
        Path(json_path).write_text(json.dumps(outcome, allow_nan=False), encoding="utf-8")
    sys.exit(1 if found else 0)


@main.command()
@click.argument("report", type=SafePath(), required=False)
@click.option("-o", "--output", "out_file", type=SafePath(dir_okay=False), default="docs/coverage.md", show_default=True,
              help="Where to write the coverage page.")
@click.option("--configs", default="configs", show_default=True, help="The specs that cover the table's rows.")
@click.option("--mapping", "mapping_dir", default="mapping", show_default=True,
              help="The parsed mapping tables and diff pages, reasons.yaml and table_errors.yaml.")
@click.option("--depth-only", is_flag=True,
              help="Rewrite only the page's explore-depth section (computed from the specs and torch's samples; no REPORT).")
def coverage(report, out_file, configs, mapping_dir, depth_only):
    """Write the coverage page: every row of MindSpore's PyTorch API mapping tables, its spec and status, or why none;
    last, per pair, the torch samples (--explore) still out of MindSpore's reach and why."""
    from pathlib import Path

    from eqcheck.report import coverage as coverage_page
    from eqcheck.report import depth
    from eqcheck.report import document as doc
    from eqcheck.report.markdown import write

    if report is None and not depth_only:
        raise click.UsageError("give the REPORT.json of a run of the configs (or --depth-only to refresh the depth section)")
    section = depth.render(*depth.compute(configs), mapping=mapping_dir)
    if depth_only:
        write(out_file, depth.splice(Path(out_file).read_text(encoding="utf-8") if Path(out_file).exists() else "", section))
        click.echo(f"wrote the explore-depth section of {out_file}")
        return
    document = doc.read(report)
    text = coverage_page.render(document, mapping_dir, configs, command=f"eqcheck coverage REPORT.json -o {out_file}",
                                depth=section)
    write(out_file, text)
    click.echo(f"wrote {out_file} ({len(coverage_page.page_rows(text))} rows)")


@main.command(name="map")
@paths_argument
@allow_module_option
@allow_op_option
@click.option("-k", "selection", metavar="EXPR", help="Select case ids (default: the first case of each spec).")
def map_weights(paths, selection):
    """Show the proposed weight map and layer pairs of model specs, for review (builds both sides, runs nothing).

    An ambiguous or unmatched parameter is refused (exit 2) with the full list; overrides go under `weights:`.
    """
    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.runner import CaseRunner
    from eqcheck.execution.session import load_cases
    from eqcheck.report import console as view

    loaded = load_cases(paths, selection=selection)
    specs, cases = loaded.specs, loaded.cases
    if not selection:
        cases = [next(c for c in cases if c.spec is spec) for spec in specs]
    runner = CaseRunner(parse_targets("torch,mindspore", "cpu"))
    runner.start()
    runner.preflight(cases)
    out = view.make_console()
    frameworks = [t.framework for t in runner.targets]
    for case in cases:
        try:
            proposal = runner.map_case(case)
        except SpecError as exc:  # a refused map: its best partial proposal first, then the refusal (exit 2)
            if getattr(exc, "partial", None) is not None:
                for renderable in view.partial_map_table(case.id, exc.partial, exc.unpaired, exc.params, frameworks):
                    out.print(renderable)
            raise
        paired = {frameworks[0]: {p.ref for p in proposal["layers"]}, frameworks[1]: {p.cand for p in proposal["layers"]}}
        unwatched = {fw: {path: kind for path, kind in proposal["submodules"][fw].items() if path not in paired[fw]} for fw in frameworks}
        for renderable in view.weight_map_tables(case.id, proposal["weight_map"], proposal["params"], proposal["layers"],
                                                 frameworks, unwatched):
            out.print(renderable)
        if proposal["probe_failures"]:  # the plan above rests on declaration order alone: not a map to trust
            failed = "; ".join(f"{fw}: {why}" for fw, why in proposal["probe_failures"].items())
            raise SpecError(f"the probe call of case {case.id} failed ({failed}), so the map above pairs modules by "
                            f"declaration order alone, without the shapes they produce", file=case.spec.path, field="inputs",
                            hint="fix the inputs or the model factory until both sides run (`eqcheck run` shows the error)")


@main.command()
@click.argument("spec", type=SafePath(exists=True, dir_okay=False))
@allow_module_option
@allow_op_option
@click.option("-o", "--output", "out_path", required=True, type=SafePath(dir_okay=False),
              help="Checkpoint to write: .ckpt for mindspore (mindspore.load_checkpoint reads it), .pt for torch.")
@click.option("--weights", "weights_file", type=SafePath(dir_okay=False),
              help="The shared set to export: a torch state_dict (.pt/.pth, weights_only) or a .npz; default: the seeded draw.")
@click.option("--target", "target_name", type=click.Choice(["mindspore", "torch"]), default="mindspore", show_default=True,
              help="Whose checkpoint to write.")
@click.option("--seed", type=option_types.SEED, default=None, help="Seed of the drawn set when no --weights is given.")
def export(spec, out_path, weights_file, target_name, seed):
    """Write one side's checkpoint holding the shared weights of SPEC's first case, through the reviewed weight map.

    Typical: `eqcheck export model.yaml --weights model.pt -o port.ckpt` turns a torch state_dict into the
    MindSpore port's checkpoint.
    """
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases.draws import resolve_seed
    from eqcheck.execution.runner import CaseRunner
    from eqcheck.execution.session import load_cases

    suffix = {"mindspore": ".ckpt", "torch": (".pt", ".pth")}[target_name]
    if not out_path.lower().endswith(suffix):
        raise click.BadParameter(f"a {target_name} checkpoint ends with {suffix if isinstance(suffix, str) else ' or '.join(suffix)}",
                                 param_hint="'--output'")
    cases = load_cases((spec,)).cases
    targets = parse_targets("torch,mindspore", "cpu")
    runner = CaseRunner(targets, seed=resolve_seed(seed), weights_file=weights_file)
    runner.start()
    runner.preflight(cases[:1])
    target = next(t for t in targets if t.framework == target_name)
    weight_map = runner.export(cases[0], target, out_path)
    click.echo(f"wrote {out_path}: {len(weight_map.weights)} weights of {cases[0].id} as {target_name} names")


@main.command()
@paths_argument
def watch(paths, json_path=None, quiet=False, device="cpu", targets="torch,mindspore", **options):
    """Keep worker processes with both frameworks imported and re-run the specs whose files change under PATHS
    (Enter re-runs all; Ctrl-C quits). Takes run's options; docs/watch.md."""
    from eqcheck.execution.session import RunSession, StrictLogs
    from eqcheck.execution.settings import RunSettings
    from eqcheck.execution.watch import FileWatch, WarmSession, wait_for_change
    from eqcheck.report import console as view
    from eqcheck.report import document as doc
    from eqcheck.report.run_view import JsonWriter, WatchView

    for path in paths:
        if not Path(path).exists():
            raise click.BadParameter(f"{path}: no such file or folder", param_hint="'PATHS'")
    from eqcheck.report.paths import check_outputs

    check_outputs({"--json": json_path}, options.pop("force", False))
    settings = RunSettings.from_options(paths, options)
    if settings.jobs == 0:
        raise click.BadParameter("watch keeps the frameworks in worker processes (a failed kernel must not poison the "
                                 "next run); give 1 or more", param_hint="'--jobs'")
    session = RunSession(settings, targets=targets, device=device)
    warm = WarmSession(session.launch(session.settings.make_executor(keep_warm=True)), session.load)
    click.get_current_context().call_on_close(warm.close)
    out, err = view.make_console(), view.make_console(stderr=True)
    files = FileWatch(list(paths))
    shown = WatchView(out, quiet=quiet, paths=list(paths), jobs=warm.pool.jobs, spec_files=files.spec_files)
    observers = [*([StrictLogs()] if settings.strict_logs else []), *([JsonWriter(json_path)] if json_path else []), shown]
    todo, keys = files.spec_files(), sys.stdin
    out.print(view.watch_banner(len(todo), list(paths), warm.pool.jobs))
    try:
        while True:
            if todo:
                try:
                    rerun = warm.rerun(todo)
                except EqcheckError as exc:  # a spec error, or no case matches -k
                    err.print(view.watch_problem(exc.paragraph()))
                else:
                    session.rerun(rerun.results, rerun.cases, rerun.seconds, observers, doc.build_document)
            change, keys = wait_for_change(files, keys)
            for path in change.removed:
                err.print(view.watch_problem(f"{path}: removed; its cases are no longer run"))
            if change.code:  # a model spec's module changed: the workers imported the old one
                warm.restart()
            todo = files.spec_files() if change.everything or change.code else change.specs
            shown.saved_at = change.saved_at
    except KeyboardInterrupt:  # the way a watch ends
        err.print("stopped watching")


# watch takes run's options but the split-run and cluster ones (and the gate's): it keeps local workers warm
NOT_WATCHED = {"paths", "export_side", "against", "executor", "address", "resources"}
watch.params.extend(param for param in run.params if param.name not in NOT_WATCHED | gate_option_names())


for _command in GATE_COMMANDS:  # diff, merge, schema
    main.add_command(_command)


def console_main() -> None:
    """The `eqcheck` executable: `main`, then skip the interpreter teardown once a framework was loaded here.

    torch's and MindSpore's exit handlers and destructors take about 0.6 s after the report is already written
    and flushed; a CLI process has nothing left to do by then. In-process callers (tests) use `main`.
    """
    try:
        main()
    except SystemExit as exc:
        if not any(name in sys.modules for name in ("torch", "mindspore")):
            raise
        code = exc.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        import os

        os._exit(code or 0)


if __name__ == "__main__":
    console_main()
