"""OpInfo entries of torch's op_db: `sample_inputs` and `error_inputs` of one entry, at float32 on the CPU."""

from __future__ import annotations

import inspect
import re
from typing import Any

import torch

from eqcheck.backends.samples.encoding import encode

BUILD_DTYPE = torch.float32  # the case's dtype casts float tensors afterwards (docs/explore.md)
_OVERLOAD = re.compile(r"^\s*(?:\.\. function:: )?([\w.]+)\((.*?)\)\s*(->|$)")


def load() -> dict[str, Any]:
    from torch.testing._internal.common_methods_invocations import op_db

    return {op.name + (f".{op.variant_test_name}" if op.variant_test_name else ""): op for op in op_db}


def index(catalog: dict[str, Any]) -> dict[str, Any]:
    # a variant entry's alias names its base (`divide` -> `div`), which the asking side resolves to the variants
    aliases = {alias.name: op.name if op.variant_test_name else name
               for name, op in catalog.items() for alias in getattr(op, "aliases", ()) or ()}
    return {"names": sorted(catalog), "aliases": dict(sorted(aliases.items()))}


def _positional(op: Any) -> list[str] | None:
    """inspect's positional names; None where it cannot read them or sees only `*args` (a dispatching wrapper)."""
    try:
        params = list(inspect.signature(op).parameters.values())
    except (TypeError, ValueError):
        return None
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return None if not names and any(p.kind == p.VAR_POSITIONAL for p in params) else names


def _fits(params: list[tuple[str, str]], keywords: set[str], call: dict) -> bool:
    """A sample's call binds to an ATen overload: no more positionals than it has, a tensor where it takes one, and
    every keyword one of its names."""
    if len(call["args"]) > len(params):
        return False
    for value, (_, kind) in zip(call["args"], params):
        tensor = isinstance(value, dict) and "tensor" in value
        if tensor != (kind in ("Tensor", "Optional[Tensor]")):
            return False
    return set(call["kwargs"]) <= keywords


def aten(names: list[str], calls: list[dict]) -> list[str] | None:
    """Positional names from the ATen schema (`aten::NAME`): of its overloads, the one most samples bind to, then the
    longest; `self` reads `input`, as torch's Python API names it. None where no name has a schema."""
    for name in names:
        schemas = [s for s in torch._C._jit_get_schemas_for_operator(f"aten::{name}") if not s.overload_name.endswith("out")]
        if not schemas:
            continue
        best, score = None, (-1, -1)
        for schema in schemas:
            params = [("input" if a.name == "self" else a.name, str(a.type)) for a in schema.arguments if not a.kwarg_only]
            keywords = {"input" if a.name == "self" else a.name for a in schema.arguments}
            fit = (sum(_fits(params, keywords, call) for call in calls), len(params))
            if fit > score:
                best, score = [n for n, _ in params], fit
        return best
    return None


def signature(op: Any, aten_names: tuple[str, ...] = (), calls: tuple[dict, ...] = ()) -> list[str] | None:
    """Positional parameter names: inspect where it can (a Python function without `*args`); for a wrapper taking
    `*args` (torch's boolean_dispatch: max_pool2d, unique_consecutive), the longest of the functions it dispatches
    to; else the ATen schema of `aten_names` that the sample `calls` bind to (a C builtin's, a lambda's forwarding
    `*args`: masked_fill, sum_to_size), in the docstring's spelling where it has that overload; else the longest
    overload in the docstring."""
    names = _positional(op)
    try:
        variadic = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(op).parameters.values())
    except (TypeError, ValueError):
        variadic = True
    if names is not None and not variadic:
        return names
    wrapped = [_positional(cell.cell_contents) for cell in getattr(op, "__closure__", None) or ()
               if inspect.isfunction(cell.cell_contents)]
    wrapped = [n for n in wrapped if n]
    if wrapped:
        return max(wrapped, key=len)
    overloads = _docstring(op)
    schema = aten(list(aten_names), list(calls))
    if schema is not None and len(schema) >= len(names or ()):
        # the docstring's first overload of that length spells them as the Python API does (broadcast_to's `shape`,
        # tensor_split's `indices_or_sections`, not the schema's `size`, `sections`), where it has one; else its
        # longest where that names every position the samples use (linalg.pinv's `A`, not the schema's `self`)
        used = max((len(call["args"]) for call in calls), default=0)
        longest = max(overloads, key=len) if overloads else []
        return next((o for o in overloads if len(o) == len(schema)), longest if used <= len(longest) and longest else schema)
    if names is not None:
        return names
    return max(overloads, key=len) if overloads else None


def _docstring(op: Any) -> list[list[str]]:
    """The positional names of each overload a C builtin's docstring lists, in order."""
    overloads = []
    for line in (getattr(op, "__doc__", None) or "").splitlines():
        match = _OVERLOAD.match(line)
        # the op's own name (torch.linalg.cond's is linalg_cond), not an example's output: torch.return_types.max(...)
        own, named = getattr(op, "__name__", ""), match.group(1).removeprefix("torch.").replace(".", "_") if match else ""
        if not match or not (own == named or own.endswith("_" + named)):
            continue
        names = []
        for part in match.group(2).split(","):
            part = part.strip()
            if part.startswith("*"):
                break
            name = part.split("=")[0].split(":")[0].strip()
            if name.isidentifier():
                names.append(name)
        overloads.append(names)
    return overloads


def defaults(op: Any) -> dict[str, Any]:
    """Each parameter's default where inspect can read the signature (a C builtin's: none), encoded like values."""
    try:
        params = inspect.signature(op).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: encode(p.default, {}, "") for p in params
            if p.default is not p.empty and not isinstance(p.default, torch.Tensor)}


def _call(sample, arrays, prefix: str) -> dict[str, Any]:
    return {"args": [encode(sample.input, arrays, prefix), *(encode(a, arrays, prefix) for a in sample.args)],
            "kwargs": {k: encode(v, arrays, prefix) for k, v in sample.kwargs.items()}}


def build(catalog: dict[str, Any], name: str, seed: int) -> tuple[dict[str, Any], dict]:
    op = catalog.get(name) or catalog.get(index(catalog)["aliases"].get(name, ""))
    if op is None:
        return {"entry": name, "missing": True, "samples": [], "errors": []}, {}
    arrays: dict = {}
    aten_names = (op.aten_name, op.aten_name.rsplit(".", 1)[-1])  # nn.functional.pad -> pad
    record: dict[str, Any] = {"entry": op.name + (f".{op.variant_test_name}" if op.variant_test_name else ""), "ref": op.ref is not None,
                              "defaults": defaults(op.op),
                              "samples": [], "errors": []}
    if BUILD_DTYPE not in op.supported_dtypes("cpu"):
        record["note"] = f"no float32 samples (supported: {sorted(str(d) for d in op.supported_dtypes('cpu'))[:6]})"
        return {**record, "signature": signature(op.op, aten_names)}, arrays
    torch.manual_seed(seed)
    try:
        for k, sample in enumerate(op.sample_inputs("cpu", BUILD_DTYPE, requires_grad=False)):
            record["samples"].append({"call": _call(sample, arrays, f"s{k}_")})
    except Exception as exc:  # noqa: BLE001 - torch's own generator failing is recorded, not fatal
        record["note"] = f"sample_inputs failed: {type(exc).__name__}: {str(exc)[:200]}"
    record["signature"] = signature(op.op, aten_names, tuple(s["call"] for s in record["samples"]))
    torch.manual_seed(seed)
    try:
        for k, error in enumerate(op.error_inputs("cpu") if op.error_inputs_func is not None else ()):
            record["errors"].append({"call": _call(error.sample_input, arrays, f"e{k}_"),
                                     "error_type": getattr(error.error_type, "__name__", str(error.error_type)),
                                     "error_regex": str(error.error_regex)})
    except Exception as exc:  # noqa: BLE001
        record["note_errors"] = f"error_inputs failed: {type(exc).__name__}: {str(exc)[:200]}"
    return record, arrays
