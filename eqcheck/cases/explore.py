"""--explore: torch's own test samples as cases (docs/explore.md).

Each sample of a spec's OpInfo, ModuleInfo or OptimizerInfo entry becomes a Case (id `...,sample=K]`) whose spec is derived from
the original: the sample's tensors are the shared inputs (exact values from the cache), its arguments replace the
torch side's init/call, and reach MindSpore only through the spec's `explore.arguments` map. A sample setting an
argument the map does not cover is counted `unmapped (ARG)`; one the map marks unsupported `not supported (ARG)`.
Neither is run. Sources are a list: `SOURCES`, each `(specs, dtypes) -> list[Case]` with optional `tallies`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from eqcheck._lazy import numpy as np
from eqcheck.backends.samples import cache
from eqcheck.cases.sweep import Case, Sample, expand
from eqcheck.dtypes import ALL_DTYPES
from eqcheck.errors import SpecError
from eqcheck.spec import expressions
from eqcheck.spec.loader import SAMPLE_INDEX
from eqcheck.spec.model import (ArgumentMap, Distribution, EdgeSettings, ExploreSpec, InputSpec, Literal, OpSpec,
                                SideName)

_MODULE_CLASS = re.compile(r"^torch\.nn\.(modules\.[\w.]+\.)?[A-Z]\w*$")
_SPATIAL = re.compile(r"(\d)d(_|$)", re.IGNORECASE)
_NORMAL = Distribution("normal", {"mean": 0.0, "std": 1.0})  # a marker: the values come from the sample


@dataclass
class Tally:
    """One spec's explore counts, for the console and the JSON report."""

    source: str
    entry: str | None
    samples: int = 0  # samples the entry has
    run: int = 0  # samples that became cases (each once per dtype)
    unmapped: Counter = field(default_factory=Counter)  # ARG or ARG=VALUE -> samples
    not_supported: Counter = field(default_factory=Counter)
    note: str | None = None
    errors: int = 0  # error inputs the entry has (OpInfo error_inputs: inputs torch refuses)
    errors_run: int = 0  # those that became cases (once, at the first dtype)
    entries: dict = field(default_factory=dict)  # variant entry -> {samples, run}, where several fed the spec

    def as_dict(self) -> dict[str, Any]:
        out = {"source": self.source, "entry": self.entry, "samples": self.samples, "run": self.run,
               "unmapped": dict(sorted(self.unmapped.items())), "not_supported": dict(sorted(self.not_supported.items()))}
        if self.entries:
            out["entries"] = self.entries
        if self.errors:
            out["error_inputs"] = {"total": self.errors, "run": self.errors_run}
        return {**out, "note": self.note} if self.note else out


class Skip(Exception):
    """A sample that is not run: kind is `unmapped` or `not_supported`, args what it names."""

    def __init__(self, kind: str, *args: str):
        super().__init__(kind)
        self.kind, self.args = kind, args


CONSTRUCTING = ("module", "borrowed")  # sources whose samples construct the module: init and call


class TorchSamples:
    """One sample source of eqcheck/backends/samples (opinfo, module, borrowed, optim) turned into cases, for specs of
    `kinds`."""

    def __init__(self, source: str, kinds: tuple[str, ...] = ("op", "schedule")):
        self.source, self.kinds = source, kinds
        self.tallies: dict[str, Tally] = {}

    def entry_name(self, spec: OpSpec) -> str | None:
        explore = spec.explore or ExploreSpec()
        op = spec.sides["torch"].op
        is_class = bool(_MODULE_CLASS.match(op))
        if self.source == "optim":  # optim_db names its entries optim.CLASS
            return explore.opinfo or op.removeprefix("torch.")
        if self.source in CONSTRUCTING:
            if explore.module:
                return explore.module
            return f"torch.nn.{op.rsplit('.', 1)[1]}" if is_class and not explore.opinfo else None
        if explore.opinfo:
            return explore.opinfo
        if is_class or explore.module:
            return None
        return op.removeprefix("torch.").removeprefix("Tensor.")

    def __call__(self, specs: list[OpSpec], dtypes: tuple[str, ...] | None) -> list[Case]:
        wanted = {spec.name: self.entry_name(spec) for spec in specs if spec.kind in self.kinds and "torch" in spec.sides}
        wanted = {k: v for k, v in wanted.items() if v}
        if not wanted:
            return []
        records = cache.entries(self.source, sorted(set(wanted.values())))
        feeding = {name: [name] for name in records}  # asked name -> the entries feeding it
        for name, record in records.items():
            if record.get("missing") and (found := cache.variants(self.source, name)):
                feeding[name] = found
        records.update(cache.entries(self.source, sorted({v for names in feeding.values() for v in names} - set(records))))
        signatures = cache.mindspore_names(sorted({spec.sides["mindspore"].op for spec in specs if spec.name in wanted
                                                   and "mindspore" in spec.sides}))
        cases: list[Case] = []
        for spec in specs:
            if spec.name not in wanted:
                continue
            asked = wanted[spec.name]
            names = feeding[asked]
            if len(names) == 1 and records[names[0]].get("missing"):
                if self.source != "borrowed":  # a module with no functional to borrow from: nothing to say
                    self.tallies[spec.name] = Tally(self.source, None, note=f"no {self.source} entry '{asked}'")
                continue
            tally = self.tallies[spec.name] = Tally(self.source, ", ".join(records[n]["entry"] for n in names))
            for name in names:
                variant = name.rsplit(".", 1)[1] if name != asked else None  # an alias's too: divide -> div.trunc_rounding
                cases.extend(self._entry_cases(spec, name, records[name], variant, tally, dtypes,
                                               signatures.get(spec.sides["mindspore"].op)))
        return cases

    def _entry_cases(self, spec: OpSpec, name: str, record: dict, variant: str | None, tally: Tally,
                     dtypes: tuple[str, ...] | None, ms_names: dict | None) -> list[Case]:
        """The cases of one entry feeding a spec, counted into its tally (per entry in `entries` for variants)."""
        cases: list[Case] = []
        key = "samples_train" if self.source in CONSTRUCTING and spec.mode == "train" else "samples"
        samples = record.get(key, [])
        run_before = tally.run
        tally.samples += len(samples)
        per_origin: dict[str, dict[str, int]] = {}  # a borrowed sample's functional entry -> its samples and runs
        for unconverted in record.get(f"unconverted_{key}", []):  # a functional sample setting the module's weights
            tally.samples += 1
            tally.not_supported[unconverted["not_supported"]] += 1
            per_origin.setdefault(unconverted["origin"].rsplit(".", 1)[0], {"samples": 0, "run": 0})["samples"] += 1
        note = record.get("note") or record.get(f"note_{key}")
        if note and tally.note is None:
            tally.note = f"{variant}: {note}" if variant else note
        arrays = str(cache.entry_file(self.source, name).with_suffix(".npz"))
        # `when: {sample: [HASH]}` names samples by content, which a torch upgrade does not renumber
        named = any(SAMPLE_INDEX in e.when for e in spec.expected_differences)
        stored = np.load(arrays) if named else None
        for k, sample in enumerate(samples):
            digest = sample_hash(sample, stored) if named else None
            origin = sample.get("origin")  # borrowed: `nn.functional.max_pool2d.3`, the id's and a declaration's name
            counts = per_origin.setdefault(origin.rsplit(".", 1)[0], {"samples": 0, "run": 0}) if origin else {}
            counts["samples"] = counts.get("samples", 0) + 1
            label, position = origin.rsplit(".", 1) if origin else (variant, k)
            try:
                derived, tensors = translate(spec, record, sample, self.source, index=int(position), variant=label,
                                             ms_names=ms_names, sample_name=digest)
            except Skip as skip:
                target = tally.unmapped if skip.kind == "unmapped" else tally.not_supported
                for arg in dict.fromkeys(skip.args):
                    target[arg] += 1
                continue
            tally.run += 1
            counts["run"] = counts.get("run", 0) + 1
            info = Sample(self.source, record["entry"], k, arrays, tensors, describe_sample(spec, record, sample),
                          variant=variant, hash=digest, origin=origin)
            cases.extend(dataclasses.replace(case, sample=info) for case in expand(derived, dtypes))
        errors = record.get("errors_train" if key == "samples_train" else "errors", [])  # a module's: per mode
        tally.errors += len(errors)
        for k, error in enumerate(errors):
            if len(_float_dtypes(error)) > 1:
                continue  # a float32/float64 mismatch: both sides get the case dtype, so the input is no longer invalid
            try:
                derived, tensors = translate(spec, record, error, self.source, ms_names=ms_names)
            except Skip:
                continue  # an error input the map cannot carry to MindSpore: counted by total - run
            tally.errors_run += 1
            described = {"args": [_describe(v) for v in error["call"]["args"]],
                         "kwargs": {n: _describe(v) for n, v in error["call"]["kwargs"].items()}}
            info = Sample(self.source, record["entry"], k, arrays, tensors, described,
                          error=(error["error_type"], error["error_regex"]), variant=variant)
            first = expand(dataclasses.replace(derived, grad=False), dtypes)[:1]  # a refusal does not depend on dtype
            cases.extend(dataclasses.replace(case, sample=info) for case in first)
        if variant is not None:
            tally.entries[record["entry"]] = {"samples": len(samples), "run": tally.run - run_before}
        tally.entries.update({f"{entry} (borrowed)": counts for entry, counts in per_origin.items()})
        return cases


# The sources --explore expands, in order; a new source is one more entry (boundary cases join here). `borrowed`:
# a module's samples converted from its functional's op_db entries (backends/samples/borrowed.py).
SOURCES: list[Callable[[list[OpSpec], tuple[str, ...] | None], list[Case]]] = [
    TorchSamples("opinfo"), TorchSamples("module"), TorchSamples("borrowed"), TorchSamples("optim", kinds=("optimizer",))]


def merged(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two sources' tallies of one spec as one (a module's own samples and those it borrowed): counts added, `entries`
    per entry (a single-entry tally listed under its entry), notes joined."""
    def entries(tally: dict[str, Any]) -> dict[str, Any]:
        if tally.get("entries"):
            return tally["entries"]
        return {tally["entry"]: {"samples": tally["samples"], "run": tally["run"]}} if tally.get("entry") else {}

    out = {"source": f"{first['source']}+{second['source']}",
           "entry": ", ".join(dict.fromkeys(filter(None, (first.get("entry"), second.get("entry"))))) or None,
           "samples": first["samples"] + second["samples"], "run": first["run"] + second["run"]}
    for key in ("unmapped", "not_supported"):
        out[key] = dict(sorted((Counter(first[key]) + Counter(second[key])).items()))
    out["entries"] = {**entries(first), **entries(second)}
    errors = [t["error_inputs"] for t in (first, second) if "error_inputs" in t]
    if errors:
        out["error_inputs"] = {k: sum(e[k] for e in errors) for k in ("total", "run")}
    notes = [t["note"] for t in (first, second) if t.get("note")]
    return {**out, "note": "; ".join(notes)} if notes else out


def explore_cases(specs: list[OpSpec], dtypes: tuple[str, ...] | None = None,
                  sources: list | None = None) -> tuple[dict[str, list[Case]], dict[str, dict]]:
    """Explored cases per spec name, and each spec's counts (samples, run, unmapped, not supported)."""
    by_spec: dict[str, list[Case]] = {}
    tallies: dict[str, dict] = {}
    for source in SOURCES if sources is None else sources:
        if hasattr(source, "tallies"):
            source.tallies.clear()
        for case in source(specs, dtypes):
            by_spec.setdefault(case.spec.name, []).append(case)
        for name, tally in getattr(source, "tallies", {}).items():
            tallies[name] = merged(tallies[name], tally.as_dict()) if name in tallies else tally.as_dict()
    return by_spec, tallies


# ---- one sample -> a derived spec ----------------------------------------------------------------


def _is_tensor(value: Any) -> bool:
    return isinstance(value, dict) and "tensor" in value


def _decode(value: Any, name: str) -> Any:
    """A cached non-tensor value as Python; torch-only objects (a dtype, a memory format) cannot reach MindSpore."""
    if isinstance(value, dict):
        if "tuple" in value or "list" in value:
            items = [_decode(v, name) for v in value.get("tuple", value.get("list"))]
            return tuple(items) if "tuple" in value else items
        if "float" in value:
            return float(value["float"])
        if _is_tensor(value):
            raise Skip("not_supported", f"{name}: a tensor inside a sequence")
        raise Skip("not_supported", f"{name}={value.get('torch')}")
    return value


def _sequence_items(value: Any) -> list | None:
    """The items of a cached tuple or list value, else None."""
    if isinstance(value, dict) and ("tuple" in value or "list" in value):
        return value.get("tuple", value.get("list"))
    return None


def _where(arg: ArgumentMap, section: str) -> str:
    """Where a mapped argument goes on MindSpore: its `where:`, else a constructor argument (ModuleInfo,
    OptimizerInfo) to init."""
    return arg.where or ("init" if section == "init" else "call")


def _float_dtypes(sample: dict) -> set[str]:
    """The float dtypes of a sample's tensors, sequences included."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if _is_tensor(value) and value["dtype"].startswith("float"):
            found.add(value["dtype"])
        for item in _sequence_items(value) or ():
            walk(item)

    call = sample.get("call") or {"args": [], "kwargs": {}}
    for value in [*call["args"], *call["kwargs"].values()]:
        walk(value)
    return found


def _tensor_sequence(value: Any) -> list[dict] | None:
    """The tensors of a sequence argument made only of tensors (torch.cat's `tensors`), else None."""
    items = _sequence_items(value)
    return items if items and all(_is_tensor(v) for v in items) else None


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, (list, tuple)) else value


def _describe(value: Any) -> Any:
    """The report's form of a sample value: tensors as {shape, dtype}."""
    if _is_tensor(value):
        return {"shape": value["shape"], "dtype": value["dtype"]}
    if isinstance(value, dict) and ("tuple" in value or "list" in value):
        return [_describe(v) for v in value.get("tuple", value.get("list"))]
    if isinstance(value, dict):
        return value.get("float", value.get("torch"))
    return value


def describe_sample(spec: OpSpec, record: dict, sample: dict) -> dict[str, Any]:
    """The report's form of a sample (tensors as shape and dtype) and its non-default arguments (`non_default`)."""
    def part(section: str) -> dict[str, Any]:
        return {"args": [_describe(v) for v in sample[section]["args"]],
                "kwargs": {n: _describe(v) for n, v in sample[section]["kwargs"].items()}}

    described = part("call")
    if "init" in sample:
        described["init"] = part("init")
    if "desc" in sample:  # an OptimizerInfo configuration's own name ("nonzero weight_decay & fused")
        described["desc"] = sample["desc"]
    described["non_default"] = [name for _, name, _ in non_default(spec, record, sample)]
    return described


def non_default(spec: OpSpec, record: dict, sample: dict) -> list[tuple[str, str, int | None]]:
    """(section, torch name, position or None) of each non-tensor argument a sample sets to other than torch's
    default: the map's `default:`, else the signature's. One without a default in a readable signature is required
    (in_channels), not counted; where no signature can be read (a C builtin), every argument passed counts."""
    explore = spec.explore or ExploreSpec()
    out = []
    for section in ("init", "call"):
        if section not in sample:
            continue
        names = record.get("init_signature") if section == "init" else (explore.call_names(record.get("entry"))
                                                                         or record.get("signature"))
        defaults = record.get("init_defaults" if section == "init" else "defaults") or {}
        bound = [(names[i] if names and i < len(names) else f"#{i}", v, i) for i, v in enumerate(sample[section]["args"])]
        for name, value, position in bound + [(n, v, None) for n, v in sample[section]["kwargs"].items()]:
            if _is_tensor(value):
                continue
            arg = explore.arguments.get(name)
            if arg is not None and arg.has_default:
                default = arg.default
            elif name in defaults:
                default = _decode_loose(defaults[name])
            elif defaults and names and name in names:
                continue  # required
            else:
                out.append((section, name, position))
                continue
            value = _decode_loose(value)
            if not (_tupled(value) == _tupled(default) and isinstance(value, bool) == isinstance(default, bool)):
                out.append((section, name, position))
    return out


def _decode_loose(value: Any) -> Any:
    try:
        return _decode(value, "")
    except Skip:
        return value


def _bind(values: list, kwargs: dict, names: list[str] | None, where: str) -> list[tuple[str, Any, int | None]]:
    """(torch name, value, position or None) for a call's arguments; a positional one past the signature is unmapped."""
    bound = []
    for i, value in enumerate(values):
        if names is None or i >= len(names):
            raise Skip("unmapped", f"{where} positional #{i} (give explore.signature)")
        bound.append((names[i], value, i))
    bound.extend((name, value, None) for name, value in kwargs.items())
    return bound


def _spatial_rank(spec: OpSpec, shapes: list[list[int]]) -> int:
    match = _SPATIAL.search(spec.sides["torch"].op.rsplit(".", 1)[-1])
    if match:
        return int(match.group(1))
    return max(1, len(shapes[0]) - 2) if shapes else 1


def _params(spec: OpSpec) -> dict[str, Any]:
    """The spec's params at its first sweep point (a `value:` expression may use them)."""
    try:
        first = expand(spec)[0]
        return {k: first.values[k] for k in spec.params}
    except SpecError:
        return {}


def _ms_value(spec: OpSpec, arg: ArgumentMap, value: Any, rank: int, params: dict) -> Any:
    if arg.values is not None:
        for key, mapped in arg.values.items():
            if key == value and type(key) is type(value):
                if key in arg.value_unsupported:
                    raise Skip("not_supported", f"{arg.torch}={value}")
                value = mapped
                break
        else:
            if arg.others != "pass":
                raise Skip("unmapped", f"{arg.torch}={value}")
    if arg.value is not None:
        try:
            value = expressions.evaluate(arg.value[1:], {**params, "value": value})  # params include the sample's arguments
        except expressions.ExpressionError:  # e.g. momentum=None (a cumulative average) in `$1 - value`
            raise Skip("not_supported", f"{arg.torch}={value}") from None
    if arg.cast == "per_side":
        per_dim = tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank
        value = tuple(p for p in (per_dim * rank if len(per_dim) == 1 else per_dim) for _ in range(2))
    elif arg.cast in ("tuple", "list"):
        value = tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank
        value = list(value) if arg.cast == "list" else value
    elif arg.cast in ("int", "float"):
        if isinstance(value, (list, tuple)) and len(value) == 1:  # a 1-d op's (3,) is its 3 (avg_pool1d's kernel_size)
            value = value[0]
        if isinstance(value, (int, float, bool)):
            value = int(value) if arg.cast == "int" else float(value)
    return value


def _plain_values(bound: list[tuple[str, Any, int | None]]) -> dict[str, Any]:
    """The sample's torch arguments, decoded (those that cannot be are left out); a tensor stands for its shape."""
    out = {}
    for name, value, _ in bound:
        if _is_tensor(value):
            out[name] = tuple(value["shape"])  # `len(input)`: its rank
        else:
            try:
                out[name] = _decode(value, name)
            except Skip:
                pass
    return out


def _default(arg: ArgumentMap, given: dict[str, Any]) -> Any:
    """torch's default; a `$expression` default depends on the sample's other arguments (stride = kernel_size)."""
    if not (isinstance(arg.default, str) and arg.default.startswith("$")):
        return arg.default
    try:
        return expressions.evaluate(arg.default[1:], given)
    except expressions.ExpressionError:  # the argument it depends on is not set either
        raise Skip("not_supported", f"{arg.torch} (default {arg.default})") from None


def _input_dtype(value: dict, name: str) -> str:
    dtype = value["dtype"]
    if dtype.startswith("float"):
        return "float"
    if dtype not in ALL_DTYPES:
        raise Skip("not_supported", f"{name}: a {dtype} tensor")
    return dtype


def _admitted(value: dict, name: str, label: str, explore: ExploreSpec) -> str:
    """A sample tensor's dtype class; Skip when MindSpore cannot take its dtype or (unsupported_inputs) its rank."""
    dtype = _input_dtype(value, label)
    limit = explore.unsupported_inputs.get(name)
    if limit is not None and len(value["shape"]) in limit.ndim:
        raise Skip("not_supported", f"{name} ndim={len(value['shape'])}")
    return dtype


def _place_sequences(layout: tuple, present: set[str], sequences: list[tuple]) -> tuple:
    """The spec's own slot for a sequence of tensors (index_put's [rows, cols]) holds the sample's sequence where the
    spec's tensors in it are not the sample's: in the same place as on the torch side, not after the values."""
    out = []
    for item in layout:
        if isinstance(item, tuple) and item and sequences and all(isinstance(x, str) and x not in present for x in item):
            out.append(sequences.pop(0))
        else:
            out.append(item)
    return tuple(out)


def _filter_layout(layout: Any, present: set[str]) -> Any:
    if isinstance(layout, tuple):
        return tuple(x for x in (_filter_layout(item, present) for item in layout) if x is not None and x != ())
    if isinstance(layout, Literal) or layout in present:
        return layout
    return None


def _spec_choices(spec: OpSpec, call_names: list[str] | None, arguments: dict[str, ArgumentMap]) -> dict[str, Any]:
    """MindSpore entries that stand for a torch argument the spec itself sets: in an explored case the sample sets
    that argument (or leaves it at torch's default), so the spec's value must not reach MindSpore. `arguments`: the
spec's map with the sample's same-name maps.

    Keyword entries per section (torch `call: {dim: 1}` -> MindSpore `axis`), and positional slots: the k-th literal
    of MindSpore's `args` stands for the k-th literal of torch's when both have as many (`[input, {value: 1}, index]`).
    """
    torch = spec.sides["torch"]
    chosen: dict[str, Any] = {"slots": {}}
    def by_name(name: str | None) -> ArgumentMap | None:  # a torch argument MindSpore takes by its own name
        arg = arguments.get(name) if name is not None else None
        return arg if arg is not None and not (arg.unsupported or arg.drop or arg.positional) else None

    for section in ("init", "call"):
        chosen[section] = {arg.name for arg in map(by_name, getattr(torch, section)) if arg is not None}
    torch_literals = [i for i, item in enumerate(torch.args or ()) if isinstance(item, Literal)]
    ms_literals = [i for i, item in enumerate(spec.sides["mindspore"].args or ()) if isinstance(item, Literal)]
    if call_names and len(torch_literals) == len(ms_literals):
        for torch_slot, ms_slot in zip(torch_literals, ms_literals):
            arg = by_name(call_names[torch_slot] if torch_slot < len(call_names) else None)
            if arg is not None:
                chosen["slots"][ms_slot] = arg
    return chosen


def _fill_slots(layout: tuple, slots: dict[int, ArgumentMap], ms_call: dict[str, Any]) -> tuple:
    """MindSpore's positional layout with each slot of a spec-chosen argument holding the sample's mapped value
    (taken out of the keywords: the spec passes it by position, often because MindSpore refuses the keyword).
    A trailing slot the sample leaves unset goes; an inner one cannot, or the arguments after it would shift."""
    filled = list(layout)
    for slot in sorted(slots, reverse=True):
        arg = slots[slot]
        if arg.name in ms_call:
            filled[slot] = Literal(ms_call.pop(arg.name))
        elif slot == len(filled) - 1:
            filled.pop()
        else:
            raise Skip("unmapped", f"{arg.torch} (MindSpore takes it by position: give explore.arguments.{arg.torch}.default)")
    return tuple(filled)


def _torch_layout(spec: OpSpec, layout: list[Any]) -> tuple:
    """The torch call's positional layout: the sample's order, unless the spec's torch `args:` names exactly the same
    tensors (and only them) in another order. An OpInfo's `op` may reorder its sample (op_db's `where` calls
    torch.where(condition, self, other) on the sample (self, condition, other)); the spec's order is torch.op's own."""
    own = spec.sides["torch"].args
    if own and all(isinstance(n, str) for n in own) and all(isinstance(n, str) for n in layout) \
            and sorted(own) == sorted(layout):
        return tuple(own)
    return tuple(layout)


def _kept_ms_arguments(spec: OpSpec, section: dict[str, Any], params: dict, chosen: set[str]) -> dict[str, Any]:
    """MindSpore init/call entries that stay in an explored case: literals, and expressions over params only; not
    those standing for a torch argument the spec sets (`chosen`: the sample sets it)."""
    kept = {}
    for name, value in section.items():
        if name in chosen:
            continue
        if isinstance(value, str) and value.startswith("$"):
            if expressions.names(value[1:]) <= set(params):
                kept[name] = expressions.evaluate(value[1:], params)
            continue
        kept[name] = value
    return kept


def sample_hash(sample: dict, arrays: Any) -> str:
    """A sample's name that a torch upgrade does not renumber: 8 hex digits of a hash of its arguments (tensors as
    shape and dtype, without their storage keys) and its tensors' bytes."""
    import hashlib
    import json

    digest = hashlib.sha256()

    def walk(value: Any) -> Any:
        if _is_tensor(value):
            digest.update(arrays[value["tensor"]].tobytes())
            return {"shape": value["shape"], "dtype": value["dtype"]}
        if isinstance(value, dict):
            return {k: walk(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    described = walk({k: v for k, v in sample.items() if k in ("init", "call")})
    digest.update(json.dumps(described, sort_keys=True).encode())
    return digest.hexdigest()[:8]


def hash_of(case: Case) -> str | None:
    """An explored case's sample hash (sample_hash), looked up in the samples cache: what `when: {sample: [...]}`
    writes to name it. None for an error input."""
    info = case.sample
    if info is None or info.error is not None:
        return info.hash if info else None
    if info.hash is None:
        record = _entry_record(info.source, info.entry)
        key = "samples_train" if info.source in CONSTRUCTING and case.spec.mode == "train" else "samples"
        return sample_hash(record[key][info.index], _entry_arrays(info.arrays))
    return info.hash


# A worker names every explored case that does not pass: reading and checksumming an entry's whole cache files per
# case (max_pool2d's 1,440 samples) took longer than running the case. Once per process, as the case's run read them.
@functools.lru_cache(maxsize=32)
def _entry_record(source: str, entry: str) -> dict:
    return cache.entries(source, [entry])[entry]


@functools.lru_cache(maxsize=32)
def _entry_arrays(path: str) -> Any:
    return np.load(path)  # lazy: sample_hash reads only the sample's own arrays


def same_names(bound_init: list, bound_call: list, ms_names: dict | None) -> dict[str, ArgumentMap]:
    """A torch argument MindSpore's op takes under the same name maps by default (a plain rename to itself, no value
    map): a constructor argument to MindSpore's constructor (a ModuleInfo's), any other to the call."""
    if not ms_names:
        return {}
    out = {}
    for section, bound in (("init", bound_init), ("call", bound_call)):
        theirs = ms_names.get(section) or ()
        out.update({name: ArgumentMap(name, name) for name, _, _ in bound if name in theirs})
    return out


def translate(spec: OpSpec, record: dict, sample: dict, source: str, index: int | None = None,
              variant: str | None = None, ms_names: dict | None = None,
              sample_name: str | None = None) -> tuple[OpSpec, tuple[tuple[str, str], ...]]:
    """One sample (torch's sample `index`; None for an error input) -> (the derived spec its case runs, input name ->
    array key). `ms_names`: MindSpore's parameter names (`call`, `init`), for the same-name rule; `sample_name`: its
    content hash where a declaration names samples (`when: {sample: [HASH]}`). Raises Skip for a sample not run."""
    explore = spec.explore or ExploreSpec()
    call_names = explore.call_names(record.get("entry")) or record.get("signature")
    bound_call = _bind(sample["call"]["args"], sample["call"]["kwargs"], call_names, "call")
    bound_init = _bind(sample["init"]["args"], sample["init"]["kwargs"], record.get("init_signature"), "init") \
        if "init" in sample else []
    arguments = {**same_names(bound_init, bound_call, ms_names), **explore.arguments}
    params = _params(spec)
    by_name = {inp.name: inp for inp in spec.inputs}
    spec_positional = [inp.name for inp in spec.inputs if not inp.keyword]
    problems: list[tuple[str, str]] = []
    inputs: list[InputSpec] = []
    tensors: list[tuple[str, str]] = []
    torch_layout: list[Any] = []
    torch_call: dict[str, Any] = {}
    torch_init: dict[str, Any] = {}
    ms: dict[str, dict[str, Any]] = {"init": {}, "call": {}}
    ms_positional: list[Any] = []
    ms_tensor_positional: list[str] = []
    shapes = [v["shape"] for _, v, _ in bound_call if _is_tensor(v)]
    rank = _spatial_rank(spec, shapes)
    passed = set()
    given = {**params, **_plain_values(bound_init + bound_call)}  # a `value:`/`default:` expression may name them

    def fail(kind: str, what: str) -> None:
        problems.append((kind, what))

    for section, bound in (("init", bound_init), ("call", bound_call)):
        tensor_position = 0
        for name, value, position in bound:
            passed.add(name)
            arg = arguments.get(name)
            group = _tensor_sequence(value)
            if group is not None and section == "call" and position is not None:  # torch.cat's `tensors`
                if arg is None or arg.unsupported or arg.drop:
                    fail("unmapped" if arg is None else "not_supported", name)
                    continue
                names = []
                for j, item in enumerate(group):
                    try:
                        dtype = _admitted(item, name, f"{name}[{j}]", explore)
                    except Skip as skip:
                        fail(skip.kind, skip.args[0])
                        break
                    canonical = f"{name}_{j}"
                    inputs.append(InputSpec(canonical, tuple(item["shape"]), dtype, _NORMAL,
                                            {fw: SideName(canonical) for fw in spec.sides}, keyword=True,
                                            grad=dtype == "float"))
                    tensors.append((canonical, item["tensor"]))
                    names.append(canonical)
                else:  # one tuple on both sides, in its place: MindSpore's sequence is positional too
                    torch_layout.append(tuple(names))
                    ms_tensor_positional.append(tuple(names))
                continue
            if _is_tensor(value):
                if section == "init":
                    fail("not_supported", f"{name}: a tensor constructor argument")
                    continue
                inp = by_name.get(name)
                if inp is None and arg is None and position is not None and tensor_position < len(spec_positional) \
                        and spec_positional[tensor_position] not in {n for n, _, _ in bound}:
                    inp = by_name[spec_positional[tensor_position]]  # matched by position: the spec names it otherwise
                tensor_position += position is not None
                try:
                    dtype = _admitted(value, name, name, explore)
                except Skip as skip:
                    fail(skip.kind, skip.args[0])
                    continue
                if inp is not None:  # the spec's names; its per-side dtype (int32 labels) only for a non-float sample
                    sides = {fw: side if dtype != "float" else SideName(side.name) for fw, side in inp.sides.items()}
                    sides["torch"] = SideName(name)
                    grad = inp.grad and dtype == "float"
                    if inp.name in spec_positional:
                        ms_tensor_positional.append(inp.name)
                elif arg is not None and not (arg.unsupported or arg.drop):
                    sides = {fw: SideName(name) for fw in spec.sides}
                    sides["mindspore"] = SideName(arg.name)
                    grad = dtype == "float"
                    if arg.positional:
                        ms_tensor_positional.append(name)
                elif arg is not None:
                    fail("not_supported", name)
                    continue
                else:
                    fail("unmapped", name)
                    continue
                canonical = inp.name if inp is not None else name
                inputs.append(InputSpec(canonical, tuple(value["shape"]), dtype, _NORMAL, sides, keyword=True, grad=grad))
                tensors.append((canonical, value["tensor"]))
                if position is not None:
                    torch_layout.append(canonical)
                continue
            try:
                plain = _decode(value, name)
            except Skip as skip:
                fail(skip.kind, skip.args[0])
                continue
            if section == "init":
                torch_init[name] = plain
            elif position is not None:
                torch_layout.append(Literal(plain))
            else:
                torch_call[name] = plain
            if arg is None:
                fail("unmapped", name)
                continue
            if arg.unsupported:
                if not (arg.has_default and plain == arg.default):
                    fail("not_supported", name)
                continue
            if arg.drop:
                continue
            try:
                _place(spec, arg, plain, rank, given, section, ms, ms_positional)
            except Skip as skip:
                fail(skip.kind, skip.args[0])
    for name, arg in arguments.items():  # torch's default where MindSpore's differs
        if name not in passed and arg.has_default and not (arg.unsupported or arg.drop):
            section = "init" if "init" in sample and name in (record.get("init_signature") or ()) else "call"
            if arg.name in ms[_where(arg, section)]:
                continue  # a passed alias set it (torch's unbiased and correction both become ddof)
            try:
                _place(spec, arg, _default(arg, given), rank, given, section, ms, ms_positional)
            except Skip as skip:
                fail(skip.kind, skip.args[0])
    for section, defaults in (("init", record.get("init_defaults") or {}), ("call", record.get("defaults") or {})):
        for name, value in getattr(spec.sides["torch"], section).items():
            # The spec sets it for torch, the sample leaves it to torch's default, and no map says what MindSpore's
            # form of that default is: the spec's own MindSpore value would stay (F.dropout's training=False).
            if name not in passed and name not in arguments and not (name in defaults and defaults[name] == value):
                fail("unmapped", name)
    if problems:
        kind = "unmapped" if any(k == "unmapped" for k, _ in problems) else "not_supported"
        raise Skip(kind, *(what for k, what in problems if k == kind))
    if not inputs and spec.kind == "optimizer":  # its parameters are the spec's: a sample is constructor arguments
        inputs = list(spec.inputs)
    if not inputs:
        raise Skip("not_supported", "no tensor input")
    present = {inp.name for inp in inputs}
    old = spec.sides["mindspore"]
    chosen = _spec_choices(spec, call_names, arguments)  # the same-name maps too: mvlgamma's positional p
    ms_init = {**_kept_ms_arguments(spec, old.init, params, chosen["init"]), **ms["init"]}
    ms_call = {**_kept_ms_arguments(spec, old.call, params, chosen["call"]), **ms["call"]}
    if old.args is not None:  # the spec's own layout (literals in place), then positional tensors it does not name
        sequences = [n for n in ms_tensor_positional if isinstance(n, tuple)]
        layout = _filter_layout(_place_sequences(_fill_slots(old.args, chosen["slots"], ms_call), present, sequences),
                                present)
        placed = dataclasses.replace(old, args=layout).positional_names()
        layout += tuple(n for n in ms_tensor_positional if not (set(n) if isinstance(n, tuple) else {n}) <= placed)
    else:
        layout = tuple(dict.fromkeys(n for n in spec_positional + ms_tensor_positional if n in ms_tensor_positional))
    sides = {
        "torch": dataclasses.replace(spec.sides["torch"], init=torch_init if "init" in sample else {}, call=torch_call,
                                     args=_torch_layout(spec, torch_layout)),
        "mindspore": dataclasses.replace(old, init=ms_init, call=ms_call, args=layout + tuple(ms_positional)),
    }
    edges = spec.edges
    edges = EdgeSettings(skip=edges.skip, input=edges.input if edges.input in present else None, kinks=edges.kinks)
    # a declaration applies to a sample through `dtype` and the torch arguments of explore.arguments (`when: {dim: [[]]}`)
    sample_values = {name: _tupled(value) for name, value in {**torch_init, **torch_call}.items() if name in arguments}
    for name, value, position in bound_call:
        if position is not None and name in arguments and not _is_tensor(value) and _tensor_sequence(value) is None:
            sample_values[name] = _tupled(_decode(value, name))
    for name, arg in arguments.items():  # one the sample leaves out is at torch's default: `when: {dim: [null]}`
        if name not in passed and name not in sample_values and arg.has_default \
                and not (isinstance(arg.default, str) and arg.default.startswith("$")):
            sample_values[name] = _tupled(arg.default)
    shapes = [inp.shape for inp in inputs]
    sample_values["empty_input"] = any(0 in shape for shape in shapes)  # SAMPLE_CLASSES: `when: {empty_input: [true]}`
    sample_values["scalar_input"] = any(len(shape) == 0 for shape in shapes)
    sample_values["one_input"] = any(1 in shape for shape in shapes)
    sample_values["broadcast_input"] = len({tuple(shape) for shape in shapes}) > 1
    if sample_name is not None:
        sample_values[SAMPLE_INDEX] = sample_name  # `when: {sample: [3f9a2c1e]}`
    elif index is not None:
        sample_values[SAMPLE_INDEX] = f"{variant}.{index}" if variant else index
    expected = tuple(e for e in spec.expected_differences if set(e.when) <= {"dtype", *sample_values})
    derived = dataclasses.replace(spec, params=sample_values, sweep={}, inputs=tuple(inputs), sides=sides, edges=edges,
                                  expected_differences=expected)
    return derived, tuple(tensors)


def _place(spec: OpSpec, arg: ArgumentMap, value: Any, rank: int, params: dict, section: str,
           ms: dict[str, dict[str, Any]], ms_positional: list) -> None:
    """A torch argument's MindSpore form, in init or call (or positional), with its `set` companions."""
    mapped = _ms_value(spec, arg, value, rank, params)
    where = _where(arg, section)
    if arg.positional:
        ms_positional.append(Literal(mapped))
    else:
        ms[where][arg.name] = mapped
    extra = next((fixed for key, fixed in arg.value_sets.items() if key == value and type(key) is type(value)), {})
    for name, fixed in {**arg.set, **extra}.items():
        if isinstance(fixed, str) and fixed.startswith("$"):  # follows the value: begin_norm_axis = -len(value)
            try:
                fixed = expressions.evaluate(fixed[1:], {**params, "value": value})
            except expressions.ExpressionError:
                raise Skip("not_supported", f"{arg.torch}={value}") from None
        ms[where][name] = fixed
