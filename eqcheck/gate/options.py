"""Click parameter types for numeric options: a bad value is a usage error (exit 2) when the option is read, never a
traceback after the run nor a silently ignored setting (`--timeout nan` disabled the timeout; `--seed -1` made
every case an error row; `--timeout 1e308` overflowed)."""

from __future__ import annotations

import math

import click

MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week per case: far above any real case, far below what timers overflow at
MAX_SEED = 2**32 - 1  # every framework's seed setter takes 0..2**32-1


class FiniteFloat(click.FloatRange):
    """A float range that also refuses nan and inf (click's FloatRange lets nan through every comparison)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


TIMEOUT = FiniteFloat(min=0, min_open=True, max=MAX_TIMEOUT_S)
SEED = click.IntRange(min=0, max=MAX_SEED)
