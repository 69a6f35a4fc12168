"""Layer by layer (model specs): pair submodules across the two sides, record what each produced, name the first
that deviates beyond its budget.

Pairing: a submodule whose parameters all map (through the weight map) into one submodule on the other side, and
that one's back, is paired with it (`weights`; among nested modules holding the same parameters, a layer with the
innermost, a block with the outermost); a submodule without parameters pairs with the one at the same normalized
path (`path`: separators and case ignored), e.g. `act` with `act`, then by execution order (`order`). Outputs of
different sizes in the probe call never pair. The root is the model's output,
already compared as the case's outputs. Unpaired submodules (MindSpore nn.LSTM's inner `rnn`) are not watched.

Forward: hooks record each paired submodule's output per call; rows follow the reference side's firing order
(a module's hook fires after its children's, so the innermost deviating layer comes first). Backward (--grad):
hooks record each submodule's gradient w.r.t. its inputs, in the order backpropagation reaches them; a layer
whose backward is wrong is the first whose input gradient deviates while the layers after it (reached earlier)
still agree. Each row uses the same verdict rule as op rows (`verdict.compare`) with the case's tolerance
(forward) or gradient tolerance (backward); any failing row fails the case. With --reference float64 every
forward row is also attributed against the layers' float64 outputs (verdict/attribution.py): a row outside its
budget but within float32 noise passes, and the row says which side is further from float64.
"""

from __future__ import annotations

import difflib
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from eqcheck.backends.base import UnsupportedCase
from eqcheck.execution import replay
from eqcheck.verdict import attribution
from eqcheck.verdict.compare import compare

_SEPARATORS = re.compile(r"[_\-]")


@dataclass(frozen=True)
class LayerPair:
    ref: str  # submodule path on the reference side
    cand: str
    ref_type: str
    cand_type: str
    how: str  # spec | weights | path | order


def _normal_path(path: str) -> str:
    return ".".join(_SEPARATORS.sub("", p).lower() for p in path.split("."))


def _under(path: str, params: set[str]) -> frozenset[str]:
    return frozenset(p for p in params if p.startswith(path + "."))


def pair_layers(weight_map, submodules: dict[str, dict[str, str]], fired: dict[str, list] | None = None,
                explicit: tuple[dict[str, str], ...] = ()) -> list[LayerPair]:
    """Submodule pairs in the reference side's declaration order (see the module docstring).

    `fired`: per framework, (path, output shapes) in the probe call's hook order (runner.probe); `explicit`:
    the spec's `layers:` pairs, framework -> path, which win.
    """
    ref_fw, cand_fw = list(submodules)
    ref_subs, cand_subs = submodules[ref_fw], submodules[cand_fw]
    pairs: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    sizes = {fw: {path: [int(np.prod(s)) for s in seen[1]] for path, seen in reversed((fired or {}).get(fw, []))} for fw in submodules}
    # outputs of different sizes are different computations, whatever the weights say (a flatten keeps the size)
    disagree = lambda a, b: a in sizes[ref_fw] and b in sizes[cand_fw] and sizes[ref_fw][a][:1] != sizes[cand_fw][b][:1]
    for entry in explicit:
        a, b = entry[ref_fw], entry[cand_fw]
        if a in ref_subs and b in cand_subs:
            pairs[a] = (b, "spec")
            taken.add(b)
    # Weights: a module (a layer or a whole block) whose shared parameters are exactly those of one module there.
    image = {w.sides[ref_fw].param: w.sides[cand_fw].param for w in weight_map.weights if ref_fw in w.sides and cand_fw in w.sides}
    ref_params, cand_params = set(image), set(image.values())
    preimage: dict[str, set[str]] = {}
    for p, q in image.items():
        preimage.setdefault(q, set()).add(p)
    # Where several nested modules hold the same parameters, a layer pairs with a layer and a block with a block: HF's
    # ViTIntermediate (dense + GELU) wraps the dense that is mindcv's fc1; HF's ResNetBasicLayer (with its residual)
    # wraps the `layer` Sequential, and mindcv's BasicBlock is the former.
    leaf = lambda path, subs: not any(p.startswith(path + ".") for p in subs)
    holders: dict[frozenset[str], list[str]] = {}
    for b in cand_subs:
        inside = _under(b, cand_params)
        if inside:
            holders.setdefault(inside, []).append(b)
    holding: set[str] = set()
    chains: dict[frozenset[str], list[str]] = {}
    for a in ref_subs:
        inside = _under(a, ref_params)
        if inside:
            holding.add(a)
            chains.setdefault(inside, []).append(a)
    for inside, refs in chains.items():
        cands = holders.get(frozenset(image[p] for p in inside), [])
        for b in sorted(cands, key=lambda b: not leaf(b, cand_subs)):  # layers first: to the innermost
            for a in (reversed(refs) if leaf(b, cand_subs) else refs):
                back = {p for q in _under(b, cand_params) for p in preimage[q]}  # a fused parameter maps back to several
                if a not in pairs and b not in taken and not disagree(a, b) and back == inside:
                    pairs[a] = (b, "weights")
                    taken.add(b)
    holding |= {b for b in cand_subs if _under(b, cand_params)}
    # Parameter-free modules: the same normalized path, then the probe's execution order.
    by_path = {_normal_path(p): p for p in cand_subs if p not in taken and p not in holding}
    for a in ref_subs:
        if a in pairs or a in holding:
            continue
        b = by_path.get(_normal_path(a))
        if b is not None and not disagree(a, b):
            pairs[a] = (b, "path")
            taken.add(b)
    if fired and ref_fw in fired and cand_fw in fired:
        _pair_by_order(pairs, taken, holding, fired[ref_fw], fired[cand_fw], submodules)
    return [LayerPair(a, pairs[a][0], ref_subs[a], cand_subs[pairs[a][0]], pairs[a][1]) for a in ref_subs if a in pairs]


def _pair_by_order(pairs, taken, holding, ref_fired, cand_fired, submodules) -> None:
    """Align both sides' firing sequences: paired modules are anchors; between them, unpaired modules with the same
    input and output shapes and the same leafness (a layer, or a block of layers) pair in execution order (`order`)."""
    ref_subs, cand_subs = submodules.values()
    partner = {b: a for a, (b, _) in pairs.items()}
    leaf = lambda path, subs: not any(p.startswith(path + ".") for p in subs)

    def key(path, shapes, subs, own):
        if path in own:
            return ("pair", own[path])
        if path in holding:
            return ("holds weights", path)  # a module with weights that found no partner stays unpaired
        if subs[path] == "Identity":
            return ("identity", path)  # computes nothing: never a partner (HF RegNet's shortcut beside mindcv's ReLU)
        return ("free", leaf(path, subs), tuple(tuple(map(tuple, part)) for part in shapes))

    ref_keys = [key(p, s, ref_subs, {a: a for a in pairs}) for p, s in ref_fired]
    cand_keys = [key(p, s, cand_subs, partner) for p, s in cand_fired]
    matcher = difflib.SequenceMatcher(None, ref_keys, cand_keys, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            (a, _), (b, _) = ref_fired[block.a + k], cand_fired[block.b + k]
            if ref_keys[block.a + k][0] == "free" and a not in pairs and b not in taken:
                pairs[a] = (b, "order")
                taken.add(b)


class LayerSession:
    """One case's layer watches: start them around the forward call and the gradient call of each target."""

    def __init__(self, pairs: list[LayerPair], labels: tuple[str, str]):
        self.pairs = pairs
        self.labels = labels
        self.watches: dict[str, dict[str, Any]] = {"forward": {}, "backward": {}, "float64": {}, "backward64": {}}
        self.through_inputs: set[str] = set()  # labels whose backward hooks had to be tensor hooks (torch in-place ops)
        self.float64_reference: str | None = None  # --reference float64: the label whose float64 run anchors
        self.problems: dict[str, str] = {}
        self.notes: dict[str, str] = {}  # direction -> how a side's hooks had to be placed (one sentence)
        self.first_forward: str | None = None  # a forward culprit: backward rows after it inherit its deviation
        # Local verdicts (execution/replay.py): (ref path, call) -> the candidate layer's output on the reference
        # layer's recorded inputs (or a note why none); per label, the same replayed by its float64 build.
        self.local: dict[tuple[str, int], Any] = {}
        self.local64: dict[str, dict[tuple[str, int], Any]] = {}
        # Backward: (ref path, backward call) -> the candidate layer's input gradients on the reference layer's recorded
        # inputs and output gradient; per label, the same by its float64 build.
        self.local_backward: dict[tuple[str, int], Any] = {}
        self.local_backward64: dict[str, dict[tuple[str, int], Any]] = {}
        self.built: dict[str, Any] = {}  # label -> the build the forward hooks watched (structural bounds of local rows)

    @contextmanager
    def watching(self, backend, built, label: str, direction: str, **options) -> Iterator[None]:
        """Hooks on this side's paired submodules for the duration of the block; a side without hooks is noted."""
        paths = [p.ref if label == self.labels[0] else p.cand for p in self.pairs]
        try:
            watch = backend.watch(built, paths, backward=direction.startswith("backward"), **options)
        except (UnsupportedCase, AttributeError, RuntimeError, ValueError) as exc:
            self.problems[direction] = f"{label} cannot hook its layers: {exc}"
            yield
            return
        try:
            yield
        finally:
            watch.close()
        self.watches[direction][label] = watch
        if direction == "forward":
            self.built[label] = built

    def keyword_called(self, label: str) -> list[str]:
        """Paired layers this side's forward pass called with tensors by keyword (HF's `self_attn(hidden_states=...)`)."""
        watch = self.watches["forward"].get(label)
        named = watch.keywords if watch is not None else {}
        return [path for path, calls in named.items()
                if any(call and any(isinstance(v, np.ndarray) for v in call.values()) for call in calls)]

    def report(self, case, direction: str) -> dict[str, Any] | None:
        """Rows in firing order, the first deviating layer, or None when nothing was watched this way."""
        watches = self.watches[direction]
        if len(watches) < 2:
            return {"status": "unavailable", "message": self.problems[direction]} if direction in self.problems else None
        ref, cand = (watches[label] for label in self.labels)
        tolerance = case.tolerance() if direction == "forward" else case.grad_tolerance()
        by_ref = {p.ref: p for p in self.pairs}
        anchor = None
        float64 = self.watches["float64" if direction == "forward" else "backward64"]  # the error budget's runs
        if self.float64_reference in float64:
            anchor = Anchor(self.float64_reference, self.labels, float64, case.dtype, backward=direction == "backward")
        rows = []
        forward = self.first_forward if direction == "backward" else None
        blind = set(self.keyword_called(self.labels[1])) if self.labels[1] not in self.through_inputs else set()
        for path, call in ref.order:
            pair = by_ref[path]
            cand_calls = cand.records.get(pair.cand, [])
            if direction == "backward":  # backpropagation reaches a module's calls last-first: align them from the end
                cand_calls = cand_calls[max(0, len(cand_calls) - len(ref.records[path])):]
            row = _row(pair, call, ref.records[path][call], cand_calls, tolerance, anchor)
            if direction == "backward" and pair.cand in blind and call < len(cand_calls) and all(v is None for v in cand_calls[call]):
                row.update(passed=None, note="the candidate's backward hook does not see inputs passed by keyword: judged alone")
                row.pop("reason", None)
            called = self.watches["forward"].get(self.labels[1])
            if direction == "backward" and row["passed"] is None and call >= len(cand_calls) and called is not None \
                    and pair.cand in called.records:  # it ran forward, yet no gradient reached it: cut off after it
                row.update(passed=False, mismatched=0, note=None,
                           reason="the candidate side computes no gradient for this layer (it ran forward, but no backward "
                                  "reached it: a stop_gradient or a detached branch after it)")
                row.pop("note")
            alone = (self.local if direction == "forward" else self.local_backward).get((path, call))
            structural = row["passed"] is False and row["max_abs"] is None  # one side has no gradient: no replay undoes that
            if alone is not None:  # the verdict is the layer's own (replayed alone); the accumulated one stays beside it
                local = row["local"] = self._local(case, tolerance, ref.records[path][call], alone, (path, call),
                                                   self.local64 if direction == "forward" else self.local_backward64,
                                                   self._bound(case, path, call) if direction == "forward" else None)
                if local.get("passed") is not None and not structural:
                    row["accumulated_passed"], row["passed"] = row["passed"], local["passed"]
            rows.append(row)
        compared = [r for r in rows if r["passed"] is not None]
        first = next((r for r in compared if not r["passed"]), None)
        if direction == "forward":
            self.first_forward = first["name"] if first else None
        silent = [p.ref for p in self.pairs if p.ref not in ref.records]
        return {
            "status": "compared",
            "direction": direction,
            "tolerance": tolerance.as_dict(),
            "first_divergent": first["name"] if first else None,
            **({"after_forward_deviation": True} if direction == "backward" and forward else {}),
            "rows": rows,
            # paired, yet no reference hook fired: not called, or (backward) torch cannot hook nested tuple outputs (LSTM)
            **({"not_recorded": silent} if silent else {}),
            **({"note": self.notes[direction]} if direction in self.notes else {}),
        }

    def _local(self, case, tolerance, ref_leaves, alone, key, float64, bound=None) -> dict[str, Any]:
        if isinstance(alone, str):
            return {"note": alone}
        own = {label: runs.get(key) for label, runs in float64.items()}  # the error budget's float64 replays
        return replay.judge(ref_leaves, alone, tolerance, self.labels, case.dtype, (lambda: own) if own else None,
                            bound)

    def _bound(self, case, path: str, call: int):
        """The structural rounding bound of a multilinear torch layer replayed alone on its recorded input (both sides
        compute it on that input), computed on demand; None where there is none (verdict/rounding.py)."""
        from eqcheck.execution.checks.layer_gradients import LayerFunction

        module = getattr(self.built.get(self.labels[0]), "module", None)
        calls = self.watches["forward"].get(self.labels[0]).inputs.get(path, []) if module is not None else []
        args = calls[call] if call < len(calls) else None
        tensors = [a for a in args or [] if isinstance(a, np.ndarray)]
        if len(tensors) != 1:
            return None

        def bound(index: int):
            if index != 0:
                return None
            try:
                return LayerFunction(module.get_submodule(path), None).bound(tensors[0].astype(np.float64), None, case.dtype)
            except (AttributeError, RuntimeError, ValueError, TypeError):  # not a torch module, or it cannot run alone
                return None

        return bound


@dataclass
class Anchor:
    """--reference float64: every layer's float64 output (per side that could run float64) for attribution."""

    reference: str  # the label whose float64 run is the reference (torch when it can)
    labels: tuple[str, str]
    watches: dict[str, Any]  # label -> LayerWatch of the float64 run
    dtype: str
    backward: bool = False  # gradients: a module's calls are reached last-first, so align them from the end

    def leaves(self, pair: LayerPair, call: int, index: int) -> dict[str, np.ndarray | None]:
        out = {}
        ref_calls = len(self.watches[self.labels[0]].records.get(pair.ref, [])) if self.labels[0] in self.watches else 0
        for label, path in zip(self.labels, (pair.ref, pair.cand)):
            calls = self.watches[label].records.get(path, []) if label in self.watches else []
            if self.backward and label != self.labels[0]:
                calls = calls[max(0, len(calls) - ref_calls):]
            leaf = calls[call][index] if call < len(calls) and index < len(calls[call]) else None
            out[label] = leaf if leaf is not None and leaf.dtype == np.float64 else None
        return out

    def attribute(self, pair: LayerPair, call: int, index: int, a: np.ndarray, b: np.ndarray, deviation) -> dict | None:
        own = self.leaves(pair, call, index)
        if own.get(self.reference) is None:
            return None
        return attribution.attribute(deviation.max_abs, deviation.passed, deviation.nonfinite_mismatch,
                                     dict(zip(self.labels, (a, b))), self.reference, own[self.reference], own, self.dtype)


def _row(pair: LayerPair, call: int, ref_leaves, cand_calls, tolerance, anchor: Anchor | None = None) -> dict[str, Any]:
    name = pair.ref if pair.ref == pair.cand else f"{pair.ref} / {pair.cand}"
    row: dict[str, Any] = {"name": name + (f" #{call + 1}" if call else ""), "ref": pair.ref, "cand": pair.cand,
                           "type": pair.ref_type if pair.ref_type == pair.cand_type else f"{pair.ref_type} / {pair.cand_type}",
                           "call": call, "passed": None, "max_abs": None, "max_rel": None, "shape": []}
    if call >= len(cand_calls):
        row["note"] = "not recorded on the candidate side (no hook fired: a Cell with its own bprop, or not called)"
        return row
    cand_leaves = cand_calls[call]
    one_sided = [(i, "ref" if a is not None else "cand") for i, (a, b) in enumerate(zip(ref_leaves, cand_leaves))
                 if (a is None) != (b is None)] if len(ref_leaves) == len(cand_leaves) else []
    if one_sided:  # a gradient (or output) only one side produces: a stop_gradient, a detached branch
        i, side = one_sided[0]
        has, lacks = ("the reference side", "the candidate") if side == "ref" else ("the candidate side", "the reference")
        row.update(passed=False, reason=f"{has} produces tensor {i} of this layer and {lacks} does not "
                                        f"(a stop_gradient or a detached branch on one side)", mismatched=0)
        return row
    pairs, note = replay.aligned(ref_leaves, cand_leaves)
    if note:
        row["note"] = note
    if not pairs:
        row["note"] = "no tensor on both sides"
        return row
    relaid = next(((a.shape, b.shape) for _, a, b in pairs if a.shape != b.shape and a.size == b.size), None)
    if relaid:  # a Flatten on one side only (the input of a Dense): the same values in the same order
        pairs = [(i, a, b.reshape(a.shape) if a.shape != b.shape and a.size == b.size else b) for i, a, b in pairs]
        row["note"] = f"compared in the reference layout {list(relaid[0])} (candidate: {list(relaid[1])})"
    if replay.comparable(pairs):  # never broadcast: a distance between different shapes means nothing
        row.update(note=replay.comparable(pairs), shape=list(pairs[0][1].shape))
        return row
    deviations = [compare(np.asarray(a), np.asarray(b), tolerance) for _, a, b in pairs]
    worst = max(range(len(deviations)), key=lambda k: (not deviations[k].passed, _finite(deviations[k].max_abs)))
    passed = [d.passed for d in deviations]
    if anchor is not None:  # a leaf outside its budget but within float32 noise of the float64 run passes
        for k, (index, a, b) in enumerate(pairs):
            record = anchor.attribute(pair, row["call"], index, a, b, deviations[k])
            if record is not None and (k == worst or record["within_noise"]):
                passed[k] = passed[k] or record["within_noise"]
                if k == worst:
                    row["attribution"] = {key: record[key] for key in ("statement", "outlier", "within_noise", "noise_ratio")}
    row.update(passed=all(passed), max_abs=_metric(max(_finite(d.max_abs) for d in deviations)),
               max_rel=_metric(max(_finite(d.max_rel) for d in deviations)), shape=list(pairs[0][1].shape),
               mismatched=int(sum(d.mismatched for d in deviations)))
    if not row["passed"] and deviations[worst].reason:
        row["reason"] = deviations[worst].reason
    return row


_finite, _metric = replay.finite, replay.metric  # one definition for accumulated and local rows
