"""`eqcheck repro CASE_ID -o DIR`: a self-contained script + .npz reproducing one case with plain torch/MindSpore calls.

The .npz holds exactly the bytes the case ran on: each side's parameters in its own layout and dtype (after
the weight map's transforms), the canonical inputs, and with --grad the cotangents plus, per canonical
weight, the index maps that bring each side's parameter gradient back to the canonical layout. The script
imports only numpy, torch and mindspore, so it can be attached to a framework bug report as is, and prints
`max_abs` per output in the report's row names (over elements finite on both sides), followed by the NaN/+Inf/-Inf
pattern disagreement where there is one: an edge=nan finding is a pattern difference, not a max_abs one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from eqcheck.backends.base import is_constructor
from eqcheck.spec.layout import apply_all
from eqcheck.spec.model import Literal, TensorArg

SUPPORTED_TARGETS = ("torch", "mindspore")


def _literal(value: Any) -> str:
    if isinstance(value, TensorArg):  # the script's T() makes the framework's tensor
        return f"T({value.values!r}, {value.dtype!r})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float('{value}')"
    if isinstance(value, tuple):
        return "(" + "".join(f"{_literal(v)}, " for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _args_code(case, framework: str, table: str) -> tuple[str, str]:
    layout = case.spec.sides[framework].args
    if layout is None:
        layout = tuple(inp.name for inp in case.spec.inputs if not inp.keyword)

    def pack(node) -> str:
        if isinstance(node, tuple):
            return "(" + "".join(f"{pack(n)}, " for n in node) + ")"
        if isinstance(node, Literal):
            return _literal(case.resolve(node.value, f"{framework}.args"))
        return f"{table}[{node!r}]"

    args = "[" + ", ".join(pack(n) for n in layout) + "]"
    kwargs = {k: _literal(_concrete(case, v)) for k, v in case.call_args(framework).items()}
    positional = case.spec.sides[framework].positional_names()
    for inp in case.spec.inputs:  # an explored case's layout names the keyword inputs one side takes positionally
        if inp.keyword and inp.name not in positional:
            kwargs[inp.sides[framework].name] = f"{table}[{inp.name!r}]"
    return args, "{" + ", ".join(f"{k!r}: {v}" for k, v in kwargs.items()) + "}"


def _concrete(case, value: Any) -> Any:
    """A tensor argument with its dtype settled ('float' is the case dtype)."""
    return TensorArg(value.values, case.tensor_dtype(value)) if isinstance(value, TensorArg) else value


def write(runner, case, result, out_dir: str | Path) -> tuple[Path, Path]:
    """Write DIR/repro.py and DIR/case.npz from the runner's last trial of `case` (execution/trial.py)."""
    trial = runner.trial
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for name, value in trial.inputs.items():
        arrays[f"input/{name}"] = value
    sides = []
    for t in runner.targets:
        fw = t.framework
        for pname, value in trial.loaded[t.label].items():
            arrays[f"{fw}/param/{pname}"] = np.asarray(value, dtype=np.float32) if case.dtype == "bfloat16" and np.issubdtype(value.dtype, np.floating) else value
        obj = runner.resolved[(case.spec.path, fw)]
        args, kwargs = _args_code(case, fw, "X")
        sides.append({
            "framework": fw, "op": case.spec.sides[fw].op, "is_class": is_constructor(obj),
            "init": _literal({k: _concrete(case, v) for k, v in case.init_args(fw).items()}), "args": args, "kwargs": kwargs,
            "train": case.spec.side_mode(fw) == "train",
            "input_dtypes": {inp.name: case.input_dtype(inp, fw) for inp in case.spec.inputs},
        })
    grad = bool(case.spec.grad and trial.cotangents is not None)
    index_maps = {}
    if grad:
        for i, cot in enumerate(trial.cotangents):
            if cot is not None:
                arrays[f"cotangent/{i}"] = cot
        for w in trial.weight_map.weights:
            index = np.arange(int(np.prod(w.shape)), dtype=np.int64).reshape(w.shape)
            for fw, side in w.sides.items():
                arrays[f"index/{fw}/{w.name}"] = apply_all(side.transforms, index)
            index_maps[w.name] = {fw: s.param for fw, s in w.sides.items()}
    npz = out / "case.npz"
    np.savez(npz, **arrays)
    names = [o.name for o in result.outputs if o.kind == "output"]
    script = out / "repro.py"
    script.write_text(_SCRIPT.format(
        case_id=case.id, seed=trial.seed, dtype=case.dtype, threads=runner.threads,
        torch_side=repr(next(s for s in sides if s["framework"] == "torch")),
        ms_side=repr(next(s for s in sides if s["framework"] == "mindspore")),
        names=repr(names), grad=grad, wrt=repr(trial.wrt), index_maps=repr(index_maps),
    ))
    return script, npz


_SCRIPT = '''"""Reproduce eqcheck case {case_id} with plain torch and MindSpore calls (no eqcheck needed).

Run: python repro.py   (next to case.npz). Prints max_abs per output, as eqcheck's report does (over elements
finite on both sides), and where the NaN/+Inf/-Inf patterns differ, how many elements and which kinds.
"""
import importlib
import os
import sys
from pathlib import Path

os.environ.setdefault("GLOG_v", "3")
import mindspore as ms
import numpy as np
import torch

DATA = np.load(Path(__file__).with_name("case.npz"))
SEED, DTYPE = {seed}, {dtype!r}
# The report was computed with this many intra-op threads; the last bits of a result depend on it.
THREADS = {threads}
torch.set_num_threads(THREADS)
NAMES = {names}
GRAD, WRT, INDEX_MAPS = {grad}, {wrt}, {index_maps}
TORCH = {torch_side}
MINDSPORE = {ms_side}


def resolve(path):
    if ":" in path:  # a model factory, package.module:attribute: run this script from the folder that imports it
        sys.path.insert(0, os.getcwd())
        module, _, attribute = path.partition(":")
        obj = importlib.import_module(module)
        for part in attribute.split("."):
            obj = getattr(obj, part)
        return obj
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def flatten(value, is_tensor):
    if is_tensor(value):
        return [value]
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in flatten(v, is_tensor)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in flatten(v, is_tensor)]
    return [value]


CURRENT = None  # the framework being run: T() makes its tensors


def T(values, dtype):
    """A tensor argument of the spec, in the framework being run."""
    if CURRENT == "mindspore":
        return ms.Tensor(np.array(values), dtype=getattr(ms, dtype))
    return torch.tensor(values, dtype=getattr(torch, dtype))


def params_of(fw):
    prefix = fw + "/param/"
    return {{k[len(prefix):]: DATA[k] for k in DATA.files if k.startswith(prefix)}}


def cotangents():
    count = len(NAMES)
    return [DATA[f"cotangent/{{i}}"] if f"cotangent/{{i}}" in DATA.files else None for i in range(count)]


# ---- torch ----------------------------------------------------------------------------------------
def run_torch():
    global CURRENT
    CURRENT = "torch"
    op = resolve(TORCH["op"])
    fn = op
    if TORCH["is_class"]:
        torch.manual_seed(SEED)
        fn = op(**eval(TORCH["init"]))
        fn = fn.to(dtype=getattr(torch, DTYPE))
        fn.train(TORCH["train"])
        tensors = {{**dict(fn.named_parameters()), **dict(fn.named_buffers())}}
        with torch.no_grad():
            for name, array in params_of("torch").items():
                tensors[name].copy_(torch.from_numpy(np.array(array)).to(tensors[name].dtype))
    X = {{n: torch.from_numpy(np.array(DATA["input/" + n])).to(getattr(torch, d)) for n, d in TORCH["input_dtypes"].items()}}
    state = {{k: v.detach().clone() for k, v in fn.state_dict().items()}} if TORCH["is_class"] else None
    with torch.no_grad():
        out = fn(*eval(TORCH["args"]), **eval(TORCH["kwargs"]))
    outs = [to_numpy_torch(o) for o in flatten(out, torch.is_tensor)]
    grads = {{}}
    if GRAD:
        if state is not None:
            fn.load_state_dict(state)
        X = {{n: (t.clone().requires_grad_(True) if n in WRT else t) for n, t in X.items()}}
        params = [(n, p) for n, p in fn.named_parameters() if p.requires_grad] if TORCH["is_class"] else []
        with torch.enable_grad():
            flat = flatten(fn(*eval(TORCH["args"]), **eval(TORCH["kwargs"])), torch.is_tensor)
        pairs = [(v, torch.from_numpy(np.array(c)).to(v.dtype)) for v, c in zip(flat, cotangents()) if c is not None]
        sources = [X[n] for n in WRT] + [p for _, p in params]
        gs = torch.autograd.grad([v for v, _ in pairs], sources, grad_outputs=[c for _, c in pairs], allow_unused=True)
        for name, g, s in zip(WRT + [n for n, _ in params], gs, sources):
            grads[name] = to_numpy_torch(g) if g is not None else np.zeros(tuple(s.shape), np.float32)
    return outs, grads


def to_numpy_torch(t):
    t = t.detach()
    return (t.float() if t.dtype == torch.bfloat16 else t).cpu().numpy()


# ---- MindSpore ------------------------------------------------------------------------------------
def run_mindspore():
    from mindspore.device_context.cpu.op_tuning import threads_num

    threads_num(THREADS)
    ms.set_context(mode=ms.PYNATIVE_MODE)
    ms.set_device("CPU")
    global CURRENT
    CURRENT = "mindspore"
    op = resolve(MINDSPORE["op"])
    fn = op
    params = {{}}
    if MINDSPORE["is_class"]:
        ms.set_seed(SEED)
        fn = op(**eval(MINDSPORE["init"]))
        if DTYPE != "float32":
            for p in fn.get_parameters():
                if p.dtype in (ms.float16, ms.bfloat16, ms.float32, ms.float64):
                    p.set_dtype(getattr(ms, DTYPE))
        fn.set_train(MINDSPORE["train"])
        params = dict(fn.parameters_and_names())
    loaded = params_of("mindspore")

    def load():
        for name, array in loaded.items():
            params[name].set_data(ms.Tensor(np.array(array)).astype(params[name].dtype))

    load()
    X = {{n: ms.Tensor(np.array(DATA["input/" + n])).astype(getattr(ms, d)) for n, d in MINDSPORE["input_dtypes"].items()}}
    is_tensor = lambda v: isinstance(v, ms.Tensor)
    outs = [to_numpy_ms(o) for o in flatten(fn(*eval(MINDSPORE["args"]), **eval(MINDSPORE["kwargs"])), is_tensor)]
    grads = {{}}
    if GRAD:
        load()
        names = list(X)
        positions = tuple(i for i, n in enumerate(names) if n in WRT)
        weights = list(fn.trainable_params()) if MINDSPORE["is_class"] else []
        by_id = {{id(p): n for n, p in params.items()}}
        cots = [None if c is None else ms.Tensor(np.array(c)) for c in cotangents()]

        def loss(*tensors):
            X = dict(zip(names, tensors))
            flat = flatten(fn(*eval(MINDSPORE["args"]), **eval(MINDSPORE["kwargs"])), is_tensor)
            total = None
            for v, c in zip(flat, cots):
                if c is not None:
                    term = (v * c.astype(v.dtype)).sum()
                    total = term if total is None else total + term
            return total

        _, gs = ms.value_and_grad(loss, grad_position=positions or None, weights=weights or None)(*(X[n] for n in names))
        input_gs, param_gs = (gs if positions and weights else (gs, ()) if positions else ((), gs))
        if not isinstance(input_gs, (tuple, list)):
            input_gs = (input_gs,)
        for i, g in zip(positions, input_gs):
            grads[names[i]] = to_numpy_ms(g)
        for p, g in zip(weights, param_gs):
            grads[by_id.get(id(p), p.name)] = to_numpy_ms(g)
    return outs, grads


def to_numpy_ms(t):
    return (t.astype(ms.float32) if t.dtype == ms.bfloat16 else t).asnumpy()


def max_abs(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = np.abs(a - b)[np.isfinite(a) & np.isfinite(b)]
    return float(d.max()) if d.size else 0.0


def kinds(x):
    """Per element: finite, NaN, +Inf or -Inf."""
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, "finite", dtype=object)
    out[np.isnan(x)], out[np.isposinf(x)], out[np.isneginf(x)] = "NaN", "+Inf", "-Inf"
    return out


def nonfinite_mismatch(a, b):
    """Where the NaN/+Inf/-Inf patterns differ (max_abs skips those elements), most frequent pair first; '' if none."""
    if np.shape(a) != np.shape(b):
        return ""
    ka, kb = kinds(a), kinds(b)
    differ = ka != kb
    if not differ.any():
        return ""
    pairs = {{}}
    for pair in zip(ka[differ], kb[differ]):
        pairs[pair] = pairs.get(pair, 0) + 1
    what = "; ".join(f"torch {{x}}, mindspore {{y}} at {{n}}" for (x, y), n in sorted(pairs.items(), key=lambda p: -p[1]))
    return f"; nonfinite mismatch: {{int(differ.sum())}} of {{differ.size}} elements ({{what}})"


def show(name, a, b):
    print(f"{{name}}: max_abs={{max_abs(a, b)!r}}{{nonfinite_mismatch(a, b)}}")


if __name__ == "__main__":
    torch_outs, torch_grads = run_torch()
    ms_outs, ms_grads = run_mindspore()
    for name, a, b in zip(NAMES, torch_outs, ms_outs):
        show(name, a, b)
    for name in WRT:
        show(f"grad:{{name}}", torch_grads[name], ms_grads[name])
    for name, sides in INDEX_MAPS.items():
        ta, mb = torch_grads.get(sides["torch"]), ms_grads.get(sides["mindspore"])
        if ta is None or mb is None:
            continue
        ti, mi = DATA[f"index/torch/{{name}}"].reshape(-1), DATA[f"index/mindspore/{{name}}"].reshape(-1)
        ca, cb = np.empty(ti.size, np.float64), np.empty(mi.size, np.float64)
        ca[ti], cb[mi] = ta.reshape(-1), mb.reshape(-1)
        show(f"grad:{{'param.' if name in WRT else ''}}{{name}}", ca, cb)
'''
