"""Rich renderables for `eqcheck diff` and `run --baseline` (the diff data comes from eqcheck/gate/diff.py)."""

from __future__ import annotations


from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from eqcheck.report.numbers import deviation

KIND_STYLE = {"regression": "bold red", "fixed": "green", "improved": "green", "changed": "yellow"}


_v = deviation


def render_diff(console: Console, diff: dict) -> None:
    if diff["environment"] or diff["settings"]:
        env = Table(title="environment", box=box.SIMPLE_HEAD, title_justify="left")
        env.add_column("key")
        env.add_column(f"old ({escape(diff['old']['file'])})", overflow="fold")
        env.add_column(f"new ({escape(diff['new']['file'])})", overflow="fold")
        for row in diff["environment"] + diff["settings"]:
            env.add_row(escape(row["key"]), escape(_v(row["old"])), escape(_v(row["new"])))
        console.print(env)
    if diff["changes"]:
        table = Table(title=f"eqcheck diff: {escape(diff['old']['file'])} -> {escape(diff['new']['file'])}",
                      box=box.SIMPLE_HEAD, title_justify="left")
        table.add_column("case", overflow="fold")
        table.add_column("output")
        table.add_column("change")
        table.add_column("old", justify="right")
        table.add_column("new", justify="right")
        table.add_column("note", overflow="fold")
        for change in diff["changes"]:
            table.add_row(escape(change["id"]), escape(change.get("output") or "-"),
                          Text(f"{change['kind']}: {change['what']}", style=KIND_STYLE[change["kind"]]),
                          escape(_v(change["old"])), escape(_v(change["new"])), escape(change.get("note") or ""))
        console.print(table)
    for word, ids in (("added", diff["added"]), ("removed", diff["removed"])):
        if ids:
            shown = ", ".join(ids[:20]) + (f", … ({len(ids)} in all)" if len(ids) > 20 else "")
            console.print(Text.assemble((f"cases {word}: ", "bold"), shown))
    c = diff["counts"]
    line = Text()
    line.append(f"{c['regressions']} regressions", style="bold red" if c["regressions"] else "green")
    line.append(f", {c['fixed']} fixed, {c['improved']} improved, {c['changed']} changed, "
                f"{c['added']} added, {c['removed']} removed (growth limit {diff['rel_change']:g}x)")
    console.print(line)
