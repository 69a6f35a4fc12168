"""Command line. Commands stay small; heavy modules (frameworks, numpy, rich) are imported inside the commands that need them.

Exit codes: 0 all passed (or differed as declared), 1 a failure or case error, 2 usage or spec error, 130 interrupted.
"""

from __future__ import annotations

import sys
import time

import click

from eqcheck import __version__
from eqcheck.errors import EqcheckError

EXIT_INTERRUPTED = 130


class InputError(click.ClickException):
    """A user's input was wrong: one paragraph on stderr, exit 2, no traceback."""

    exit_code = 2


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


def _load_cases(paths: tuple[str, ...], selection: str | None, dtypes: str | None):
    from eqcheck.cases import expand
    from eqcheck.dtypes import FLOAT_DTYPES
    from eqcheck.selection import compile_selection
    from eqcheck.spec import load_specs

    dtype_list = None
    if dtypes:
        dtype_list = tuple(d.strip() for d in dtypes.split(",") if d.strip())
        for d in dtype_list:
            if d not in FLOAT_DTYPES:
                raise click.BadParameter(f"unknown dtype '{d}' (choose from {', '.join(FLOAT_DTYPES)})", param_hint="'--dtype'")
    matches = compile_selection(selection)
    specs = load_specs(list(paths))
    cases = [case for spec in specs for case in expand(spec, dtype_list) if matches(case.id)]
    if not cases:
        raise click.UsageError(f"no case id matches -k '{selection}'" if selection else "the specs define no cases")
    return specs, cases


paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path())
select_option = click.option("-k", "selection", metavar="EXPR", help="Select case ids: words match substrings; and/or/not, parentheses.")
dtype_option = click.option("--dtype", "dtypes", metavar="LIST", help="Comma list of float dtypes, replacing each spec's own (e.g. float32,float64).")


@main.command()
@paths_argument
@select_option
@dtype_option
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the JSON report here (atomically).")
@click.option("--seed", type=int, default=None, help="Seed for shared weights and inputs (recorded in the report).")
@click.option("--device", default="cpu", show_default=True, metavar="DEV",
              help="cpu, gpu, or per target: torch=gpu,mindspore=cpu.")
@click.option("--targets", default="torch,mindspore", show_default=True, metavar="A,B",
              help="The two targets to compare; an inline device compares one framework across devices: torch:gpu,torch:cpu.")
@click.option("--weights", "weights_file", type=click.Path(dir_okay=False), help="A .npz of canonical weights to use instead of the seeded draw.")
@click.option("-q", "--quiet", is_flag=True, help="Only failing rows and the summary (for CI logs).")
def run(paths, selection, dtypes, json_path, seed, device, targets, weights_file, quiet):
    """Run specs (files or folders) and report the deviations."""
    from eqcheck.data import DEFAULT_SEED
    from eqcheck.targets import parse_targets

    started = time.perf_counter()
    target_list = parse_targets(targets, device)
    _, cases = _load_cases(paths, selection, dtypes)
    seed = DEFAULT_SEED if seed is None else seed

    from eqcheck.executor import InProcessExecutor
    from eqcheck.report import console as view
    from eqcheck.report import document as doc
    from eqcheck.runner import CaseRunner

    executor = InProcessExecutor(CaseRunner(target_list, seed=seed, weights_file=weights_file))
    executor.start(cases)
    settings = {
        "targets": [t.label for t in target_list],
        "selection": selection,
        "dtypes": dtypes,
        "weights_file": weights_file,
        "paths": list(paths),
    }
    out, err = view.make_console(), view.make_console(stderr=True)
    results = []

    def finish(complete: bool) -> dict:
        document = doc.build_document(results, environment=executor.environment(), seed=seed, settings=settings,
                                      wall_time_s=time.perf_counter() - started, complete=complete)
        if json_path:
            doc.write_atomic(json_path, document)
        return document

    try:
        with view.progress_bar(err, len(cases), enabled=not quiet) as advance:
            for result in executor.run(cases):
                results.append(result)
                advance(result.id)
    except KeyboardInterrupt:
        document = finish(complete=False)
        view.render_document(out, document, quiet=quiet)
        err.print(f"interrupted after {len(results)} of {len(cases)} cases" + (f"; partial report in {json_path}" if json_path else ""))
        sys.exit(EXIT_INTERRUPTED)
    except EqcheckError:
        if results:
            finish(complete=False)  # keep what was computed before the spec error
        raise
    document = finish(complete=True)
    view.render_document(out, document, quiet=quiet)
    if json_path and not quiet:
        out.print(f"report written to {json_path}")
    sys.exit(doc.exit_code(document))


@main.command(name="list")
@paths_argument
@select_option
@dtype_option
def list_cases(paths, selection, dtypes):
    """Print every case id, one per line (imports no framework)."""
    _, cases = _load_cases(paths, selection, dtypes)
    for case in cases:
        click.echo(case.id)


@main.command()
@paths_argument
def validate(paths):
    """Check specs against the schema and evaluate every size expression (imports no framework)."""
    from eqcheck.cases import expand
    from eqcheck.spec import load_specs

    specs = load_specs(list(paths))
    for spec in specs:
        click.echo(f"ok  {spec.path}  ({spec.name}, {len(expand(spec))} cases)")
    click.echo(f"{len(specs)} specs valid")


@main.command()
@click.argument("report", type=click.Path())
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
    from eqcheck.environment import describe

    from eqcheck.report import console as view

    view.make_console().print(describe())


if __name__ == "__main__":
    main()
