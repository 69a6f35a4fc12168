"""Specs: YAML files in configs/ -> validated `OpSpec` records (`loader`, with `fields` for strict field access and
`expressions` for the safe `$expr` interpreter), the allowlist that keeps untrusted specs inside the frameworks'
namespaces (`allowlist`), and the invertible weight-layout transforms a weight map names (`layout`).

May import: `eqcheck.backends` (only the registry of framework names) and the package root's `errors`, `dtypes`,
`_lazy`. Imports no framework, no numpy at import time.
"""

from eqcheck.spec.loader import discover_spec_files, load_spec, load_specs
from eqcheck.spec.model import OpSpec

__all__ = ["OpSpec", "discover_spec_files", "load_spec", "load_specs"]
