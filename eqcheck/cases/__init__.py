"""Cases: what each comparison is fed. A spec's sweep grid x dtypes becomes `Case` records (`sweep`), selected by
`-k` (`selection`); each case draws its seeded inputs and cotangents (`draws`) and binds the spec's weight map to
the parameters both sides really have, drawing one shared weight set (`weights`).

May import: `eqcheck.spec`, `eqcheck.backends` (the parameter records a backend reports), and the package root's
`errors`, `dtypes`, `_lazy`. Never `verdict`, `execution`, `report` or `gate`.
"""

from eqcheck.cases.sweep import Case, expand, load_spec, load_specs

__all__ = ["Case", "expand", "load_spec", "load_specs"]
