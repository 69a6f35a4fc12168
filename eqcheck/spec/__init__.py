"""Specs: YAML files in configs/ -> validated `OpSpec` records (`loader`, with `fields` for strict field access and
`expressions` for the safe `$expr` interpreter), the allowlist that keeps untrusted specs inside the frameworks'
namespaces (`allowlist`), and the invertible weight-layout transforms a weight map names (`layout`).

May import: `eqcheck.backends` (only the registry of framework names) and the package root's `errors`, `dtypes`,
`_lazy`. Imports no framework, no numpy at import time.
"""

__all__ = ["OpSpec", "discover_spec_files", "load_spec", "load_specs"]


def __getattr__(name: str):
    # Loaded on first use: importing eqcheck.spec.allowlist or .discovery must not parse-load yaml and the loader
    # (a `list`/`validate` whose files are all cached never needs them).
    if name == "OpSpec":
        from eqcheck.spec.model import OpSpec

        return OpSpec
    if name in ("discover_spec_files", "load_spec", "load_specs"):
        from eqcheck.spec import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'eqcheck.spec' has no attribute {name!r}")
