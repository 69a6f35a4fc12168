"""`eqcheck env`: what this machine offers each framework, probed without failing on a missing one."""

from __future__ import annotations

from rich.table import Table

from eqcheck.backends import TARGETS, backend_class
from eqcheck.errors import EqcheckError
from eqcheck.report.document import base_environment


def describe() -> Table:
    table = Table(title="eqcheck environment", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in base_environment().items():
        table.add_row(key, str(value))
    for target in TARGETS:
        for device in ("cpu", "gpu"):
            try:
                backend = backend_class(target)(device)
                backend.activate()
                versions = ", ".join(f"{k} {v}" for k, v in backend.versions().items())
                table.add_row(f"{target} on {device}", f"available ({versions}; devices: {', '.join(backend.devices())})")
            except ImportError as exc:
                table.add_row(f"{target} on {device}", f"not installed ({exc})")
                break
            except EqcheckError as exc:
                table.add_row(f"{target} on {device}", f"unavailable: {exc.reason}")
    return table
