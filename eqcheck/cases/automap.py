"""Automatic weight mapping for model specs: propose which parameter on one side is which on the other.

Three passes, each reviewable in `eqcheck map SPEC` (the `how` column):

1. `override`: the spec's own `weights:` entries (with layout transforms) win, always; a `*` in a name is one path
   part, captured in order on every side and expanded against the reference side's parameters.
2. `name`: identical names after normalization — leaf aliases (weight/gamma/embedding_table, bias/beta,
   running_mean/moving_mean, running_var/moving_variance), separators (`_`, `-`) and case ignored in module paths.
3. `module`: what is left, module by module: each side's modules holding unpaired parameters, in execution
   order (the probe call's hook order; declaration order where no probe ran), aligned by their parameter
   signature (leaf kinds and shapes, and a layer's output shapes where both probes ran); an aligned pair's
   parameters pair together, so a module's weight and bias never land in two different modules (HF ResNet
   declares `shortcut` before `layer`, runs it after). Equally long alignments are told apart by the order inside
   each parent block (`_align`); look-alikes no probe ordered are refused with the candidates named.
4. `order+shape`: what is still left, grouped by normalized leaf (weight, bias, weight_ih_l0, ...), paired in
   declaration order when both sides have the same count and every pair has the same shape (and output shapes).

Anything still unpaired, or a pair whose shapes disagree, is refused with the complete list and the best
partial proposal: never a guess. torch buffers registered with `persistent=False` (position ids, causal masks:
derived, not in the state_dict) are left unshared. Counters with no counterpart (torch BatchNorm's `num_batches_tracked`, read only when momentum=None) are left
out with their reason shown. RNN gate order (i, f, g, o for LSTM; r, z, n for GRU) is the same in torch and
MindSpore 2.x nn.LSTM/GRU, so their weights pair by name; a hand-written cell with another order needs an
override with `transform: [{reorder_chunks: ...}]`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from eqcheck.backends.base import ParamInfo
from eqcheck.errors import SpecError
from eqcheck.spec import allowlist
from eqcheck.spec.model import SideName, WeightEntry

LEAF_ALIASES = {
    "gamma": "weight",
    "embedding_table": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
    "moving_var": "running_var",
}
# Buffers one framework keeps and the other does not, and why leaving them unshared is safe.
COUNTERS = {
    "num_batches_tracked": "torch BatchNorm's step counter; read only when momentum=None, MindSpore has none",
}
TRANSIENT = "torch buffer registered with persistent=False: not in the state_dict, derived by the model itself"
_SEPARATORS = re.compile(r"[_\-]")


@dataclass(frozen=True)
class Proposal:
    """One proposed pairing: the canonical entry and how it was found (override | name | module | order+shape)."""

    entry: WeightEntry
    how: str
    origin: int | None = None  # overrides: the index of the spec's weights: entry (a pattern expands to many)


def expand(entries, params: dict[str, dict[str, ParamInfo]]) -> list[tuple[WeightEntry, int]]:
    """The spec's weights: entries with every `*` pattern (one path part, captured in order on every side) expanded
    against the reference side's parameters: `vit.encoder.layer.*.attention.attention.query.weight` -> one entry per
    layer. Each with the index of the entry it came from."""
    ref = next(iter(params))
    out = []
    for index, entry in enumerate(entries):
        if "*" not in entry.name:
            out.append((entry, index))
            continue
        pattern = _glob(entry.sides[ref].name)
        for name in params[ref]:
            found = pattern.match(name)
            if found:
                fill = lambda text: _fill(text, found.groups())
                sides = {fw: replace(side, name=fill(side.name)) for fw, side in entry.sides.items()}
                out.append((replace(entry, name=fill(entry.name), sides=sides), index))
    return out


def expand_unmapped(unmapped: dict[str, dict[str, str]], params: dict[str, dict[str, ParamInfo]]) -> dict[str, dict[str, str]]:
    """`unmapped:` with `*` patterns expanded against each side's own parameters."""
    out = {}
    for fw, reasons in unmapped.items():
        out[fw] = {}
        for key, reason in reasons.items():
            names = [n for n in params.get(fw, {}) if _glob(key).match(n)] if "*" in key else [key]
            out[fw].update(dict.fromkeys(names, reason))
    return out


def _glob(text: str) -> re.Pattern:
    return re.compile("^" + r"\.".join(r"([^.]+)" if part == "*" else re.escape(part) for part in text.split(".")) + "$")


def _fill(text: str, captured: tuple[str, ...]) -> str:
    parts, values = text.split("."), iter(captured)
    return ".".join(next(values) if part == "*" else part for part in parts)


@dataclass(frozen=True)
class AutoMap:
    proposals: tuple[Proposal, ...]
    skipped: dict[str, dict[str, str]]  # framework -> parameter -> reason it stays unshared
    # Module pairs that rest on nothing but declaration order among look-alikes (same parameter and output shapes
    # under one parent, no probe order to tell them apart): per ambiguity, framework -> the candidate module paths.
    ambiguous: tuple[dict[str, tuple[str, ...]], ...] = ()

    def entries(self) -> list[WeightEntry]:
        return [p.entry for p in self.proposals]


def leaf_key(name: str) -> str:
    leaf = name.rsplit(".", 1)[-1]
    return LEAF_ALIASES.get(leaf, leaf)


def normalize(name: str) -> str:
    """'Encoder.layer_norm.gamma' -> 'encoder.layernorm.weight': the key the name pass compares."""
    *path, _ = name.split(".")
    return ".".join([_SEPARATORS.sub("", p).lower() for p in path] + [leaf_key(name)])


def propose(spec, params: dict[str, dict[str, ParamInfo]], case_id: str,
            order: dict[str, list[str]] | None = None, shapes: dict[str, dict[str, list]] | None = None) -> AutoMap:
    """Pair every parameter and buffer of the two sides, or raise SpecError listing everything left unpaired.

    `order`: per framework, module paths in execution order (a probe call's hooks); modules missing from it
    follow in declaration order. `shapes`: per framework, module path -> the output shapes the probe saw; where both
    sides were probed, modules pair only with modules that produced the same shapes (HF RegNet's stride-2 shortcut
    conv and its block's first conv hold the same weight shape, not the same output).
    """
    ref, cand = list(params)
    overrides = expand(spec.weights, params)
    proposals = [Proposal(e, "override", origin) for e, origin in overrides]
    claimed = {fw: {e.sides[fw].name for e, _ in overrides} for fw in (ref, cand)}
    unmapped = expand_unmapped(spec.unmapped, params)
    skipped: dict[str, dict[str, str]] = {fw: dict(unmapped.get(fw, {})) for fw in (ref, cand)}
    left = {fw: [n for n in params[fw] if n not in claimed[fw] and n not in skipped[fw]] for fw in (ref, cand)}

    for fw, other in ((ref, cand), (cand, ref)):  # counters with no counterpart at all; torch's transient buffers
        other_leaves = {leaf_key(n) for n in params[other]}
        for name in list(left[fw]):
            reason = COUNTERS.get(leaf_key(name)) if leaf_key(name) not in other_leaves else None
            reason = reason or (TRANSIENT if not params[fw][name].persistent else None)
            if reason:
                skipped[fw][name] = reason
                left[fw].remove(name)

    def pair(a: str, b: str, how: str) -> None:
        canonical = a  # the reference side's name is the canonical one
        proposals.append(Proposal(WeightEntry(canonical, {ref: SideName(a), cand: SideName(b)}), how))
        left[ref].remove(a)
        left[cand].remove(b)

    by_key = {fw: {} for fw in (ref, cand)}
    for fw in (ref, cand):
        for name in left[fw]:
            by_key[fw].setdefault(normalize(name), []).append(name)
    for key, names in by_key[ref].items():
        others = by_key[cand].get(key, [])
        if len(names) == 1 and len(others) == 1 and params[ref][names[0]].shape == params[cand][others[0]].shape:
            pair(names[0], others[0], "name")

    seen = shapes if shapes and all(shapes.get(fw) for fw in (ref, cand)) else {}  # both probed, or neither counts
    # a layer's output says what its parameters do; a container's (ViT's embeddings holding the class token) does not
    seen = {fw: {path: out for path, out in found.items() if not any(p.startswith(path + ".") for p in found)}
            for fw, found in seen.items()}
    produced = lambda fw, name: seen.get(fw, {}).get(name.rsplit(".", 1)[0] if "." in name else "")
    modules = {fw: _modules(left[fw], params[fw], (order or {}).get(fw, []), seen.get(fw, {})) for fw in (ref, cand)}
    aligned = _align(modules[ref], modules[cand])
    ambiguous = _lookalikes(aligned, modules, (ref, cand), order or {})
    owned = {fw: {path: names for path, _, names in modules[fw]} for fw in (ref, cand)}
    for a_path, b_path in aligned:
        for key, a in owned[ref][a_path].items():
            pair(a, owned[cand][b_path][key], "module")

    groups = {fw: {} for fw in (ref, cand)}
    for fw in (ref, cand):
        for name in left[fw]:
            groups[fw].setdefault(leaf_key(name), []).append(name)
    for key, names in groups[ref].items():
        others = groups[cand].get(key, [])
        if len(names) == len(others) and all(params[ref][a].shape == params[cand][b].shape and produced(ref, a) == produced(cand, b)
                                             for a, b in zip(names, others)):
            for a, b in zip(names, others):
                pair(a, b, "order+shape")

    if left[ref] or left[cand]:
        raise _refusal(spec, case_id, proposals, left, params, (ref, cand))
    return AutoMap(tuple(proposals), skipped, ambiguous)


def _modules(names: list[str], params: dict[str, ParamInfo], order: list[str],
             produced: dict[str, list]) -> list[tuple[str, tuple, dict[str, str]]]:
    """(module path, signature, leaf key -> parameter) of the modules owning `names`, in execution order; the
    signature is the parameters' leaf kinds and shapes, and the output shapes the probe saw (where it ran)."""
    owned: dict[str, dict[str, str]] = {}
    for name in names:
        owned.setdefault(name.rsplit(".", 1)[0] if "." in name else "", {})[leaf_key(name)] = name
    rank = {path: i for i, path in reversed(list(enumerate(order)))}  # a module's first firing
    paths = sorted(owned, key=lambda p: (rank.get(p, len(rank)), list(owned).index(p)))
    outputs = lambda p: tuple(tuple(shape) for shape in produced.get(p, ()))
    return [(p, (tuple(sorted((k, params[n].shape) for k, n in owned[p].items())), outputs(p)), owned[p]) for p in paths]


def _align(ref_modules, cand_modules) -> list[tuple[str, str]]:
    """Module pairs: equal signatures aligned in execution order (longest runs first), then repaired where a run
    crossed a block boundary. Equal-length alignments can differ: HF RegNet runs a block's main branch then its
    shortcut, mindcv the shortcut first, so the shortcut's BatchNorm and the main branch's last one (same shapes in,
    same shapes out) can both end the run into the next block. Of two such pairings the one keeping each parent's
    modules together wins: a pair alone between its two parents gives its partner to a look-alike from a parent
    already paired with the partner's parent. What is left aligns again, on its own."""
    parent = lambda path: path.rsplit(".", 1)[0] if "." in path else ""
    aligned: list[tuple[str, str]] = []
    for _ in range(2):  # the second pass aligns what the repair freed
        done = {p for pair in aligned for p in pair}
        ref = [m for m in ref_modules if m[0] not in done]
        cand = [m for m in cand_modules if m[0] not in done]
        matcher = difflib.SequenceMatcher(None, [m[1] for m in ref], [m[1] for m in cand], autojunk=False)
        aligned += [(ref[b.a + k][0], cand[b.b + k][0]) for b in matcher.get_matching_blocks() for k in range(b.size)]
        sig = {path: signature for path, signature, _ in (*ref_modules, *cand_modules)}
        support: dict[tuple[str, str], int] = {}
        for a, b in aligned:
            support[(parent(a), parent(b))] = support.get((parent(a), parent(b)), 0) + 1
        taken = {p for pair in aligned for p in pair}
        for index, (a, b) in enumerate(aligned):
            if support[(parent(a), parent(b))] > 1:
                continue
            for side, modules in enumerate((ref_modules, cand_modules)):  # a look-alike on either side
                mine = (a, b)[side]
                with_ = lambda x: (x, b) if side == 0 else (a, x)
                swap = next((x for x, _, _ in modules if x not in taken and sig[x] == sig[mine]
                             and support.get(tuple(map(parent, with_(x))))), None)
                if swap is not None:
                    aligned[index] = with_(swap)
                    taken.discard(mine)
                    taken.add(swap)
                    break
    return aligned


def _lookalikes(aligned, modules, sides, order) -> tuple[dict[str, tuple[str, ...]], ...]:
    """Module pairs whose partner is one of several look-alikes (same signature, same parent) on both sides while
    a side's probe order is missing for them: declaration order alone chose, so the pairing is a guess."""
    signature = {fw: {path: sig for path, sig, _ in modules[fw]} for fw in sides}
    fired = {fw: set(order.get(fw, [])) for fw in sides}
    parent = lambda path: path.rsplit(".", 1)[0] if "." in path else ""
    found, reported = [], set()
    for a, b in aligned:
        twins = {fw: tuple(p for p in signature[fw] if parent(p) == parent(path) and signature[fw][p] == signature[fw][path])
                 for fw, path in zip(sides, (a, b))}
        if all(len(t) > 1 for t in twins.values()) and not all(set(t) <= fired[fw] for fw, t in twins.items()) \
                and twins[sides[0]] not in reported:
            reported.add(twins[sides[0]])
            found.append(twins)
    return tuple(found)


def ambiguity(spec, case_id: str, proposal: AutoMap, params) -> SpecError:
    """A map that rests on a guess among look-alike modules: refused, each group of candidates named."""
    groups = "; ".join(" or ".join(f"{fw} {', '.join(paths)}" for fw, paths in group.items()) for group in proposal.ambiguous)
    ref = next(iter(proposal.ambiguous[0]))
    err = SpecError(
        f"cannot tell look-alike modules apart in case {case_id}: {groups} hold the same parameter shapes and "
        f"produced the same output shapes under one parent, and no probe call ordered them", file=spec.path, field="weights",
        hint=f"pair them under weights: (e.g. weights: {{{proposal.ambiguous[0][ref][0]}.weight: {{...}}}}), or make the "
             f"probe call run (`eqcheck map {spec.path}` shows the proposal)")
    err.partial, err.unpaired, err.params = proposal, {}, params
    return err


def _refusal(spec, case_id, proposals, left, params, sides) -> SpecError:
    """The complete list of what is left, the partial proposal that was found, and the command to review it."""
    ref, cand = sides
    describe = lambda fw: ", ".join(f"{n} {list(params[fw][n].shape)}" for n in left[fw]) or "none"
    counts: dict[str, int] = {}
    for p in proposals:
        counts[p.how] = counts.get(p.how, 0) + 1
    found = ", ".join(f"{n} by {how}" for how, n in counts.items()) or "none"
    # The operator's opt-in of this run (the factories got imported under it), else the factories' own modules.
    models = list(allowlist.allowed_modules()) or sorted({spec.sides[fw].op.split(":")[0] for fw in sides if ":" in spec.sides[fw].op})
    allow = f" --allow-module {','.join(models)}" if models else ""
    example = (left[ref] or left[cand])[0]
    err = SpecError(
        f"cannot map every parameter automatically in case {case_id}: paired {len(proposals)} ({found}); "
        f"unpaired on {ref}: {describe(ref)}; unpaired on {cand}: {describe(cand)}. Names did not match after "
        f"normalization, and pairing module by module in execution order needs the same parameter kinds and shapes "
        f"and, where the probe call ran, the same output shapes (a stride moved to another layer changes them)",
        file=spec.path, field="weights",
        hint=f"map them under weights: (e.g. weights: {{{example}: {{{ref}: ..., {cand}: ...}}}}), or list them under "
             f"unmapped: with the reason they are not shared; `eqcheck map {spec.path}{allow}` shows the partial proposal",
    )
    err.partial = AutoMap(tuple(proposals), {})  # `eqcheck map` renders it beside the refusal
    err.unpaired = {fw: list(left[fw]) for fw in sides}
    err.params = params
    return err
