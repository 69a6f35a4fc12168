"""Automatic weight mapping for model specs: propose which parameter on one side is which on the other.

Three passes, each reviewable in `eqcheck map SPEC` (the `how` column):

1. `override`: the spec's own `weights:` entries (with layout transforms) win, always.
2. `name`: identical names after normalization — leaf aliases (weight/gamma/embedding_table, bias/beta,
   running_mean/moving_mean, running_var/moving_variance), separators (`_`, `-`) and case ignored in module paths.
3. `module`: what is left, module by module: each side's modules holding unpaired parameters, in execution
   order (the probe call's hook order; declaration order where no probe ran), aligned by their parameter
   signature (leaf kinds and shapes); an aligned pair's parameters pair together, so a module's weight and
   bias never land in two different modules (HF ResNet declares `shortcut` before `layer`, runs it after).
4. `order+shape`: what is still left, grouped by normalized leaf (weight, bias, weight_ih_l0, ...), paired in
   declaration order when both sides have the same count and every pair has the same shape.

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
from dataclasses import dataclass

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


def propose(spec, params: dict[str, dict[str, ParamInfo]], case_id: str,
            order: dict[str, list[str]] | None = None) -> AutoMap:
    """Pair every parameter and buffer of the two sides, or raise SpecError listing everything left unpaired.

    `order`: per framework, module paths in execution order (a probe call's hooks); modules missing from it
    follow in declaration order.
    """
    ref, cand = list(params)
    proposals = [Proposal(e, "override") for e in spec.weights]
    claimed = {fw: {e.sides[fw].name for e in spec.weights} for fw in (ref, cand)}
    skipped: dict[str, dict[str, str]] = {fw: dict(spec.unmapped.get(fw, {})) for fw in (ref, cand)}
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

    modules = {fw: _modules(left[fw], params[fw], (order or {}).get(fw, [])) for fw in (ref, cand)}
    signatures = {fw: [signature for _, signature, _ in modules[fw]] for fw in (ref, cand)}
    matcher = difflib.SequenceMatcher(None, signatures[ref], signatures[cand], autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            (_, _, a_params), (_, _, b_params) = modules[ref][block.a + k], modules[cand][block.b + k]
            for key, a in a_params.items():
                pair(a, b_params[key], "module")

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
        raise _refusal(spec, case_id, proposals, left, params, (ref, cand))
    return AutoMap(tuple(proposals), skipped)


def _modules(names: list[str], params: dict[str, ParamInfo], order: list[str]) -> list[tuple[str, tuple, dict[str, str]]]:
    """(module path, signature, leaf key -> parameter) of the modules owning `names`, in execution order."""
    owned: dict[str, dict[str, str]] = {}
    for name in names:
        owned.setdefault(name.rsplit(".", 1)[0] if "." in name else "", {})[leaf_key(name)] = name
    rank = {path: i for i, path in reversed(list(enumerate(order)))}  # a module's first firing
    paths = sorted(owned, key=lambda p: (rank.get(p, len(rank)), list(owned).index(p)))
    return [(p, tuple(sorted((k, params[n].shape) for k, n in owned[p].items())), owned[p]) for p in paths]


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
        f"normalization, and pairing module by module in execution order needs the same parameter kinds and shapes",
        file=spec.path, field="weights",
        hint=f"map them under weights: (e.g. weights: {{{example}: {{{ref}: ..., {cand}: ...}}}}), or list them under "
             f"unmapped: with the reason they are not shared; `eqcheck map {spec.path}{allow}` shows the partial proposal",
    )
    err.partial = AutoMap(tuple(proposals), {})  # `eqcheck map` renders it beside the refusal
    err.unpaired = {fw: list(left[fw]) for fw in sides}
    err.params = params
    return err
