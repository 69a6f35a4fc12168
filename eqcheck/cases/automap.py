"""Automatic weight mapping for model specs: propose which parameter on one side is which on the other.

Three passes, each reviewable in `eqcheck map SPEC` (the `how` column):

1. `override`: the spec's own `weights:` entries (with layout transforms) win, always.
2. `name`: identical names after normalization — leaf aliases (weight/gamma/embedding_table, bias/beta,
   running_mean/moving_mean, running_var/moving_variance), separators (`_`, `-`) and case ignored in module paths.
3. `order+shape`: what is left, grouped by normalized leaf (weight, bias, weight_ih_l0, ...), paired in
   declaration order when both sides have the same count and every pair has the same shape.

Anything still unpaired, or a pair whose shapes disagree, is refused with the complete list: never a guess.
Counters with no counterpart (torch BatchNorm's `num_batches_tracked`, read only when momentum=None) are left
out with their reason shown. RNN gate order (i, f, g, o for LSTM; r, z, n for GRU) is the same in torch and
MindSpore 2.x nn.LSTM/GRU, so their weights pair by name; a hand-written cell with another order needs an
override with `transform: [{reorder_chunks: ...}]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eqcheck.backends.base import ParamInfo
from eqcheck.errors import SpecError
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
_SEPARATORS = re.compile(r"[_\-]")


@dataclass(frozen=True)
class Proposal:
    """One proposed pairing: the canonical entry and how it was found (override | name | order+shape)."""

    entry: WeightEntry
    how: str


@dataclass(frozen=True)
class AutoMap:
    proposals: tuple[Proposal, ...]
    skipped: dict[str, dict[str, str]]  # framework -> parameter -> reason it stays unshared

    def entries(self) -> list[WeightEntry]:
        return [p.entry for p in self.proposals]


def leaf_key(name: str) -> str:
    leaf = name.rsplit(".", 1)[-1]
    return LEAF_ALIASES.get(leaf, leaf)


def normalize(name: str) -> str:
    """'Encoder.layer_norm.gamma' -> 'encoder.layernorm.weight': the key the name pass compares."""
    *path, _ = name.split(".")
    return ".".join([_SEPARATORS.sub("", p).lower() for p in path] + [leaf_key(name)])


def propose(spec, params: dict[str, dict[str, ParamInfo]], case_id: str) -> AutoMap:
    """Pair every parameter and buffer of the two sides, or raise SpecError listing everything left unpaired."""
    ref, cand = list(params)
    proposals = [Proposal(e, "override") for e in spec.weights]
    claimed = {fw: {e.sides[fw].name for e in spec.weights} for fw in (ref, cand)}
    skipped: dict[str, dict[str, str]] = {fw: dict(spec.unmapped.get(fw, {})) for fw in (ref, cand)}
    left = {fw: [n for n in params[fw] if n not in claimed[fw] and n not in skipped[fw]] for fw in (ref, cand)}

    for fw, other in ((ref, cand), (cand, ref)):  # counters with no counterpart at all
        other_leaves = {leaf_key(n) for n in params[other]}
        for name in list(left[fw]):
            reason = COUNTERS.get(leaf_key(name))
            if reason and leaf_key(name) not in other_leaves:
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

    groups = {fw: {} for fw in (ref, cand)}
    for fw in (ref, cand):
        for name in left[fw]:
            groups[fw].setdefault(leaf_key(name), []).append(name)
    for key, names in groups[ref].items():
        others = groups[cand].get(key, [])
        if len(names) == len(others) and all(params[ref][a].shape == params[cand][b].shape for a, b in zip(names, others)):
            for a, b in zip(names, others):
                pair(a, b, "order+shape")

    if left[ref] or left[cand]:
        describe = lambda fw: ", ".join(f"{n} {list(params[fw][n].shape)}" for n in left[fw]) or "none"
        raise SpecError(
            f"cannot map every parameter automatically in case {case_id}: unpaired on {ref}: {describe(ref)}; "
            f"unpaired on {cand}: {describe(cand)}. Names did not match after normalization, and pairing by order "
            f"needs the same count and shapes per kind of parameter",
            file=spec.path, field="weights",
            hint=f"map them under weights: (e.g. weights: {{{(left[ref] or left[cand])[0]}: {{{ref}: ..., {cand}: ...}}}}), "
                 f"or list them under unmapped: with the reason they are not shared; `eqcheck map {spec.path}` shows the proposal",
        )
    return AutoMap(tuple(proposals), skipped)
