"""Keyword arguments a spec passes, checked against the resolved op's own signature before any case runs.

A misspelt `init` or `call` keyword (or a keyword input's name) is a spec error, exit 2 with a "did you mean",
instead of one case error per case. Ops whose signature Python cannot read (C builtins) or that take **kwargs
are left to fail at run time as before. Pure: the caller resolves the op and reads its signatures.
"""

from __future__ import annotations

import inspect
from typing import Iterable

from eqcheck.errors import SpecError
from eqcheck.spec.fields import join, suggest
from eqcheck.spec.model import OpSpec


def accepted(signature: inspect.Signature | None) -> set[str] | None:
    """The keyword names a signature accepts; None when it accepts any (**kwargs) or cannot be read."""
    if signature is None:
        return None
    params = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}


def check_keywords(spec: OpSpec, framework: str, init_signature, call_signature) -> None:
    """SpecError naming the first keyword the op does not take, in `framework.init` or `framework.call`."""
    side = spec.sides[framework]
    keyword_inputs = [inp.sides[framework].name for inp in spec.inputs if inp.keyword and inp.name not in side.positional_names()]
    for section, names, signature in (("init", side.init, init_signature),
                                      ("call", [*side.call, *keyword_inputs], call_signature)):
        _check(spec, framework, section, names, accepted(signature))


def _check(spec: OpSpec, framework: str, section: str, names: Iterable[str], allowed: set[str] | None) -> None:
    if allowed is None:
        return
    for name in names:
        if name not in allowed:
            op = spec.sides[framework].op
            listed = ", ".join(sorted(allowed)) or "none"
            raise SpecError(f"{op} takes no keyword argument '{name}' (it takes: {listed})", file=spec.path,
                            field=join(join(framework, section), name), hint=suggest(name, allowed))
