"""Cases: what each comparison is fed. A spec's sweep grid x dtypes becomes `Case` records (`sweep`), selected by
`-k` (`selection`); each case draws its seeded inputs and cotangents (`draws`) and binds the spec's weight map to
the parameters both sides really have, drawing one shared weight set (`weights`).

May import: `eqcheck.spec`, `eqcheck.backends` (the parameter records a backend reports), and the package root's
`errors`, `dtypes`, `_lazy`. Never `verdict`, `execution`, `report` or `gate`.
"""

__all__ = ["Case", "expand", "load_spec", "load_specs"]


def __getattr__(name: str):
    # Loaded on first use, so that eqcheck.cases.spec_cache can answer `list`/`validate` without the spec parser.
    if name in __all__:
        from eqcheck.cases import sweep

        return getattr(sweep, name)
    raise AttributeError(f"module 'eqcheck.cases' has no attribute {name!r}")
