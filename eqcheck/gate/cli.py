"""CI-gate commands (diff, merge, schema) and the `run` options behind eqcheck/gate/session.py. Registered on the
`eqcheck` group by eqcheck/cli.py; EqcheckErrors raised here become exit 2 through that group."""

from __future__ import annotations

import sys

import click

GATE_OPTIONS = (
    click.option("--baseline", type=click.Path(dir_okay=False), metavar="OLD.json",
                 help="Diff this run against a saved report; exit 1 only on a regression against it (see `eqcheck diff`)."),
    click.option("--rel-change", type=click.FloatRange(min=1.0), default=10.0, show_default=True, metavar="F",
                 help="With --baseline: flag a max_abs that grew more than F times (and past a tenth of its atol)."),
    click.option("--save-golden", type=click.Path(file_okay=False), metavar="DIR",
                 help="Store each target's raw outputs per case (compressed .npz + golden.json) for later --golden runs."),
    click.option("--golden", "golden_dir", type=click.Path(file_okay=False), metavar="DIR",
                 help="Compare each target against its own outputs stored by --save-golden; a drift exits 1."),
    click.option("--junit", type=click.Path(dir_okay=False), metavar="PATH", help="Also write JUnit XML (one testcase per case)."),
    click.option("--markdown", type=click.Path(dir_okay=False), metavar="PATH",
                 help="Also write a Markdown summary (appended to $GITHUB_STEP_SUMMARY whenever that is set)."),
    click.option("--html", type=click.Path(dir_okay=False), metavar="PATH",
                 help="Also write a self-contained HTML report with per-output deviation histograms."),
    click.option("--shard", metavar="K/N", help="Run only shard K of N (cases dealt round-robin by sorted id); see `eqcheck merge`."),
)


def gate_options(command):
    """Decorate `run` with every CI-gate option; they arrive in its **gate keyword arguments."""
    for option in reversed(GATE_OPTIONS):
        command = option(command)
    return command


def gate_option_names() -> set[str]:
    """The keyword names the gate's options give `run` (commands that take run's options without the gate's skip them)."""
    def bare() -> None: ...

    for option in GATE_OPTIONS:
        option(bare)
    return {param.name for param in bare.__click_params__}


def gate_session(gate: dict, seed: int, out, err):
    """The gate observer of a run from its options (execution/session.py); `out`, `err`: the run's consoles."""
    from eqcheck.gate.session import GateSession, check_exclusive
    from eqcheck.gate.shard import parse_shard

    check_exclusive(gate.get("golden_dir"), gate.get("save_golden"))
    return GateSession(seed=seed, out=out, err=err, baseline=gate.get("baseline"), rel_change=gate.get("rel_change") or 10.0,
                       save_golden=gate.get("save_golden"), golden_dir=gate.get("golden_dir"), junit=gate.get("junit"),
                       markdown=gate.get("markdown"), html=gate.get("html"), shard=parse_shard(gate.get("shard")))


@click.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--rel-change", type=click.FloatRange(min=1.0), default=10.0, show_default=True, metavar="F",
              help="Flag a max_abs that grew more than F times and now exceeds a tenth of its atol.")
@click.option("--json", "json_path", metavar="PATH", help="Write the diff itself as JSON ('-' for stdout).")
@click.option("--markdown", type=click.Path(dir_okay=False), metavar="PATH",
              help="Write the diff as Markdown (appended to $GITHUB_STEP_SUMMARY whenever that is set).")
def diff(old, new, rel_change, json_path, markdown):
    """What changed from report OLD to report NEW: status changes, grown deviations, cases added or removed,
    environment differences. Exit 1 on a regression, 0 otherwise, 2 on an unreadable report."""
    import json
    import os

    from eqcheck.gate.diff import diff_documents
    from eqcheck.report import console as view
    from eqcheck.report import document as doc
    from eqcheck.report import markdown as md
    from eqcheck.report.diff_view import render_diff

    result = diff_documents(doc.read(old), doc.read(new), rel_change=rel_change, old_name=old, new_name=new)
    if json_path == "-":
        click.echo(json.dumps(result, indent=2))
    else:
        render_diff(view.make_console(), result)
        if json_path:
            doc.write_atomic(json_path, result)
    if markdown or os.environ.get(md.STEP_SUMMARY_ENV):
        text = md.diff_summary(result)
        if markdown:
            md.write(markdown, text)
        md.append_step_summary(text)
    sys.exit(1 if result["regression"] else 0)


@click.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The merged report.")
def merge(reports, output):
    """Merge shard reports (run with --shard K/N) into one report; the summary is recomputed.

    Refuses reports with different seeds, framework versions or settings, and a case in two reports; warns
    about a missing shard or a different platform."""
    from eqcheck.report import console as view
    from eqcheck.report import document as doc
    from eqcheck.gate.shard import merge as merge_documents

    err = view.make_console(stderr=True)
    documents = [doc.read(path) for path in reports]
    merged = merge_documents(documents, list(reports), warn=lambda message: err.print(f"warning: {message}", highlight=False, markup=False))
    doc.write_atomic(output, merged)
    out = view.make_console()
    out.print(view.summary_line(merged))
    out.print(f"merged {len(reports)} reports into {output}", markup=False, highlight=False)


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write it to a file instead of stdout.")
def schema(output):
    """Print the JSON Schema of the report (shipped in the package)."""
    from pathlib import Path

    from eqcheck.report.schema import text

    if output:
        Path(output).write_text(text(), encoding="utf-8")
    else:
        click.echo(text(), nl=False)


COMMANDS = (diff, merge, schema)
