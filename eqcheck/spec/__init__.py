"""Operator specs: YAML files in configs/ -> validated OpSpec records. Imports no framework."""

from eqcheck.spec.loader import discover_spec_files, load_spec, load_specs
from eqcheck.spec.model import OpSpec

__all__ = ["OpSpec", "discover_spec_files", "load_spec", "load_specs"]
