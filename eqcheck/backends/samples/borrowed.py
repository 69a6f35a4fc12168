"""A module's samples borrowed from the op_db entries of the functional computing the same thing (docs/explore.md).

`nn.MaxPool2d` <- `nn.functional.max_pool2d`: each functional sample becomes a constructor call (its non-tensor
arguments, by the module's own names) and a forward call (its tensors the module's forward takes). `BORROW` is the
table, one row per module class. Each converted sample is checked here, in torch: the module built from it must
return what the functional returns on it (a wrong keyword translation is never cached as a sample). A sample setting
a module parameter (a convolution's weight, batch norm's running statistics) is recorded `not supported (weights:
module parameters)`: the module's parameters come from the spec's shared weight draw instead. A sample the module
cannot express (interpolate's `antialias`, a `pad` of another length) is no sample of it: counted in the record's note.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import torch

from eqcheck.backends.samples import opinfo
from eqcheck.backends.samples.encoding import encode


@dataclass(frozen=True)
class Borrow:
    """How one module class takes the samples of its functional entries."""

    entries: tuple[str, ...]  # op_db entries; `name.*` is every variant of `name`
    rename: dict = field(default_factory=dict)  # functional argument -> the constructor's name for it
    defaults: dict = field(default_factory=dict)  # the functional's defaults where inspect cannot read them (a C builtin)
    params: tuple[str, ...] = ()  # functional arguments that are the module's parameters or buffers
    mode: str | None = None  # the functional argument the module's train/eval mode stands for (dropout's `training`)
    fixed: dict = field(default_factory=dict)  # entry -> constructor arguments its function implies (upsample_bilinear)
    shapes: dict = field(default_factory=dict)  # constructor argument -> (forward input position, axis) it is read from
    lengths: dict = field(default_factory=dict)  # constructor argument -> its length (ConstantPad2d's padding: 4)


_CONV = ("weight", "bias")
_NORM = ("running_mean", "running_var", "weight", "bias")
_POOL_ND = {f"{kind}{n}d": Borrow((f"nn.functional.{fn}{n}d",)) for n in (1, 2, 3)
            for kind, fn in (("MaxPool", "max_pool"), ("AvgPool", "avg_pool"), ("AdaptiveAvgPool", "adaptive_avg_pool"),
                             ("AdaptiveMaxPool", "adaptive_max_pool"))}
_PAD_ND = {f"{kind}{n}d": Borrow((f"nn.functional.pad.{variant}",), rename={"pad": "padding"},
                                 defaults={"value": 0.0 if kind == "ZeroPad" else None, "mode": variant},
                                 lengths={"padding": 2 * n})
           for n in (1, 2, 3) for kind, variant in (("ConstantPad", "constant"), ("ZeroPad", "constant"),
                                                    ("ReflectionPad", "reflect"), ("ReplicationPad", "replicate"))}
_SAME_NAMES = {  # module class -> its functional, every argument named alike
    "ReLU": "nn.functional.relu", "ReLU6": "nn.functional.relu6", "ELU": "nn.functional.elu",
    "CELU": "nn.functional.celu", "SELU": "nn.functional.selu", "GELU": "nn.functional.gelu",
    "SiLU": "nn.functional.silu", "Mish": "nn.functional.mish", "Hardswish": "nn.functional.hardswish",
    "Hardsigmoid": "nn.functional.hardsigmoid", "Hardshrink": "nn.functional.hardshrink",
    "Softshrink": "nn.functional.softshrink", "Hardtanh": "nn.functional.hardtanh",
    "LeakyReLU": "nn.functional.leaky_relu", "LogSigmoid": "nn.functional.logsigmoid",
    "Softsign": "nn.functional.softsign", "Tanhshrink": "nn.functional.tanhshrink", "Threshold": "nn.functional.threshold",
    "GLU": "nn.functional.glu", "Softmax": "softmax", "LogSoftmax": "log_softmax", "Softmin": "nn.functional.softmin",
    "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "nn.functional.softplus",
    "PixelShuffle": "nn.functional.pixel_shuffle", "PixelUnshuffle": "nn.functional.pixel_unshuffle",
    "ChannelShuffle": "nn.functional.channel_shuffle", "Unfold": "nn.functional.unfold",
    "L1Loss": "nn.functional.l1_loss", "MSELoss": "nn.functional.mse_loss", "SmoothL1Loss": "nn.functional.smooth_l1_loss",
    "HuberLoss": "nn.functional.huber_loss", "KLDivLoss": "nn.functional.kl_div", "NLLLoss": "nn.functional.nll_loss",
    "CrossEntropyLoss": "nn.functional.cross_entropy", "BCEWithLogitsLoss": "nn.functional.binary_cross_entropy_with_logits",
    "SoftMarginLoss": "nn.functional.soft_margin_loss", "MultiMarginLoss": "nn.functional.multi_margin_loss",
    "MultiLabelSoftMarginLoss": "nn.functional.multilabel_soft_margin_loss",
    "MarginRankingLoss": "nn.functional.margin_ranking_loss", "HingeEmbeddingLoss": "nn.functional.hinge_embedding_loss",
    "CosineEmbeddingLoss": "nn.functional.cosine_embedding_loss", "GaussianNLLLoss": "nn.functional.gaussian_nll_loss",
    "TripletMarginLoss": "nn.functional.triplet_margin_loss",
}
# module class -> how it borrows; not here: modules without a functional entry in op_db (Identity, Fold, LPPool*,
# the recurrent ones), and pairs other engineers own (CTCLoss, BCELoss, PoissonNLLLoss, LocalResponseNorm)
BORROW: dict[str, Borrow] = {
    **{cls: Borrow((entry,)) for cls, entry in _SAME_NAMES.items()}, **_POOL_ND, **_PAD_ND,
    "PReLU": Borrow(("nn.functional.prelu",), params=("weight",)),
    "Dropout": Borrow(("nn.functional.dropout",), mode="training"),
    "Flatten": Borrow(("flatten",), defaults={"start_dim": 0, "end_dim": -1}),
    "Unflatten": Borrow(("unflatten",), rename={"sizes": "unflattened_size"}),
    "Upsample": Borrow(("nn.functional.interpolate.*", "nn.functional.upsample_nearest", "nn.functional.upsample_bilinear"),
                       fixed={"nn.functional.upsample_nearest": {"mode": "nearest"},
                              "nn.functional.upsample_bilinear": {"mode": "bilinear", "align_corners": True}}),
    "Linear": Borrow(("nn.functional.linear",), params=_CONV),
    "Bilinear": Borrow(("nn.functional.bilinear",), params=_CONV),
    "Embedding": Borrow(("nn.functional.embedding",), params=("weight",)),
    **{f"Conv{n}d": Borrow((f"nn.functional.conv{n}d",), params=_CONV) for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": Borrow((f"nn.functional.conv_transpose{n}d",), params=_CONV) for n in (1, 2, 3)},
    **{f"BatchNorm{n}d": Borrow(("nn.functional.batch_norm",), params=_NORM, mode="training",
                                shapes={"num_features": (0, 1)}) for n in (1, 2, 3)},
    **{f"InstanceNorm{n}d": Borrow(("nn.functional.instance_norm",), params=_NORM, shapes={"num_features": (0, 1)})
       for n in (1, 2, 3)},
    "LayerNorm": Borrow(("nn.functional.layer_norm",), params=("weight", "bias")),
    "GroupNorm": Borrow(("nn.functional.group_norm",), params=("weight", "bias"), shapes={"num_channels": (0, 1)}),
}


class Misfit(Exception):
    """A functional sample that is no sample of the module (it sets what the module cannot express)."""


class NotSupported(Exception):
    """A sample of the module's computation that cannot be carried: it sets the module's parameters."""


def load() -> dict[str, Any]:
    return opinfo.load()


def index(catalog: dict[str, Any]) -> dict[str, Any]:
    return {"names": sorted(f"torch.nn.{name}" for name in BORROW), "aliases": {}}


def _entries(catalog: dict[str, Any], borrow: Borrow) -> list[str]:
    out = []
    for entry in borrow.entries:
        if entry.endswith(".*"):
            out.extend(sorted(n for n in catalog if n.startswith(entry[:-1])))
        elif entry in catalog:
            out.append(entry)
    return out


def _names(function: Any) -> list[str]:
    params = list(inspect.signature(function).parameters.values())[1:]  # self
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _init_defaults(cls: type) -> dict[str, Any]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return {p.name: p.default for p in params if p.default is not p.empty}


def _functional_defaults(op: Any, borrow: Borrow) -> dict[str, Any]:
    """The functional's defaults: inspect's (through a dispatching wrapper's functions), then the table's."""
    found: dict[str, Any] = {}
    functions = [op] + [cell.cell_contents for cell in getattr(op, "__closure__", None) or ()
                        if inspect.isfunction(cell.cell_contents)]
    for function in functions:
        try:
            params = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            continue
        found.update({p.name: p.default for p in params if p.default is not p.empty and p.name not in found})
    return {**found, **borrow.defaults}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def convert(cls: type, borrow: Borrow, entry: str, op: Any, sample: Any, training: bool) -> tuple[dict, list]:
    """A functional sample -> (constructor keywords, forward arguments) of `cls`, checked: the module built from them
    returns what the functional returns. Raises Misfit or NotSupported."""
    names = opinfo.signature(op.op) or []
    values = [sample.input, *sample.args]
    if len(values) > len(names):
        raise Misfit(f"positional #{len(names)} past the functional's signature")
    bound = {**dict(zip(names, values)), **sample.kwargs}
    forward, init_names = _names(cls.forward), _names(cls.__init__)
    init_defaults, defaults = _init_defaults(cls), _functional_defaults(op.op, borrow)
    init: dict[str, Any] = dict(borrow.fixed.get(entry, {}))
    inputs: dict[str, Any] = {}
    for name, value in bound.items():
        target = borrow.rename.get(name, name)
        if name in borrow.params:
            if value is not None:
                raise NotSupported("weights: module parameters")
        elif name == borrow.mode:
            continue
        elif name in forward:
            inputs[name] = value
        elif target in init_names:
            init[target] = value
        elif not (name in defaults and _equal(value, defaults[name])):
            raise Misfit(f"{name}: no constructor argument")
    if borrow.mode is not None and bool(bound.get(borrow.mode, defaults.get(borrow.mode))) != training:
        raise Misfit(f"{borrow.mode}={bound.get(borrow.mode, defaults.get(borrow.mode))} in another mode")
    for name, default in defaults.items():  # the functional's default where the constructor's differs (flatten's start_dim)
        target = borrow.rename.get(name, name)
        if name not in bound and target in init_names and target not in init and target in init_defaults \
                and not _equal(default, init_defaults[target]):
            init[target] = default
    args = [inputs[name] for name in forward if name in inputs]
    if len(args) != len(inputs) or [n for n in forward if n in inputs] != forward[:len(args)]:
        raise Misfit("forward inputs out of order")
    # a value equal to the constructor's default is left out, as ModuleInfo's samples do (stride=None is the kernel
    # size in torch and reaches MindSpore through the map's `default:`, never as None)
    init = {k: v for k, v in init.items() if not (k in init_defaults and _equal(v, init_defaults[k]))}
    for name, length in borrow.lengths.items():
        if isinstance(init.get(name), (tuple, list)) and len(init[name]) != length:
            raise Misfit(f"{name} of length {len(init[name])}")
    for name, (position, axis) in borrow.shapes.items():
        init.setdefault(name, int(args[position].shape[axis]))
    try:
        torch.manual_seed(0)  # a random op (dropout) draws the same on both
        expected = op.op(sample.input, *sample.args, **sample.kwargs)
        torch.manual_seed(0)
        got = cls(**init).train(training)(*args)
    except Exception as exc:  # noqa: BLE001 - the module refusing this sample: not one of its samples
        raise Misfit(f"torch refuses it: {type(exc).__name__}") from None
    if not _same(expected, got):
        raise Misfit("torch's module returns another value than the functional")
    return init, args


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b  # True is not 1 here
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - a tensor compared with a number
        return False


def build(catalog: dict[str, Any], name: str, seed: int) -> tuple[dict[str, Any], dict]:
    borrow = BORROW.get(name.removeprefix("torch.nn."))
    cls = getattr(torch.nn, name.removeprefix("torch.nn."), None)
    if borrow is None or cls is None:
        return {"entry": name, "missing": True, "samples": [], "samples_train": [], "errors": []}, {}
    arrays: dict = {}
    record: dict[str, Any] = {"entry": name, "signature": _names(cls.forward), "init_signature": _names(cls.__init__),
                              "defaults": {}, "init_defaults": {k: encode(v, {}, "") for k, v in _init_defaults(cls).items()
                                                                if not isinstance(v, torch.Tensor)},
                              "borrowed": _entries(catalog, borrow), "errors": []}
    for key, training, prefix in (("samples", False, "s"), ("samples_train", True, "t")):
        samples, unconverted, misfits = [], [], {}
        for entry in record["borrowed"]:
            op = catalog[entry]
            if torch.float32 not in op.supported_dtypes("cpu"):
                continue
            torch.manual_seed(seed)
            for k, sample in enumerate(op.sample_inputs("cpu", torch.float32, requires_grad=False)):
                origin = f"{entry}.{k}"
                try:
                    init, args = convert(cls, borrow, entry, op, sample, training)
                except NotSupported as why:
                    unconverted.append({"origin": origin, "not_supported": str(why)})
                    continue
                except Misfit as why:
                    misfits[str(why)] = misfits.get(str(why), 0) + 1
                    continue
                tag = f"{prefix}{len(samples)}_"
                samples.append({"origin": origin,
                                "init": {"args": [], "kwargs": {k2: encode(v, arrays, tag) for k2, v in init.items()}},
                                "call": {"args": [encode(a, arrays, tag) for a in args], "kwargs": {}}})
        record[key], record[f"unconverted_{key}"] = samples, unconverted
        if misfits:
            record[f"note_{key}"] = "functional samples that are none of this module's: " + ", ".join(
                f"{why} x{n}" for why, n in sorted(misfits.items()))
    return record, arrays
