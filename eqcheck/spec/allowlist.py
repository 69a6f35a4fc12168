"""Which callables a spec may name. The operator decides, never the spec: specs may come from untrusted pull requests.

Four layers, all refusing with a SpecError (exit 2):

1. The dotted path as written must start with an allowed module prefix. Default `torch.`, `mindspore.`,
   `numpy.`; the operator replaces the list with EQCHECK_ALLOWED_PREFIXES (comma-separated, e.g.
   `torch.nn.,mindspore.nn.` to allow only layers). No path part may be private (`_exec_with_source`,
   `__globals__`).
2. A positive list: the callable must sit directly in one of the numerical namespaces specs need (NAMESPACES:
   `torch.nn.functional.gelu`, `mindspore.Tensor.add`; not `torch.utils.collect_env.run`). The operator widens
   it with `--allow-module PREFIX` / EQCHECK_ALLOWED_MODULES (everything under PREFIX, the framework's own
   subpackages included).
3. A denylist of callables inside those namespaces that read or write files, load code or reach the network
   (`torch.load`, `torch.hub`, `mindspore.ops.Custom`, `numpy.load`, …), checked on the written path and, after
   resolution, on the module the object really lives in (so `torch.serialization.load` is caught too).
4. After resolution (`check_resolved`, in `run`'s preflight): every module walked through and the module the
   object is defined in must belong to an allowed framework package. `torch.os.system`, `torch.ctypes.CDLL`
   and `torch.builtins.open` start with `torch.` but live in `os`, `ctypes` and `builtins`: refused.

User code (model specs, `kind: model`): a side may name a factory `package.module:attribute` only when the
operator opted that module in with `--allow-module PREFIX` or EQCHECK_ALLOWED_MODULES (comma-separated module
prefixes). Importing a module runs its code, so a spec can never widen this list itself.

This file imports no framework.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from eqcheck.errors import SpecError

ENV = "EQCHECK_ALLOWED_PREFIXES"
MODULES_ENV = "EQCHECK_ALLOWED_MODULES"
DEFAULT_PREFIXES = ("torch.", "mindspore.", "numpy.")

# Where a spec's callable may live by default: its dotted path minus the last part is exactly one of these.
NAMESPACES = (
    "torch", "torch.Tensor", "torch.nn", "torch.nn.functional", "torch.linalg", "torch.special", "torch.fft",
    "torch.optim", "torch.optim.lr_scheduler",
    "mindspore.ops", "mindspore.Tensor", "mindspore.nn", "mindspore.nn.learning_rate_schedule", "mindspore.numpy",
    "mindspore.mint", "mindspore.mint.nn", "mindspore.mint.nn.functional", "mindspore.mint.linalg",
    "mindspore.mint.special", "mindspore.mint.optim", "mindspore.experimental.optim",
    "mindspore.experimental.optim.lr_scheduler",
    "numpy", "numpy.linalg", "numpy.fft",
)

# Callables that touch files, load native or pickled code, spawn processes or reach the network.
DENIED = (
    "torch.load", "torch.save", "torch.serialization", "torch.hub", "torch.package", "torch.utils.cpp_extension",
    "torch.utils.model_zoo", "torch.jit.load", "torch.jit.save", "torch.jit._serialization", "torch.ops.load_library",
    "torch.classes.load_library", "torch._ops.load_library", "torch.multiprocessing", "torch.distributed", "torch.onnx",
    "torch.utils.data", "torch.utils.tensorboard", "torch.from_file", "torch.UntypedStorage.from_file",
    "torch._dynamo", "torch.compile", "torch._inductor", "torch.export", "torch.library",
    "mindspore.load", "mindspore.load_checkpoint", "mindspore.save_checkpoint", "mindspore.export", "mindspore.load_mindir",
    "mindspore.train.serialization", "mindspore.ops.Custom", "mindspore.ops.operations.custom_ops",
    "mindspore.ops.custom", "mindspore.dataset", "mindspore.mindrecord", "mindspore.communication",
    "mindspore.parallel", "mindspore.profiler", "mindspore.run_check", "mindspore.train.callback",
    "numpy.load", "numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.savetxt", "numpy.loadtxt",
    "numpy.genfromtxt", "numpy.fromfile", "numpy.tofile", "numpy.memmap", "numpy.fromregex", "numpy.DataSource",
    "numpy.lib.format", "numpy.lib.npyio", "numpy.lib._datasource", "numpy.f2py", "numpy.distutils",
    "numpy.ctypeslib", "numpy.testing",
)


def allowed_prefixes() -> tuple[str, ...]:
    """The operator's list (EQCHECK_ALLOWED_PREFIXES), each ending with '.'; the default when unset or empty."""
    raw = os.environ.get(ENV, "")
    items = [p.strip() for p in raw.split(",") if p.strip()]
    if not items:
        return DEFAULT_PREFIXES
    return tuple(p if p.endswith(".") else p + "." for p in items)


def _under(path: str, prefix: str) -> bool:
    """`path` is `prefix` or inside it, by whole dotted parts ('torch.load' covers 'torch.load.x', not 'torch.loads')."""
    prefix = prefix.rstrip(".")
    return path == prefix or path.startswith(prefix + ".")


# One pattern for the whole denylist (whole dotted parts, first entry wins as in the list): validate checks two ops
# per spec, and 60 prefix tests each were a tenth of a cold `validate`.
_DENIED = re.compile("|".join(f"({re.escape(d)})(?![^.])" for d in DENIED))


def denied(path: str) -> str | None:
    found = _DENIED.match(path)
    return found.group(found.lastindex) if found else None


def opted_in(op: str) -> bool:
    """The operator widened the positive list to cover `op` (--allow-module)."""
    return any(_under(op, module) for module in allowed_modules())


def check_op(op: str, file: str, field: str) -> None:
    """Checks on the dotted path as written (validate and run): prefixes, private names, namespaces, the denylist."""
    parts = op.split(".")
    private = next((part for part in parts if part.startswith("_")), None)
    if private is not None:
        raise SpecError(f"'{op}' names the private attribute '{private}'; name a public callable of the framework",
                        file=file, field=field)
    prefixes = allowed_prefixes()
    if not any(op.startswith(p) for p in prefixes) and not opted_in(op):
        raise SpecError(f"'{op}' is outside the allowed module prefixes ({', '.join(prefixes)})", file=file, field=field,
                        hint=f"the operator of this run sets the list with {ENV}; a spec cannot widen it")
    hit = denied(op)  # even where the operator widened the namespaces
    if hit:
        raise SpecError(f"'{op}' is refused: it is under '{hit}', which can read or write files, load code or reach the network",
                        file=file, field=field)
    if ".".join(parts[:-1]) not in NAMESPACES and not opted_in(op):
        raise SpecError(f"'{op}' is not in a numerical namespace a spec may name ({', '.join(NAMESPACES)})", file=file,
                        field=field, hint=f"the operator of this run can allow more with --allow-module "
                                          f"{'.'.join(parts[:-1])} (or {MODULES_ENV}); a spec cannot widen it")


def _home(obj: Any) -> str | None:
    """The module an object is defined in, as far as Python can tell."""
    for candidate in (obj, getattr(obj, "__objclass__", None), getattr(obj, "__self__", None)):
        module = getattr(candidate, "__module__", None)
        if isinstance(module, str) and module:
            return module
    return None


def check_resolved(op: str, obj: Any, file: str, field: str) -> None:
    """After resolution: the path must not leave the framework packages through a module attribute."""
    roots = {p.split(".")[0] for p in allowed_prefixes()} | {m.split(".")[0] for m in allowed_modules() if opted_in(op)}
    parts = op.split(".")
    current = sys.modules.get(parts[0])
    walked = parts[0]
    for part in parts[1:]:
        if current is None:
            break
        if isinstance(current, type(sys)) and current.__name__.split(".")[0] not in roots:
            raise SpecError(f"'{op}' reaches module '{current.__name__}' through '{walked}', outside the framework packages",
                            file=file, field=field)
        walked += "." + part
        current = getattr(current, part, None) or sys.modules.get(walked)
    home = _home(obj)
    if home is not None:
        top = home.split(".")[0]
        if top not in roots and not (top == "builtins" and _builtin_of_framework(obj, roots)):
            raise SpecError(f"'{op}' is defined in module '{home}', outside the framework packages ({', '.join(sorted(roots))})",
                            file=file, field=field)
        name = getattr(obj, "__name__", None)
        hit = denied(home) or (denied(f"{home}.{name}") if isinstance(name, str) else None)
        if hit:
            raise SpecError(f"'{op}' is refused: it is '{home}.{name}', under '{hit}', which can read or write files, "
                            f"load code or reach the network", file=file, field=field)


def _builtin_of_framework(obj: Any, roots: set[str]) -> bool:
    """C functions report __module__ 'builtins' only when they have none of their own: allow those bound to a framework object."""
    owner = getattr(obj, "__self__", None)
    module = getattr(owner, "__name__", None) if isinstance(owner, type(sys)) else getattr(type(owner), "__module__", None)
    return isinstance(module, str) and module.split(".")[0] in roots


# ---- user modules (model specs) -----------------------------------------------------------------


def allowed_modules() -> tuple[str, ...]:
    """Module prefixes the operator opted in for model factories; empty by default."""
    raw = os.environ.get(MODULES_ENV, "")
    return tuple(dict.fromkeys(p.strip().rstrip(".") for p in raw.split(",") if p.strip().rstrip(".")))


def allow_modules(prefixes) -> None:
    """`--allow-module`: add prefixes for this process; kept in the environment so worker processes inherit them."""
    merged = [*allowed_modules(), *(p.strip().rstrip(".") for p in prefixes if p.strip().rstrip("."))]
    if merged:
        os.environ[MODULES_ENV] = ",".join(dict.fromkeys(merged))


def check_model(path: str, file: str, field: str) -> None:
    """A factory `package.module:attribute` as written: an opted-in module, no dunders, nothing on the denylist."""
    module, _, attribute = path.partition(":")
    parts = module.split(".") + attribute.split(".")
    private = next((part for part in parts if part.startswith("_")), None)
    if private is not None:
        raise SpecError(f"'{path}' names the private name '{private}'; name a public model class or function",
                        file=file, field=field)
    prefixes = allowed_modules()
    if not any(_under(module, p) for p in prefixes):
        listed = f"allowed now: {', '.join(prefixes)}" if prefixes else "none is allowed now"
        raise SpecError(f"module '{module}' is not opted in for user code ({listed})", file=file, field=field,
                        hint=f"the operator of this run opts a module in with --allow-module {module.split('.')[0]} or "
                             f"{MODULES_ENV}={module.split('.')[0]}; a spec cannot do it itself")
    hit = denied(module) or denied(f"{module}.{attribute}")
    if hit:
        raise SpecError(f"'{path}' is refused: it is under '{hit}'", file=file, field=field)


def check_resolved_model(path: str, obj: Any, file: str, field: str) -> None:
    """After import: the factory must be defined in an opted-in module (or be a framework class re-exported there)."""
    home = _home(obj)
    roots = {p.split(".")[0] for p in allowed_prefixes()}
    if home is None:
        return
    if any(_under(home, p) for p in allowed_modules()) or home.split(".")[0] in roots:
        if not denied(home):
            return
    raise SpecError(f"'{path}' is defined in module '{home}', which is neither opted in nor a framework package",
                    file=file, field=field, hint="opt the defining module in with --allow-module, or name it directly")
