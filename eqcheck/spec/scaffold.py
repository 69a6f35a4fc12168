"""`eqcheck scaffold TORCH_PATH MINDSPORE_PATH`: draft a spec from both callables' signatures.

Arguments are matched by RENAMES (the renames MindSpore's mapping pages list most often), then by exact
name, then by name similarity. Every default that differs is written out on both sides with torch's value
and a comment (the fair mapping); arguments one side lacks become comments. For classes both cells are
built with the drafted arguments and their parameters and buffers are listed for the weight map. Inputs
come from the forward signature (`forward` / `construct`), shapes guessed from the sizes, with TODO
markers where the guess is weak. Framework imports happen only when a draft is made.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Any

from eqcheck.backends.resolve import resolve_dotted
from eqcheck.errors import SpecError
from eqcheck.spec import allowlist, expressions, writer

SOURCE = "https://www.mindspore.cn/docs/en/r2.3/note/api_mapping/pytorch_diff/{name}.html"

# torch name -> MindSpore names to try, in order (from the mapping pages' "parameter" tables).
RENAMES: dict[str, tuple[str, ...]] = {
    "input": ("x", "input", "logits", "input_x"),
    "target": ("labels", "target", "label"),
    "hidden": ("hx", "h"),
    "hx": ("hx", "h"),
    "bias": ("has_bias", "bias", "beta"),
    "dim": ("axis", "dim"),
    "keepdim": ("keep_dims", "keepdims", "keepdim"),
    "correction": ("ddof",),
    "eps": ("epsilon", "eps"),
    "negative_slope": ("alpha",),
    "in_features": ("in_channels",),
    "out_features": ("out_channels",),
    "num_embeddings": ("vocab_size",),
    "embedding_dim": ("embedding_size",),
    "affine": ("affine",),
    "elementwise_affine": ("elementwise_affine",),
    "p": ("p", "keep_prob"),
    "other": ("other", "y"),
    "batch_first": ("batch_first",),
    "weight": ("weight", "gamma"),
    "running_mean": ("moving_mean",),
    "running_var": ("moving_variance",),
}
# Names that look alike but mean different things: never matched by similarity.
FALSE_FRIENDS = {("padding_mode", "pad_mode")}
# Required function arguments that are sizes, axes or counts, not tensors: passed by keyword with a guess.
SCALAR_ARGS: dict[str, Any] = {
    "dim": 1, "dim0": 0, "dim1": 1, "dims": [0], "k": 2, "chunks": 2, "shape": [-1], "shifts": 1, "n": 2,
    "repeats": 2, "split_size_or_sections": 2, "split_size": 2, "normalized_shape": [16], "threshold": 0.5,
    "value": 0.5, "start": 0, "length": 2, "num_classes": 4, "output_size": 2, "kernel_size": 2,
}
# Arguments whose MindSpore value is a function of torch's (BatchNorm's momentum weights the other term).
CONVERSIONS: dict[str, str] = {"momentum": "$1 - {name}"}
# Guessed sizes for required constructor arguments, so the draft builds and runs as written.
SIZES: dict[str, Any] = {
    "input_size": 16, "hidden_size": 32, "in_features": 16, "out_features": 8, "in_channels": 4,
    "out_channels": 8, "kernel_size": 3, "num_features": 8, "normalized_shape": [16], "num_embeddings": 20,
    "embedding_dim": 8, "embed_dim": 16, "num_heads": 4, "num_layers": 1, "output_size": 4, "num_channels": 8,
    "num_groups": 2, "d_model": 16, "nhead": 4, "dim": 1, "upscale_factor": 2, "scale_factor": 2,
}
# Framework plumbing, not the operator's arguments: the run sets dtype and device itself.
PLUMBING = {"dtype", "device", "out", "factory_kwargs", "name", "layout", "requires_grad", "memory_format"}
_DOC_SIGNATURE = re.compile(r"^\s*[\w.]+\((?P<params>[^)]*)\)", re.MULTILINE)


@dataclass
class Param:
    name: str
    default: Any = inspect.Parameter.empty
    keyword_only: bool = False

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclass
class Draft:
    lines: list[str] = field(default_factory=list)

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def text(self) -> str:
        """The draft in the spec style (eqcheck/spec/writer.py), its TODO comments kept."""
        return writer.rewrite("\n".join(self.lines).rstrip() + "\n")


def signature(obj: Any, method: str | None = None) -> list[Param]:
    """Parameters of a callable (or of `obj.method`), without self/*args/**kwargs; docstrings where opaque."""
    target = getattr(obj, method) if method else (obj.__init__ if inspect.isclass(obj) else obj)
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return _doc_signature(target) or _doc_signature(obj)
    out = []
    for p in sig.parameters.values():
        if p.name in ("self", "cls") or p.name in PLUMBING or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out.append(Param(p.name, p.default, p.kind == p.KEYWORD_ONLY))
    return out


def _doc_signature(obj: Any) -> list[Param]:
    """`atan2(input, other, *, out=None) -> Tensor` from a builtin's docstring."""
    match = _DOC_SIGNATURE.search(inspect.getdoc(obj) or "")
    if not match:
        return []
    out, keyword = [], False
    for raw in (p.strip() for p in match.group("params").split(",")):
        if raw == "*":
            keyword = True
            continue
        name, _, default = raw.partition("=")
        if not raw or raw.startswith("*") or raw == "self" or name.strip().split(":")[0].strip() in PLUMBING:
            continue
        value: Any = inspect.Parameter.empty
        if default:
            value = _literal(default.strip())
        out.append(Param(name.strip().split(":")[0].strip(), value, keyword))
    return out


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def match(torch_names: list[str], ms_names: list[str]) -> dict[str, str]:
    """torch name -> MindSpore name: the rename table, then the same name, then the closest similar name."""
    out: dict[str, str] = {}
    free = list(ms_names)
    for name in torch_names:  # table and exact matches first, so similarity cannot steal their partner
        hit = next((c for c in (*RENAMES.get(name, ()), name) if c in free), None)
        if hit:
            out[name] = hit
            free.remove(hit)
    for name in torch_names:
        if name in out:
            continue
        close = [c for c in difflib.get_close_matches(name, free, n=3, cutoff=0.75) if (name, c) not in FALSE_FRIENDS][:1]
        if close:
            out[name] = close[0]
            free.remove(close[0])
    return out


def _yaml_ok(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_yaml_ok(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def draft(torch_path: str, mindspore_path: str) -> str:
    """The spec text for one pair (imports both frameworks)."""
    for path, fw in ((torch_path, "torch"), (mindspore_path, "mindspore")):
        if not path.startswith(fw + "."):
            raise SpecError(f"'{path}' is not a {fw} path", field=fw.upper() + "_PATH")
        allowlist.check_op(path, "<scaffold>", fw.upper() + "_PATH")
    objs = {}
    for path, fw in ((torch_path, "torch"), (mindspore_path, "mindspore")):
        try:
            objs[fw] = resolve_dotted(path)
        except (LookupError, ImportError) as exc:
            raise SpecError(f"cannot resolve '{path}': {exc}", field=fw.upper() + "_PATH") from None
        allowlist.check_resolved(path, objs[fw], "<scaffold>", fw.upper() + "_PATH")
    is_class = {fw: inspect.isclass(o) for fw, o in objs.items()}
    if is_class["torch"] != is_class["mindspore"]:
        raise SpecError("one path is a class and the other a function; scaffold drafts like for like", field="MINDSPORE_PATH")

    short = torch_path.removeprefix("torch.").replace("nn.functional.", "F.")
    title = torch_path.rsplit(".", 1)[-1]
    doc = Draft()
    doc.add(f"# Drafted by `eqcheck scaffold {torch_path} {mindspore_path}`: check every TODO, then delete this line.")
    doc.add(f"name: {short}")
    doc.add(f"summary: {torch_path} vs {mindspore_path}")
    doc.add(f"source: {SOURCE.format(name=title)}")

    if is_class["torch"]:
        init = {"torch": signature(objs["torch"]), "mindspore": signature(objs["mindspore"])}
        forward = {"torch": signature(objs["torch"], "forward"), "mindspore": signature(objs["mindspore"], "construct")}
    else:
        init = {"torch": [], "mindspore": []}
        forward = {"torch": signature(objs["torch"]), "mindspore": signature(objs["mindspore"])}
        for fw, path in (("torch", torch_path), ("mindspore", mindspore_path)):
            if ".Tensor." in path and not any(p.name in ("input", "self", "x") for p in forward[fw][:1]):
                forward[fw].insert(0, Param("input"))  # a method: the tensor itself comes first

    # ---- constructor arguments -----------------------------------------------------------------
    init_map = match([p.name for p in init["torch"]], [p.name for p in init["mindspore"]])
    params: dict[str, Any] = {}
    side_init: dict[str, dict[str, str]] = {"torch": {}, "mindspore": {}}
    comments: list[str] = []
    ms_init = {p.name: p for p in init["mindspore"]}
    for p in init["torch"]:
        other = ms_init.get(init_map.get(p.name, ""))
        if p.required:
            value = SIZES.get(p.name, 8)
            params[p.name] = value
            side_init["torch"][p.name] = f"${p.name}"
            if other is not None:
                side_init["mindspore"][other.name] = f"${p.name}"
            else:
                comments.append(f"# TODO: torch's required '{p.name}' has no MindSpore counterpart found")
            continue
        if other is None:
            comments.append(f"# torch-only argument: {p.name}={p.default!r} (left at its default)")
            continue
        if other.required:
            comments.append(f"# {other.name}: required by MindSpore, given torch's default")
        elif _same(p.default, other.default):
            continue
        else:
            comments.append(f"# default differs: torch {p.name}={p.default!r}, MindSpore {other.name}={other.default!r}; "
                            f"{_agreed_source(p, other)}'s written on both sides")
        value = _agreed(p, other)
        if not _yaml_ok(value):
            comments.append(f"# TODO: torch's default {p.name}={p.default!r} is not a YAML value; map it by hand")
            continue
        axis = p.name
        params[axis] = _plain(value)
        side_init["torch"][p.name] = f"${axis}"
        side_init["mindspore"][other.name] = CONVERSIONS.get(p.name, "${name}").format(name=axis)
        if p.name in CONVERSIONS:
            comments.append(f"# {other.name} is written as {side_init['mindspore'][other.name]}: MindSpore weights the other term")
    torch_padding = next((p for p in init["torch"] if p.name == "padding"), None)
    if torch_padding is not None and "pad_mode" in ms_init and "padding" in ms_init and _yaml_ok(torch_padding.default):
        # MindSpore's convolutions and pools default to pad_mode 'same' or 'valid': torch's explicit padding needs 'pad'
        params.setdefault("padding", _plain(torch_padding.default))
        side_init["torch"]["padding"] = "$padding"
        side_init["mindspore"].update({"pad_mode": "pad", "padding": "$padding"})
        comments.append("# pad_mode: pad, so MindSpore uses torch's explicit padding (its default pad_mode differs)")
    for p in init["mindspore"]:
        if p.name not in init_map.values():
            note = "TODO: required, no torch counterpart" if p.required else f"left at its default {p.default!r}"
            comments.append(f"# MindSpore-only argument: {p.name} ({note})")

    # ---- forward inputs and call arguments --------------------------------------------------------
    fwd_map = match([p.name for p in forward["torch"]], [p.name for p in forward["mindspore"]])
    ms_fwd = {p.name: p for p in forward["mindspore"]}
    inputs, call = [], {"torch": {}, "mindspore": {}}
    for i, p in enumerate(forward["torch"]):
        other = ms_fwd.get(fwd_map.get(p.name, ""))
        tensorish = p.required or (p.default is None and other is not None and other.required)
        if tensorish and p.name in SCALAR_ARGS and other is not None and not is_class["torch"]:
            comments.append(f"# {p.name}: a required size/axis/count, guessed as {SCALAR_ARGS[p.name]!r}: TODO check it")
            call["torch"][p.name] = writer.flow(SCALAR_ARGS[p.name])
            call["mindspore"][other.name] = writer.flow(SCALAR_ARGS[p.name])
        elif tensorish and not p.keyword_only:
            inputs.append((p, other))
        elif other is not None and p.name != "out":
            value = _agreed(p, other)
            if not _same(p.default, other.default) and _yaml_ok(value):
                comments.append(f"# call default differs: torch {p.name}={p.default!r}, MindSpore {other.name}={other.default!r}; "
                                f"{_agreed_source(p, other)}'s written on both sides")
                call["torch"][p.name] = writer.flow(_plain(value))
                call["mindspore"][other.name] = writer.flow(_plain(value))
        elif p.name != "out" and not p.required:
            comments.append(f"# torch-only call argument: {p.name}={p.default!r}")
    for p in forward["mindspore"]:
        if p.name not in fwd_map.values() and p.required:
            comments.append(f"# TODO: MindSpore's forward needs '{p.name}', which torch's does not take")

    samples = _torch_samples(torch_path, is_class["torch"])
    # a module's input sizes depend on the constructor arguments drafted above, so only functions take a sample's shapes
    sample_shapes = _sample_shapes(samples, [p.name for p, _ in inputs]) if samples and not is_class["torch"] else {}
    if params:
        doc.add("params:")
        for k, v in params.items():
            doc.add(f"  {k}: {writer.flow(v)}")
    doc.add("inputs:")
    if not inputs:
        doc.add("  - {name: input, shape: [4, 16]}  # TODO: no tensor argument found in either signature")
    ms_positional = [p.name for p in forward["mindspore"] if not p.keyword_only]
    for p, other in inputs:
        shape, sure = _guess_shape(p.name, params)
        if p.name in sample_shapes:
            shape, sure = sample_shapes[p.name], True  # the shape torch's own test sample uses
        doc.add(f"  - name: {p.name}")
        doc.add(f"    shape: {writer.flow(shape)}{'' if sure else '  # TODO: shape guessed'}")
        if other is None:
            doc.add("    # TODO: no MindSpore argument matched this input")
        elif other.name != p.name:
            doc.add(f"    mindspore: {other.name}")
    torch_order = [p.name for p, _ in inputs]
    ms_order = sorted((p.name for p, o in inputs if o is not None), key=lambda n: ms_positional.index(fwd_map[n]))
    for fw, path in (("torch", torch_path), ("mindspore", mindspore_path)):
        doc.add(f"{fw}:")
        doc.add(f"  op: {path}")
        if side_init[fw]:
            doc.add("  init: {" + ", ".join(f"{k}: {v}" for k, v in side_init[fw].items()) + "}")
        if call[fw]:
            doc.add("  call: {" + ", ".join(f"{k}: {v}" for k, v in call[fw].items()) + "}")
        if fw == "mindspore" and ms_order != torch_order and len(ms_order) == len(torch_order):
            doc.add("  args: [" + ", ".join(ms_order) + "]  # MindSpore takes the inputs in this order")
    if is_class["torch"]:
        _weights(doc, objs, init, side_init, params)
    doc.add("grad: true  # TODO: false if the op is not differentiable")
    if samples:
        ms_names = [p.name for p in init["mindspore"] + forward["mindspore"]]
        _explore_map(doc, samples, {**init_map, **fwd_map}, {p.name for p, _ in inputs}, ms_names)
    if comments:
        doc.add("# Argument notes:")
        doc.lines.extend(comments)
    return doc.text()


def _agreed(p: Param, other: Param) -> Any:
    """The value a draft writes on both sides: torch's default, unless torch's is None ("implicit", e.g. softmax's
    dim) and MindSpore's is concrete, which torch then accepts too (axis=-1 for dim=None)."""
    if p.default is None and not other.required and other.default is not None and _yaml_ok(other.default):
        return other.default
    return p.default


def _agreed_source(p: Param, other: Param) -> str:
    return "MindSpore" if _agreed(p, other) is not p.default else "torch"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                                       and not isinstance(a, bool) and a == b)
    except Exception:  # noqa: BLE001 - a framework default may compare oddly (tensors, initializers)
        return False


def _guess_shape(name: str, params: dict) -> tuple[list, bool]:
    size = lambda *keys: next((k for k in keys if k in params), None)
    if name in ("input", "x", "query", "key", "value", "src", "tgt"):
        channels = size("in_channels", "num_features", "num_channels")
        if channels:
            return [2, channels, 8, 8], False  # a 2-d layer's NCHW; 1-d and 3-d layers drop or add a dimension
        features = size("input_size", "in_features", "normalized_shape", "embed_dim", "d_model")
        if features == "normalized_shape":
            return [4, *params["normalized_shape"]], True
        if features:
            return [4, features], True
    if name in ("hx", "hidden", "h_0", "h0"):
        hidden = size("hidden_size")
        if hidden:
            return [4, hidden], True
    return [4, 16], False


def _weights(doc: Draft, objs: dict, init: dict, side_init: dict, params: dict) -> None:
    """Build both cells with the drafted arguments and list their parameters and buffers for the weight map."""
    built = {}
    for fw in ("torch", "mindspore"):
        kwargs = {k: (expressions.evaluate(v[1:], params) if isinstance(v, str) and v.startswith("$") else v)
                  for k, v in side_init[fw].items()}
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        try:
            built[fw] = objs[fw](**kwargs)
        except Exception as exc:  # noqa: BLE001 - a draft still helps when a cell cannot be built from guesses
            doc.add(f"# TODO: could not build the {fw} side to list its parameters: {type(exc).__name__}: {str(exc)[:120]}")
            return
    torch_params = {n: tuple(t.shape) for n, t in [*built["torch"].named_parameters(), *built["torch"].named_buffers()]}
    ms_params = {n: tuple(p.shape) for n, p in built["mindspore"].parameters_and_names()}
    doc.add("# Parameters and buffers: torch " + (", ".join(f"{n} {list(s)}" for n, s in torch_params.items()) or "none")
            + "; MindSpore " + (", ".join(f"{n} {list(s)}" for n, s in ms_params.items()) or "none"))
    same = [n for n in torch_params if n in ms_params and torch_params[n] == ms_params[n]]
    rest_t = [n for n in torch_params if n not in same]
    rest_m = [n for n in ms_params if n not in same]
    pairs = {}
    for n in rest_t:  # rename table, then the last path part, then similarity; shapes must agree
        leaf = n.rsplit(".", 1)[-1]
        candidates = [c for c in rest_m if c not in pairs.values() and ms_params[c] == torch_params[n]]
        by_table = [c for c in candidates if c.rsplit(".", 1)[-1] in RENAMES.get(leaf, ())]
        by_leaf = [c for c in candidates if c.rsplit(".", 1)[-1] == leaf]
        close = difflib.get_close_matches(n, candidates, n=1, cutoff=0.6)
        hit = (by_table or by_leaf or close or [None])[0]
        if hit:
            pairs[n] = hit
    if same:
        doc.add(f"# mapped automatically (same name and shape on both sides): {', '.join(same)}")
    if pairs:
        doc.add("weights:")
        for t, m in pairs.items():
            doc.add(f"  {t.replace('.', '_') if '.' in t else t}: {{torch: {t}, mindspore: {m}}}")
    loose_t = [n for n in rest_t if n not in pairs]
    loose_m = [n for n in rest_m if n not in pairs.values()]
    if loose_t or loose_m:
        doc.add("unmapped:")
        for fw, names in (("torch", loose_t), ("mindspore", loose_m)):
            if names:
                doc.add(f"  {fw}:")
                for n in names:
                    doc.add(f"    {n}: TODO say why it is not shared, or map it under weights")


# ---- torch's own samples (docs/explore.md): shapes, and the arguments the explore map must carry --------------


def _torch_samples(torch_path: str, is_class: bool) -> dict | None:
    """The OpInfo/ModuleInfo record of the torch op (built in a child, cached), or None when it has none or the
    installed torch cannot provide them: the draft then guesses as before."""
    from eqcheck.backends.samples import cache
    from eqcheck.errors import EqcheckError

    source, entry = ("module", f"torch.nn.{torch_path.rsplit('.', 1)[1]}") if is_class else \
        ("opinfo", torch_path.removeprefix("torch.").removeprefix("Tensor."))
    try:
        record = cache.entries(source, [entry])[entry]
    except EqcheckError:
        return None
    return None if record.get("missing") or not record.get("samples") else {**record, "source": source}


def _tensor_args(record: dict, sample: dict) -> dict[str, list[int]]:
    names = record.get("signature") or []
    call = sample["call"]
    found = {names[i]: v["shape"] for i, v in enumerate(call["args"]) if i < len(names) and isinstance(v, dict) and "tensor" in v}
    found.update({k: v["shape"] for k, v in call["kwargs"].items() if isinstance(v, dict) and "tensor" in v})
    return found


def _sample_shapes(record: dict, input_names: list[str]) -> dict[str, list[int]]:
    """Input shapes from the richest sample that has every input: non-empty first (an empty tensor is a
    boundary, not the spec's main case), then most dimensions, then fewest elements."""
    best, key = {}, None
    for sample in record["samples"]:
        shapes = _tensor_args(record, sample)
        if not all(n in shapes for n in input_names):
            continue
        rank = sum(len(s) for s in shapes.values())
        size = sum(math.prod(s) for s in shapes.values())
        if key is None or (size > 0, rank, -size) > key:
            best, key = {n: shapes[n] for n in input_names}, (size > 0, rank, -size)
    return best


def _explore_map(doc: Draft, record: dict, renames: dict[str, str], input_names: set[str], ms_names: list[str]) -> None:
    """An `explore:` section: every non-tensor argument the samples set, renamed where the signatures match."""
    used: dict[str, int] = {}
    names = {"call": record.get("signature") or [], "init": record.get("init_signature") or []}
    for sample in record["samples"]:
        for section in ("init", "call"):
            call = sample.get(section)
            if not call:
                continue
            positional = [names[section][i] for i, v in enumerate(call["args"])
                          if i < len(names[section]) and not (isinstance(v, dict) and "tensor" in v)]
            for name in positional + [k for k, v in call["kwargs"].items() if not (isinstance(v, dict) and "tensor" in v)]:
                used[name] = used.get(name, 0) + 1
    used = {k: n for k, n in used.items() if k not in input_names and k not in PLUMBING}
    # a C builtin's docstring may show one overload only: match what the samples set against MindSpore's names too
    renames = {**match([k for k in used if k not in renames], [n for n in ms_names if n not in renames.values()]), **renames}
    doc.add(f"explore:  # from torch's {len(record['samples'])} {record['source']} samples of {record['entry']}")
    if not any(k in renames for k in used):
        doc.add("  arguments: {}")
    else:
        doc.add("  arguments:")
    for name, count in sorted(used.items(), key=lambda kv: -kv[1]):
        if name in renames:
            doc.add(f"    {name}: {renames[name]}  # TODO: check values and defaults ({count} samples)")
        else:
            doc.add(f"    # {name}: ?  ({count} samples set it; no MindSpore counterpart found: unmapped until mapped)")
