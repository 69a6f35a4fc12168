"""The shared weight set: bind the spec's weight map to the parameters each side really has, then draw or load one set.

Every parameter and buffer on every side must be covered — by an explicit entry, by an identical name on
all sides, or by `unmapped:` with a reason. Anything else is a SpecError: never a silent random init.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eqcheck.backends.base import ParamInfo
from eqcheck.cases import automap
from eqcheck.cases.draws import draw, round_to_bfloat16
from eqcheck.dtypes import is_float, numpy_dtype
from eqcheck.errors import SpecError, WeightsError
from eqcheck.spec.layout import Chunk, apply_all, invert_all
from eqcheck.spec.fields import join, suggest
from eqcheck.spec.model import Distribution, SideName, WeightEntry


@dataclass(frozen=True)
class BoundSide:
    param: str
    transforms: tuple


@dataclass(frozen=True)
class BoundWeight:
    name: str
    shape: tuple[int, ...]
    init: Distribution
    sides: dict[str, BoundSide]  # framework -> parameter
    integer_default: np.ndarray | None = None  # integer buffers (counters) keep the reference side's value
    how: str = ""  # model specs: override | name | module | order+shape (cases/automap.py)


@dataclass(frozen=True)
class WeightMap:
    weights: tuple[BoundWeight, ...]
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)  # framework -> parameter -> reason not shared

    def names(self) -> list[str]:
        return [w.name for w in self.weights]

    def to_side(self, framework: str, canonical: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for w in self.weights:
            if framework in w.sides:
                side = w.sides[framework]
                array = apply_all(side.transforms, canonical[w.name])
                # a fused parameter: each entry's `chunk` is its block in zeros elsewhere, so the blocks add up exactly
                out[side.param] = out[side.param] + array if side.param in out else array
        return out

    def to_canonical(self, framework: str, side_arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            w.name: invert_all(w.sides[framework].transforms, side_arrays[w.sides[framework].param])
            for w in self.weights
            if framework in w.sides and w.sides[framework].param in side_arrays
        }

    def describe(self) -> list[dict]:
        return [
            {"name": w.name, "shape": list(w.shape), "init": w.init.describe(),
             **{fw: s.param + "".join(f" |{t.kind}" for t in s.transforms) for fw, s in w.sides.items()},
             **({"how": w.how} if w.how else {})}
            for w in self.weights
        ]


def auto_distribution(default: np.ndarray) -> Distribution:
    """Scaled like the layer's own init: same mean and spread; constants (ones, zeros) get a spread around them."""
    values = np.asarray(default, dtype=np.float64)
    mean = float(values.mean()) if values.size else 0.0
    std = float(values.std()) if values.size > 1 else 0.0
    if std > 0:
        half = std * 3**0.5  # a uniform with this half-width has the same std
        return Distribution("uniform", {"low": mean - half, "high": mean + half})
    # Constant init (BatchNorm gamma=1, beta=0, running var=1): random values around it, so a swapped
    # or unloaded parameter changes the output instead of hiding behind ones and zeros.
    spread = 0.5 * abs(mean) if mean != 0 else 0.1
    return Distribution("uniform", {"low": mean - spread, "high": mean + spread})


def bind(case, params: dict[str, dict[str, ParamInfo]], fired: dict[str, list] | None = None) -> WeightMap:
    """Match the spec's weight map against the real parameters of each framework's built cell.

    `fired` (model specs): per framework, (module path, [input shapes, output shapes]) in the probe call's execution
    order, for the automatic map's module pass."""
    spec = case.spec
    frameworks = list(params)
    reference = frameworks[0]
    claimed: dict[str, set[str]] = {fw: set() for fw in frameworks}
    bound: list[BoundWeight] = []

    entries = list(spec.weights)
    origins: list[int | None] = list(range(len(entries)))  # the spec's weights: entry each came from (its shape, init)
    unmapped, how = spec.unmapped, {}
    if spec.is_model:  # normalized names, then order and shape (cases/automap.py); refuses what it cannot pair
        order = {fw: [path for path, _ in calls] for fw, calls in (fired or {}).items()}
        shapes = {fw: {path: seen[1] for path, seen in reversed(calls)} for fw, calls in (fired or {}).items()}
        proposal = automap.propose(spec, params, case.id, order, shapes)
        if proposal.ambiguous:
            raise automap.ambiguity(spec, case.id, proposal, params)
        entries, unmapped = proposal.entries(), proposal.skipped
        origins = [p.origin for p in proposal.proposals]
        how = {p.entry.name: p.how for p in proposal.proposals}
    explicit = {fw: {e.sides[fw].name for e in entries} for fw in frameworks}
    for name in params[reference]:  # identical names map automatically
        if all(name in params[fw] and name not in explicit[fw] for fw in frameworks) and name not in {e.name for e in entries}:
            if not any(name in unmapped.get(fw, {}) for fw in frameworks):
                entries.append(WeightEntry(name, {fw: SideName(name) for fw in frameworks}))
                origins.append(None)

    for index, entry in enumerate(entries):
        field = join("weights", entry.name)
        present = {fw: entry.sides[fw].name in params[fw] for fw in frameworks}
        if not any(present.values()):
            continue  # a conditional parameter (bias with bias=False): absent everywhere is fine
        if not present[reference] and origins[index] is not None \
                and not any(params[fw][entry.sides[fw].name].trainable for fw in frameworks if present[fw]):
            # torch builds no affine weight (affine=False) where MindSpore keeps a frozen constant (gamma of ones):
            # nothing to share; it keeps its own value, and the outputs show whether that matters
            for fw in frameworks:
                if present[fw]:
                    claimed[fw].add(entry.sides[fw].name)
            continue
        for fw, there in present.items():
            if not there:
                raise SpecError(
                    f"{fw} has no parameter '{entry.sides[fw].name}' in case {case.id} "
                    f"(its parameters: {', '.join(params[fw]) or 'none'})",
                    file=spec.path, field=join(field, fw), hint=suggest(entry.sides[fw].name, params[fw]),
                )
        declared = case.weight_shape(origins[index]) if origins[index] is not None else None
        shape = declared or _canonical_shape(entry, params, frameworks, spec.path, field)
        sides = {}
        for fw in frameworks:
            info = params[fw][entry.sides[fw].name]
            transforms, current = [], shape
            for t in entry.sides[fw].transforms:
                try:
                    bound_t = t.bind(lambda raw: case.dim(raw, join(field, fw)), current)
                    current = bound_t.apply_shape(current)
                except ValueError as exc:
                    raise SpecError(f"{exc} (case {case.id})", file=spec.path, field=join(field, fw)) from None
                transforms.append(bound_t)
            if tuple(current) != tuple(info.shape):
                raise SpecError(
                    f"canonical shape {list(shape)} becomes {list(current)} on {fw}, but {fw}.{info.name} has shape "
                    f"{list(info.shape)} (case {case.id})", file=spec.path, field=join(field, fw),
                    hint="fix the transform, or the sizes that build the cell",
                )
            claimed[fw].add(info.name)
            sides[fw] = BoundSide(info.name, tuple(transforms))
        ref_info = params[reference][entry.sides[reference].name]
        integer = not np.issubdtype(ref_info.default.dtype, np.floating)
        init = case.weight_init(origins[index]) if origins[index] is not None else None  # $expr arguments evaluated
        bound.append(BoundWeight(
            entry.name, tuple(shape), init or auto_distribution(invert_all(sides[reference].transforms, ref_info.default)),
            sides, integer_default=invert_all(sides[reference].transforms, ref_info.default) if integer else None,
            how=how.get(entry.name, ""),
        ))

    _check_blocks(bound, spec.path, case.id)
    for fw in frameworks:  # unshared parameters with an `init`: drawn for their one side, named "<framework>.<param>"
        for param in spec.unmapped_init.get(fw, {}):
            if param in params[fw]:
                bound.append(BoundWeight(f"{fw}.{param}", tuple(params[fw][param].shape), case.unmapped_init(fw, param),
                                         {fw: BoundSide(param, ())}))

    for fw in frameworks:
        loose = [n for n in params[fw] if n not in claimed[fw] and n not in unmapped.get(fw, {})]
        if loose:
            def describe(n: str) -> str:
                absent = [other for other in frameworks if other != fw and n not in params[other]]
                where = f", absent on {' and '.join(absent)}" if absent else ""
                return f"'{n}' ({'parameter' if params[fw][n].trainable else 'buffer'} {list(params[fw][n].shape)}{where})"

            raise SpecError(
                f"{fw} has {', '.join(describe(n) for n in loose)} that no weight entry maps, in case {case.id}; "
                "it would keep its random init",
                file=spec.path, field="weights",
                hint=f"map it under weights: (e.g. weights: {{{loose[0]}: {{{fw}: {loose[0]}, ...}}}}) or list it under "
                     f"unmapped: {fw}: with the reason it is not shared",
            )
        stale = [n for n in unmapped.get(fw, {}) if n in claimed[fw]]
        if stale:
            raise SpecError(f"{fw} parameter '{stale[0]}' is both mapped and listed as unmapped", file=spec.path, field=join("unmapped", fw))
    return WeightMap(tuple(bound), {fw: dict(reasons) for fw, reasons in unmapped.items() if reasons})


def _check_blocks(bound: list[BoundWeight], path: str, case_id: str) -> None:
    """A fused parameter must be covered block by block, each block by exactly one entry: a missing block would load
    as zeros, a doubled one as a sum."""
    blocks: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for w in bound:
        for fw, side in w.sides.items():
            if side.transforms and isinstance(side.transforms[-1], Chunk):
                blocks.setdefault((fw, side.param), []).append((side.transforms[-1].index, side.transforms[-1].of, w.name))
    for (fw, param), found in blocks.items():
        indices = sorted(index for index, _, _ in found)
        if indices != list(range(found[0][1])) or len({of for _, of, _ in found}) != 1:
            raise SpecError(f"{fw}.{param} is split into blocks {indices} by {', '.join(n for _, _, n in found)} in case {case_id}; "
                            f"each of its {found[0][1]} blocks needs exactly one weights: entry", file=path, field="weights")


def _canonical_shape(entry: WeightEntry, params, frameworks, path: str, field: str) -> tuple[int, ...]:
    for fw in frameworks:  # a side without a transform defines the canonical layout
        if not entry.sides[fw].transforms:
            return tuple(params[fw][entry.sides[fw].name].shape)
    fw = frameworks[0]
    try:
        return tuple(invert_all(entry.sides[fw].transforms, np.empty(params[fw][entry.sides[fw].name].shape, np.uint8)).shape)
    except ValueError:
        raise SpecError("every side transforms this weight and the canonical shape cannot be inferred; declare 'shape'",
                        file=path, field=field) from None


def generate(weight_map: WeightMap, rng: np.random.Generator, dtype: str) -> dict[str, np.ndarray]:
    """Draw the shared set in float64, then cast to the case dtype (bfloat16 rounded onto its grid)."""
    arrays = {}
    for w in weight_map.weights:
        if w.integer_default is not None:
            arrays[w.name] = np.array(w.integer_default, copy=True)
        else:
            arrays[w.name] = draw(rng, w.init.kind, w.init.args, w.shape, dtype)
    return arrays


TORCH_SUFFIXES = (".pt", ".pth")


def read_weights_file(path: str) -> dict[str, np.ndarray]:
    """Canonical weights: a .npz, or a torch state_dict (.pt/.pth, loaded with weights_only=True: no pickled code runs)."""
    if path.lower().endswith(TORCH_SUFFIXES):
        return _read_state_dict(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise WeightsError("no such file", file=path, field="--weights") from None
    except (OSError, ValueError, EOFError) as exc:
        raise WeightsError(f"not a readable .npz archive ({exc})", file=path, field="--weights") from None


def _read_state_dict(path: str) -> dict[str, np.ndarray]:
    import torch  # only for a torch file: `list` and `validate` never get here

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError("no such file", file=path, field="--weights") from None
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError, RuntimeError, EOFError, ... for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"not a torch state_dict readable with weights_only=True ({first[:300]})", file=path, field="--weights") from None
    if isinstance(state, dict) and set(state) & {"state_dict", "model"} and not any(torch.is_tensor(v) for v in state.values()):
        key = "state_dict" if "state_dict" in state else "model"
        raise WeightsError(f"holds a checkpoint with '{key}' inside, not a state_dict", file=path, field="--weights",
                           hint=f"save the state_dict itself: torch.save(checkpoint['{key}'], 'weights.pt')")
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise WeightsError(f"holds a {type(state).__name__}, not a state_dict (a mapping of names to tensors)", file=path, field="--weights")
    return {name: tensor.detach().float().numpy() if tensor.dtype == torch.bfloat16 else tensor.detach().numpy()
            for name, tensor in state.items()}


def check_weights_file(weight_map: WeightMap, arrays: dict[str, np.ndarray], path: str, case_id: str, dtype: str) -> dict[str, np.ndarray]:
    """A user's weights must match the map exactly: missing, extra or misshapen arrays are errors, not guesses.

    Entries the map leaves unshared on purpose (torch's num_batches_tracked in a state_dict) are not extra."""
    expected = {w.name: w.shape for w in weight_map.weights}
    unshared = {name for reasons in weight_map.skipped.values() for name in reasons}
    missing = [n for n in expected if n not in arrays]
    extra = [n for n in arrays if n not in expected and n not in unshared]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise WeightsError(f"does not match the weight map of {case_id}: {'; '.join(parts)} "
                           f"(expected: {', '.join(f'{n} {list(s)}' for n, s in expected.items())})", file=path, field="--weights")
    out = {}
    for name, shape in expected.items():
        if tuple(arrays[name].shape) != tuple(shape):
            raise WeightsError(f"array '{name}' has shape {list(arrays[name].shape)}, the weight map of {case_id} needs {list(shape)}",
                               file=path, field="--weights")
        array = arrays[name]
        if is_float(dtype) and np.issubdtype(array.dtype, np.floating):
            array = array.astype(numpy_dtype(dtype))
            array = round_to_bfloat16(array) if dtype == "bfloat16" else array
        out[name] = array
    return out
