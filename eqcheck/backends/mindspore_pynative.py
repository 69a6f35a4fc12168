"""MindSpore in PyNative mode, on CPU or GPU."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from eqcheck.backends.base import Backend, Built, LayerWatch, ModelFactory, ParamInfo, UnsupportedCase, flatten_leaves, is_constructor
from eqcheck.backends.resolve import resolve_dotted
from eqcheck.errors import TargetUnavailable


class MindSporePyNativeBackend(Backend):
    framework = "mindspore"
    target = "mindspore"
    call_method = "construct"
    mode_name = "PYNATIVE_MODE"

    def activate(self) -> None:
        os.environ.setdefault("GLOG_v", "3")  # MindSpore's C++ INFO/WARNING logs would bury the report
        # A failed graph compile dumps rank_0/om/analyze_fail.ir into the working directory: keep it out of the user's tree.
        os.environ.setdefault("MS_OM_PATH", os.path.join(tempfile.gettempdir(), "eqcheck-mindspore"))
        import mindspore as ms

        self.ms = ms
        try:
            from mindspore.device_context.cpu.op_tuning import threads_num

            threads_num(self.threads)  # before the runtime starts; see Backend.threads
        except (ImportError, RuntimeError):  # an older MindSpore, or already set in this process
            pass
        try:
            ms.set_context(mode=getattr(ms, self.mode_name))
            # Synchronous kernel launches: a failing kernel raises at its own op, inside its own case,
            # instead of surfacing later in an unrelated one (measured: 2 of 3 runs leaked without this).
            ms.runtime.launch_blocking()
            ms.set_device("GPU" if self.device == "gpu" else "CPU")
        except (RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TargetUnavailable(
                f"MindSpore {ms.__version__} cannot use the {self.device.upper()} here: {first}",
                field="--device",
                hint="MindSpore's GPU plugin needs the CUDA 11 libraries (libcudart, libcudnn) on the library path; "
                     "run with --device cpu or --device torch=gpu,mindspore=cpu",
            ) from None

    def resolve(self, dotted: str) -> Any:
        return resolve_dotted(dotted)

    def _dtype(self, dtype: str):
        return getattr(self.ms, dtype)

    def build(self, obj, init_args, dtype, train, seed) -> Built:
        ms = self.ms
        if not is_constructor(obj):
            return Built(fn=obj, module=None)
        ms.set_seed(seed)
        cell = obj(**init_args)
        if isinstance(obj, ModelFactory) and not isinstance(cell, ms.nn.Cell):
            raise TypeError(f"model factory {obj.path} returned {type(cell).__name__}, not a mindspore.nn.Cell")
        if dtype != "float32":
            try:
                for param in cell.get_parameters():
                    if param.dtype in (ms.float16, ms.bfloat16, ms.float32, ms.float64):
                        param.set_dtype(self._dtype(dtype))
            except (TypeError, ValueError, RuntimeError) as exc:
                raise UnsupportedCase(f"cannot cast {type(cell).__name__} parameters to {dtype}: {exc}") from exc
        cell.set_train(train)
        return Built(fn=cell, module=cell)

    def _params(self, built) -> dict[str, Any]:
        return dict(built.module.parameters_and_names()) if built.module is not None else {}

    def parameters(self, built) -> dict[str, ParamInfo]:
        return {
            name: ParamInfo(name, tuple(p.shape), str(p.dtype).lower(), bool(p.requires_grad), self.to_numpy(p))
            for name, p in self._params(built).items()
        }

    def load(self, built, arrays) -> None:
        params = self._params(built)
        for name, array in arrays.items():
            param = params[name]
            param.set_data(self.ms.Tensor(np.ascontiguousarray(array)).astype(param.dtype))

    def read(self, built) -> dict[str, np.ndarray]:
        return {name: self.to_numpy(p) for name, p in self._params(built).items()}

    def tensor(self, array: np.ndarray, dtype: str):
        t = self.ms.Tensor(np.ascontiguousarray(array).reshape(np.shape(array)))  # 0-d stays 0-d (not [1])
        return t if str(t.dtype).lower() == dtype else t.astype(self._dtype(dtype))

    def call(self, built, args, kwargs):
        return self.invoke(built, args, kwargs)

    def grad(self, built, make_args, inputs, wrt, cotangents):
        # The gradient of sum(output * cotangent) w.r.t. each output is exactly the cotangent (same bytes as the
        # torch side's grad_outputs): a VJP without matching sens to nested output structures.
        ms = self.ms
        names = list(inputs)
        positions = tuple(i for i, n in enumerate(names) if n in wrt)
        params = list(built.module.trainable_params()) if built.module is not None else []
        by_id = {id(p): n for n, p in built.module.parameters_and_names()} if built.module is not None else {}
        cots = [None if c is None else ms.Tensor(np.array(c, order="C")) for c in cotangents]  # keeps 0-d arrays 0-d

        loss = self._loss(built, make_args, names, cots)
        if not positions and not params:
            raise UnsupportedCase("no float input or trainable parameter to differentiate")
        self._clear_grad_cache()
        fn = ms.value_and_grad(loss, grad_position=positions if positions else None, weights=params if params else None)
        _, grads = fn(*(inputs[n] for n in names))
        if positions and params:
            input_grads, param_grads = grads
        elif positions:
            input_grads, param_grads = grads, ()
        else:
            input_grads, param_grads = (), grads
        if not isinstance(input_grads, (tuple, list)):
            input_grads = (input_grads,)
        out_inputs = {names[i]: self.to_numpy(g) for i, g in zip(positions, input_grads)}
        out_params = {by_id.get(id(p), p.name): self.to_numpy(g) for p, g in zip(params, param_grads)}
        return out_inputs, out_params

    def _loss(self, built, make_args, names, cots):
        def loss(*tensors):
            args, kwargs = make_args(dict(zip(names, tensors)))
            flat = flatten_leaves(self.invoke(built, args, kwargs), self.is_tensor)
            total = None
            for value, cot in zip(flat, cots):
                if cot is not None and self.is_tensor(value):
                    term = (value * cot.astype(value.dtype)).sum()
                    total = term if total is None else total + term
            if total is None:
                raise UnsupportedCase("no float output to differentiate")
            return total

        return loss

    def optimizer(self, built, name, args):
        nn, params = self.ms.nn, built.module.trainable_params()
        if name == "sgd":
            return nn.SGD(params, learning_rate=args["lr"], momentum=args["momentum"], dampening=args["dampening"],
                          weight_decay=args["weight_decay"], nesterov=args["nesterov"], loss_scale=1.0)
        return nn.Adam(params, learning_rate=args["lr"], beta1=args["beta1"], beta2=args["beta2"], eps=args["eps"],
                       weight_decay=args["weight_decay"], use_amsgrad=False, use_nesterov=False, loss_scale=1.0)

    def train_step(self, built, optimizer, make_args, inputs, cotangents) -> dict[str, np.ndarray]:
        names = list(inputs)
        cots = [None if c is None else self.ms.Tensor(np.array(c, order="C")) for c in cotangents]
        self._clear_grad_cache()
        step = self.ms.value_and_grad(self._loss(built, make_args, names, cots), None, optimizer.parameters)
        _, grads = step(*(inputs[n] for n in names))
        optimizer(grads)
        by_id = {id(p): n for n, p in built.module.parameters_and_names()}
        return {by_id.get(id(p), p.name): self.to_numpy(g) for p, g in zip(optimizer.parameters, grads)}

    def optimizer_over(self, cls, arrays, init_args):
        ms = self.ms
        params = [ms.Parameter(ms.Tensor(np.array(a, order="C")), name=f"p{i}") for i, a in enumerate(arrays)]
        return cls(params, **init_args), params

    def optimizer_step(self, optimizer, parameters, gradients) -> None:
        # nn.Optimizer and mindspore.experimental.optim both take the gradient tuple as their call
        optimizer(tuple(self.ms.Tensor(np.array(g, order="C")).astype(p.dtype) for p, g in zip(parameters, gradients)))

    def parameter_values(self, parameters):
        return [self.to_numpy(p).copy() for p in parameters]  # a snapshot: the next step updates in place

    def optimizer_state(self, optimizer, parameters, key):
        values = getattr(optimizer, key, None)
        if values is None:
            raise KeyError(key)
        return [self.to_numpy(v).copy() for v in list(values)[:len(parameters)]]

    def learning_rates(self, obj, init_args, steps, lr, metrics):
        if not is_constructor(obj):
            return [float(v) for v in list(obj(**init_args))[:steps]]
        ms = self.ms
        from mindspore.experimental import optim  # the optimizers its lr_scheduler classes wrap
        optimizer = optim.SGD([ms.Parameter(ms.Tensor(np.zeros(1, np.float32)), name="lr_probe")], lr=lr)
        scheduler = obj(optimizer, **init_args)

        def read() -> float:
            value = scheduler.get_last_lr()[0]
            return float(self.to_numpy(value).reshape(-1)[0]) if self.is_tensor(value) else float(value)

        rates = [read()]
        for i in range(steps - 1):
            scheduler.step(ms.Tensor(metrics[i], ms.float32)) if metrics else scheduler.step()
            rates.append(read())
        return rates

    def save(self, built, path) -> None:
        """A .ckpt that mindspore.load_checkpoint reads: parameters and buffers (moving_mean, ...) by cell name."""
        self.ms.save_checkpoint(built.module, path)

    def submodules(self, built) -> dict[str, str]:
        if built.module is None:
            return {}
        return {name: type(c).__name__ for name, c in built.module.cells_and_names() if name}

    def watch(self, built, paths, backward: bool = False) -> LayerWatch:
        """Cell hooks, which fire in PyNative (also inside value_and_grad), not under jit, not on Cells with a bprop.

        register_backward_hook's fn(cell, grad_input, grad_output): grad_input is the gradient w.r.t. the
        cell's inputs, as torch's full backward hook gives it.
        """
        watch = LayerWatch(self.to_numpy, self.is_tensor)
        cells = dict(built.module.cells_and_names())
        for path in paths:
            cell = cells[path]
            if backward:
                hook = lambda c, grad_in, grad_out, path=path: (watch.record(path, grad_in), watch.record_cotangent(path, grad_out)) and None
                watch.handles.append(cell.register_backward_hook(hook))
            else:
                hook = lambda c, args, kwargs, out, path=path: watch.record(path, out, args, kwargs)
                watch.handles.append(cell.register_forward_hook(hook, with_kwargs=True))  # inputs by keyword too
        return watch

    def replay(self, built, path: str, args: list, dtype: str, keywords: dict | None = None):
        """One Cell called alone on recorded inputs (numpy)."""
        cell = dict(built.module.cells_and_names())[path]
        keywords = keywords or {}
        tensors = self._replay_tensors([*args, *keywords.values()], dtype)
        return [np.array(self.to_numpy(v), copy=True) if self.is_tensor(v) else None
                for v in flatten_leaves(cell(*tensors[:len(args)], **dict(zip(keywords, tensors[len(args):]))), self.is_tensor)]

    def _replay_tensors(self, values, dtype: str) -> list:
        return [self.tensor(a, dtype if np.issubdtype(a.dtype, np.floating) else str(a.dtype)) if isinstance(a, np.ndarray) else a
                for a in values]

    def replay_grad(self, built, path: str, args: list, cotangents: list, dtype: str, keywords: dict | None = None):
        """One Cell called alone on recorded inputs, its input gradients by mindspore.value_and_grad of
        sum(output * cotangent), the recorded output gradient (the same vector-Jacobian product as a sens)."""
        ms = self.ms
        cell = dict(built.module.cells_and_names())[path]
        keywords = keywords or {}
        positional, args = len(args), [*args, *keywords.values()]  # positional, then keyword: the order of the records
        tensors = self._replay_tensors(args, dtype)
        floats = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)]
        if not floats:
            return [None for a in args if isinstance(a, np.ndarray)]

        def loss(*xs):
            full = list(tensors)
            for i, x in zip(floats, xs):
                full[i] = x
            outs = flatten_leaves(cell(*full[:positional], **dict(zip(keywords, full[positional:]))), self.is_tensor)
            terms = [(o * ms.Tensor(np.array(c, order="C")).reshape(o.shape).astype(o.dtype)).sum()
                     for o, c in zip(outs, cotangents) if c is not None and self.is_tensor(o)]
            return sum(terms[1:], terms[0])

        _, grads = ms.value_and_grad(loss, grad_position=tuple(range(len(floats))))(*(tensors[i] for i in floats))
        grads = dict(zip(floats, grads if isinstance(grads, tuple) else (grads,)))
        return [np.array(self.to_numpy(grads[i]), copy=True) if i in grads else None
                for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def is_tensor(self, value) -> bool:
        return isinstance(value, self.ms.Tensor)  # Parameter subclasses Tensor

    def to_numpy(self, tensor) -> np.ndarray:
        if tensor.dtype == self.ms.bfloat16:
            tensor = tensor.astype(self.ms.float32)
        return tensor.asnumpy()

    def versions(self) -> dict[str, str]:
        return {"mindspore": self.ms.__version__}

    def devices(self) -> list[str]:
        return [self.ms.get_context("device_target")]

    @staticmethod
    def _clear_grad_cache() -> None:
        """Empty PyNative's grad executor (its traced graphs, its record of the shapes each Cell class was called
        with): a gradient must not depend on the cases before it. Measured: nn.Transformer's gradients with a size-1
        sequence (boundary one@1) differ after another Transformer gradient ran in the process (up to 2.98 apart),
        and equal a fresh process's once this is cleared. clear_res() is internal API: best effort elsewhere."""
        try:
            from mindspore.common.api import _pynative_executor

            _pynative_executor.clear_res()
        except Exception:  # noqa: BLE001 - best effort on other MindSpore versions
            pass

    def recover(self) -> None:
        # A failure inside value_and_grad leaves PyNative's grad executor mid-trace: the next case's gradient
        # then fails with a nonsense indexing error (measured with a failing Conv2d grad, then LSTM).
        self._clear_grad_cache()
        # A failed kernel's error can surface in the next, unrelated op; a trivial op absorbs it here
        # instead of in the next case (measured: one stale raise, then clean).
        clean = 0
        for _ in range(6):  # two clean round trips in a row, after a device sync
            try:
                if self.device != "cpu":  # on CPU it only logs "CPU device is not supported" at ERROR level
                    self.ms.runtime.synchronize()
                self.ms.ops.add(self.ms.Tensor(1.0), self.ms.Tensor(1.0)).asnumpy()
                clean += 1
                if clean == 2:
                    return
            except Exception:  # noqa: BLE001 - the stale error is whatever the failed kernel raised
                clean = 0

    def healthy(self) -> bool:
        # A forward op and a gradient with known answers: a stale kernel error or a grad executor left mid-trace
        # (the two poisonings measured in PyNative) shows here as a raise or a wrong number.
        ms = self.ms
        try:
            x = ms.Tensor(np.array([1.0, 2.0], np.float32))
            total, grad = ms.value_and_grad(lambda t: (t * t).sum())(x)
            return bool(np.allclose(total.asnumpy(), 5.0) and np.allclose(grad.asnumpy(), [2.0, 4.0]))
        except Exception:  # noqa: BLE001 - any raise means the process is not to be trusted
            return False
