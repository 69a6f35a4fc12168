"""PyTorch in eager mode, on CPU or CUDA."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from eqcheck.backends.base import Backend, Built, LayerWatch, ModelFactory, ParamInfo, UnsupportedCase, flatten_leaves, is_constructor
from eqcheck.backends.resolve import resolve_dotted
from eqcheck.errors import TargetUnavailable


class TorchEagerBackend(Backend):
    framework = "torch"
    keyword_gradients = True  # tensor hooks on keyword inputs (through_inputs)
    target = "torch"
    call_method = "forward"

    def activate(self) -> None:
        import torch

        self.torch = torch
        torch.set_num_threads(self.threads)
        if self.device == "gpu" and not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}, but no GPU is visible"
            raise TargetUnavailable(f"torch {torch.__version__} cannot use a GPU here: it is {build}",
                                    field="--device", hint="run with --device cpu, or install a CUDA build of torch on a machine with a GPU")
        self.torch_device = torch.device("cuda" if self.device == "gpu" else "cpu")

    def resolve(self, dotted: str) -> Any:
        return resolve_dotted(dotted)

    def _dtype(self, dtype: str):
        return getattr(self.torch, dtype)

    def build(self, obj, init_args, dtype, train, seed) -> Built:
        torch = self.torch
        if not is_constructor(obj):
            return Built(fn=obj, module=None)
        torch.manual_seed(seed)  # the default init sets the scale of the shared draw: keep it reproducible
        module = obj(**init_args)
        if isinstance(obj, ModelFactory) and not isinstance(module, torch.nn.Module):
            raise TypeError(f"model factory {obj.path} returned {type(module).__name__}, not a torch.nn.Module")
        try:
            module = module.to(device=self.torch_device, dtype=self._dtype(dtype))
        except (RuntimeError, TypeError) as exc:
            raise UnsupportedCase(f"cannot move {type(module).__name__} to {dtype}: {exc}") from exc
        module.train(train)
        return Built(fn=module, module=module)

    def parameters(self, built) -> dict[str, ParamInfo]:
        if built.module is None:
            return {}
        out = {}
        for name, tensor in built.module.named_parameters():
            out[name] = ParamInfo(name, tuple(tensor.shape), str(tensor.dtype).replace("torch.", ""), tensor.requires_grad, self.to_numpy(tensor))
        transient = {f"{path}.{b}" if path else b for path, m in built.module.named_modules()
                     for b in getattr(m, "_non_persistent_buffers_set", ())}
        for name, tensor in built.module.named_buffers():
            out[name] = ParamInfo(name, tuple(tensor.shape), str(tensor.dtype).replace("torch.", ""), False, self.to_numpy(tensor),
                                  persistent=name not in transient)
        return out

    def _tensors(self, built) -> dict[str, Any]:
        if built.module is None:
            return {}
        return {**dict(built.module.named_parameters()), **dict(built.module.named_buffers())}

    def load(self, built, arrays) -> None:
        tensors = self._tensors(built)
        with self.torch.no_grad():
            for name, array in arrays.items():
                target = tensors[name]
                # reshape: ascontiguousarray turns a 0-d array (num_batches_tracked) into shape [1]
                source = np.ascontiguousarray(array).reshape(np.shape(array))
                target.copy_(self.torch.from_numpy(source).to(device=target.device, dtype=target.dtype))

    def read(self, built) -> dict[str, np.ndarray]:
        return {name: self.to_numpy(t) for name, t in self._tensors(built).items()}

    def tensor(self, array: np.ndarray, dtype: str):
        t = self.torch.from_numpy(np.ascontiguousarray(array).reshape(np.shape(array)))  # 0-d stays 0-d (not [1])
        return t.to(device=self.torch_device, dtype=self._dtype(dtype))

    def call(self, built, args, kwargs):
        with self.torch.no_grad():
            return self.invoke(built, args, kwargs)

    def grad(self, built, make_args, inputs, wrt, cotangents):
        torch = self.torch
        leaves = {name: (t.detach().clone().requires_grad_(True) if name in wrt else t) for name, t in inputs.items()}
        params = [(n, p) for n, p in built.module.named_parameters() if p.requires_grad] if built.module is not None else []
        with torch.enable_grad():
            args, kwargs = make_args(leaves)
            flat = flatten_leaves(self.invoke(built, args, kwargs), self.is_tensor)
        outs, cots = [], []
        for value, cot in zip(flat, cotangents):
            if cot is not None and self.is_tensor(value) and value.requires_grad:
                outs.append(value)
                cots.append(torch.from_numpy(np.array(cot, order="C")).to(device=value.device, dtype=value.dtype))
        sources = [leaves[n] for n in wrt] + [p for _, p in params]
        if not outs or not sources:
            raise UnsupportedCase("no float output depends differentiably on a float input or parameter")
        grads = torch.autograd.grad(outs, sources, grad_outputs=cots, allow_unused=True)
        as_numpy = lambda g, like: self.to_numpy(g) if g is not None else np.zeros(tuple(like.shape), self.to_numpy(like).dtype)
        input_grads = {n: as_numpy(g, leaves[n]) for n, g in zip(wrt, grads)}
        param_grads = {n: as_numpy(g, p) for (n, p), g in zip(params, grads[len(wrt):])}
        return input_grads, param_grads

    def optimizer(self, built, name, args):
        params = [p for p in built.module.parameters() if p.requires_grad]
        if name == "sgd":
            return self.torch.optim.SGD(params, lr=args["lr"], momentum=args["momentum"], dampening=args["dampening"],
                                        weight_decay=args["weight_decay"], nesterov=args["nesterov"])
        return self.torch.optim.Adam(params, lr=args["lr"], betas=(args["beta1"], args["beta2"]), eps=args["eps"],
                                     weight_decay=args["weight_decay"], amsgrad=False)

    def train_step(self, built, optimizer, make_args, inputs, cotangents) -> dict[str, np.ndarray]:
        torch = self.torch
        optimizer.zero_grad(set_to_none=True)
        with torch.enable_grad():
            args, kwargs = make_args(inputs)
            flat = flatten_leaves(self.invoke(built, args, kwargs), self.is_tensor)
            terms = [(value * torch.from_numpy(np.array(cot, order="C")).to(value.device, value.dtype)).sum()
                     for value, cot in zip(flat, cotangents) if cot is not None and self.is_tensor(value) and value.requires_grad]
            if not terms:
                raise UnsupportedCase("no float output depends on a trainable parameter")
            torch.stack(terms).sum().backward()
        grads = {n: self.to_numpy(p.grad) if p.grad is not None else np.zeros(tuple(p.shape), self.to_numpy(p).dtype)
                 for n, p in built.module.named_parameters() if p.requires_grad}
        optimizer.step()
        return grads

    def optimizer_over(self, cls, arrays, init_args):
        torch = self.torch
        params = [torch.nn.Parameter(torch.from_numpy(np.array(a, order="C"))) for a in arrays]
        return cls(params, **init_args), params

    def optimizer_step(self, optimizer, parameters, gradients) -> None:
        for p, g in zip(parameters, gradients):
            p.grad = self.torch.from_numpy(np.array(g, order="C")).to(p.dtype)
        optimizer.step()

    def parameter_values(self, parameters):
        return [self.to_numpy(p).copy() for p in parameters]  # a snapshot: the next step updates in place

    def optimizer_state(self, optimizer, parameters, key):
        return [self.to_numpy(optimizer.state[p][key]).copy() for p in parameters]

    def learning_rates(self, obj, init_args, steps, lr, metrics):
        if not is_constructor(obj):
            return [float(v) for v in list(obj(**init_args))[:steps]]
        torch = self.torch
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        scheduler = obj(optimizer, **init_args)
        rates = [float(optimizer.param_groups[0]["lr"])]
        for i in range(steps - 1):
            optimizer.step()  # before scheduler.step(), as torch expects (it warns otherwise)
            scheduler.step(metrics[i]) if metrics else scheduler.step()
            rates.append(float(optimizer.param_groups[0]["lr"]))
        return rates

    def save(self, built, path) -> None:
        """A state_dict file that torch.load(weights_only=True) reads."""
        self.torch.save(built.module.state_dict(), path)

    def submodules(self, built) -> dict[str, str]:
        if built.module is None:
            return {}
        return {name: type(m).__name__ for name, m in built.module.named_modules() if name}

    def watch(self, built, paths, backward: bool = False, through_inputs: bool = False) -> LayerWatch:
        """Forward hooks record each module's output; full backward hooks its gradient w.r.t. its inputs.

        `through_inputs` (backward): the same gradient through tensor hooks on a private copy of each input,
        keyword inputs included, and the output gradient through an identity on each output: for models whose
        forward() modifies a hooked output in place (`h += residual`), which full backward hooks refuse, and for
        modules called by keyword (HF's `self_attn(hidden_states=...)`), whose inputs full backward hooks miss."""
        watch = LayerWatch(self.to_numpy, self.is_tensor)
        modules = dict(built.module.named_modules())
        if backward and through_inputs:
            for path in paths:
                pre = lambda m, args, kwargs, path=path: _input_gradients(self.torch, watch, path, args, kwargs)
                watch.handles.append(modules[path].register_forward_pre_hook(pre, with_kwargs=True))
                post = lambda m, args, out, path=path: _output_gradients(self.torch, watch, path, out)
                watch.handles.append(modules[path].register_forward_hook(post))
            return watch
        if backward:
            # Full backward hooks refuse an in-place op on a hooked output (nn.ReLU(inplace=True) after a conv):
            # run such modules out of place while watching; the values are the same, only memory differs.
            watch.handles.append(_OutOfPlace([m for m in modules.values() if getattr(m, "inplace", False) is True]))
        for path in paths:
            module = modules[path]
            if backward:
                # A first layer fed integers (Embedding) has no input gradient: torch warns and fires with None.
                warnings.filterwarnings("ignore", message="Full backward hook is firing when gradients are computed with respect to module outputs")
                hook = lambda m, grad_in, grad_out, path=path: (watch.record(path, grad_in), watch.record_cotangent(path, grad_out)) and None
                watch.handles.append(module.register_full_backward_hook(hook))
            else:
                hook = lambda m, args, kwargs, out, path=path: watch.record(path, out, args, kwargs)
                watch.handles.append(module.register_forward_hook(hook, with_kwargs=True))
        return watch

    def _replay_tensors(self, values, dtype: str) -> list:
        return [self.tensor(a, dtype if np.issubdtype(a.dtype, np.floating) else str(a.dtype)) if isinstance(a, np.ndarray) else a
                for a in values]

    def replay(self, built, path: str, args: list, dtype: str, keywords: dict | None = None):
        """One submodule called alone on recorded inputs (numpy), without gradients."""
        torch = self.torch
        module = dict(built.module.named_modules())[path]
        keywords = keywords or {}
        tensors, named = self._replay_tensors(args, dtype), dict(zip(keywords, self._replay_tensors(keywords.values(), dtype)))
        with torch.no_grad():
            return [np.array(self.to_numpy(v), copy=True) if self.is_tensor(v) else None
                    for v in flatten_leaves(module(*tensors, **named), self.is_tensor)]

    def replay_grad(self, built, path: str, args: list, cotangents: list, dtype: str, keywords: dict | None = None):
        """One submodule called alone on recorded inputs, its input gradients by torch.autograd.grad(grad_outputs=...)."""
        torch = self.torch
        modules = dict(built.module.named_modules())
        keywords = keywords or {}
        tensors = self._replay_tensors([*args, *keywords.values()], dtype)  # positional, then keyword: the order of the records
        wrt = [t for t in tensors if self.is_tensor(t) and t.is_floating_point()]
        for t in wrt:
            t.requires_grad_(True)
        inplace = _OutOfPlace([m for m in modules[path].modules() if getattr(m, "inplace", False) is True])  # a leaf input
        try:
            with torch.enable_grad():
                call = modules[path](*tensors[:len(args)], **dict(zip(keywords, tensors[len(args):])))
                outs = flatten_leaves(call, self.is_tensor)
                used = [(o, torch.from_numpy(np.array(c, order="C")).reshape(o.shape).to(o.device, o.dtype))
                        for o, c in zip(outs, cotangents) if c is not None and self.is_tensor(o) and o.requires_grad]
                grads = iter(torch.autograd.grad([o for o, _ in used], wrt, [c for _, c in used], allow_unused=True) if used
                             else [None] * len(wrt))
        finally:
            inplace.remove()
        by_id = {id(t): g for t, g in zip(wrt, grads)}
        return [None if id(t) not in by_id else np.zeros(tuple(t.shape), self.to_numpy(t).dtype) if by_id[id(t)] is None
                else np.array(self.to_numpy(by_id[id(t)]), copy=True) for t in tensors if isinstance(t, torch.Tensor)]

    def is_tensor(self, value) -> bool:
        return isinstance(value, self.torch.Tensor)

    def to_numpy(self, tensor) -> np.ndarray:
        tensor = tensor.detach()
        if tensor.dtype == self.torch.bfloat16:
            tensor = tensor.float()  # numpy has no bfloat16; float32 holds every bfloat16 exactly
        return tensor.cpu().numpy()

    def versions(self) -> dict[str, str]:
        return {"torch": self.torch.__version__}

    def devices(self) -> list[str]:
        found = ["cpu"]
        if self.torch.cuda.is_available():
            found += [f"cuda:{i} ({self.torch.cuda.get_device_name(i)})" for i in range(self.torch.cuda.device_count())]
        return found



class _OutOfPlace:
    """Sets `inplace=False` on modules until `remove()` (a hook handle's interface), then restores it."""

    def __init__(self, modules):
        self.modules = modules
        for module in modules:
            module.inplace = False

    def remove(self) -> None:
        for module in self.modules:
            module.inplace = True


def _input_gradients(torch, watch: LayerWatch, path: str, args: tuple, kwargs: dict) -> tuple:
    """A forward pre-hook: each differentiable input (positional, then keyword) becomes a copy whose gradient is this
    module's alone; the module's record is written when the last of its input gradients arrives."""
    copies = [a.clone() if torch.is_tensor(a) and a.requires_grad else a for a in (*args, *kwargs.values())]
    pending = [i for i, a in enumerate(copies) if torch.is_tensor(a) and a.requires_grad]
    grads: dict[int, Any] = {}

    def arrived(grad, index):
        grads[index] = grad
        if len(grads) == len(pending):
            watch.record(path, tuple(grads.get(i) for i in range(len(copies))))

    for index in pending:
        copies[index].register_hook(lambda grad, index=index: arrived(grad, index) and None)
    return tuple(copies[:len(args)]), dict(zip(kwargs, copies[len(args):]))


def _output_gradients(torch, watch: LayerWatch, path: str, out):
    """A forward hook: the module's tensor outputs (alone or in a tuple) pass through an identity that records the
    gradient reaching them, before anything downstream (an in-place `h += residual`) touches them."""
    leaves = [out] if torch.is_tensor(out) else list(out) if type(out) in (tuple, list) else None
    if leaves is None or not any(torch.is_tensor(v) and v.requires_grad for v in leaves):
        return None  # a ModelOutput or a non-differentiable output: its output gradient stays unrecorded
    slots = [i for i, v in enumerate(leaves) if torch.is_tensor(v) and v.requires_grad]
    grads: dict[int, Any] = {}

    def arrived(grads_in):
        grads.update(zip(slots, grads_in))
        watch.record_cotangent(path, tuple(grads.get(i) for i in range(len(leaves))))

    wrapped = _recorder().apply(arrived, *(leaves[i] for i in slots))
    for i, value in zip(slots, wrapped if isinstance(wrapped, tuple) else (wrapped,)):
        leaves[i] = value
    return leaves[0] if torch.is_tensor(out) else type(out)(leaves)


@functools.cache
def _recorder():
    import torch

    class Recorder(torch.autograd.Function):
        """Identity forward (copies, so an in-place op downstream leaves the saved graph intact); backward hands the
        incoming gradients to `arrived` and passes them on unchanged."""

        @staticmethod
        def forward(ctx, arrived, *tensors):
            ctx.arrived = arrived
            copies = tuple(t.clone() for t in tensors)
            return copies if len(copies) > 1 else copies[0]

        @staticmethod
        def backward(ctx, *grads):
            ctx.arrived(grads)
            return (None, *grads)

    return Recorder
