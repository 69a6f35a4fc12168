"""Shrinking a failing explored sample (`sample=K`): fewest non-default arguments first, then the smallest tensors.

Candidates, in this order (execution/shrink.py tries them greedily, keeping each that fails the same way):
* one non-default torch argument reset (cases/explore.py `non_default`): left out of the sample, so torch takes its
  default and MindSpore the one the spec's explore map gives (`default:`), exactly as for a sample that never set
  it; a positional one only when it is the last positional argument (the others would shift);
* one dimension halved in every input tensor of that rank with that size there (a loss's input and target stay
  alike), then in each tensor alone. The values are the sample's own, sliced (the leading half), not re-drawn: a
  draw would replace torch's generator's values (its ranges, its repeated or extreme entries) with the spec's
  distribution, and the candidate would test other data, not a smaller piece of the failing data.
A candidate the explore map cannot carry (cases/explore.py Skip) is not offered.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from eqcheck.backends.samples import cache
from eqcheck.cases.explore import CONSTRUCTING, Skip, TorchSamples, describe_sample, non_default, translate
from eqcheck.cases.sweep import Case, expand
from eqcheck.spec.model import OpSpec


class SampleShrinker:
    """Candidates for the explored cases of one spec; `start` registers the failing case, `candidates` feeds
    execution/shrink.shrink. The sliced arrays of each candidate live in a temporary folder until `close`."""

    def __init__(self, spec: OpSpec):
        self.spec = spec
        self.folder = Path(tempfile.mkdtemp(prefix="eqcheck-shrink-"))
        # id(case) -> (its sample record, its arrays, the case itself: kept alive so that no id is reused)
        self.states: dict[int, tuple[dict, dict[str, np.ndarray], Case]] = {}
        self.made = 0

    def start(self, case: Case) -> bool:
        """Register an explored case; False when it is none this shrinker can vary (an error input, another spec)."""
        info = case.sample
        if info is None or info.error is not None or (case.edge is not None and (case.edge.dims or case.edge.overrides)):
            return False  # an edge variant changing values only (nan, inf, int) stays on every candidate
        # a variant's cached entry is its own name (max.binary, div.trunc_rounding for torch.divide)
        wanted = info.entry if info.variant else TorchSamples(info.source).entry_name(self.spec) or info.entry
        record = cache.entries(info.source, [wanted])[wanted]
        key = "samples_train" if info.source in CONSTRUCTING and self.spec.mode == "train" else "samples"
        sample = record[key][info.index]
        with np.load(info.arrays, allow_pickle=False) as data:
            arrays = {v["tensor"]: data[v["tensor"]] for v in _tensors(sample)}
        self.record, self.source = record, info.source
        self.states[id(case)] = (sample, arrays, case)
        return True

    def candidates(self, case: Case) -> Iterator[tuple[Case, str]]:
        sample, arrays, _ = self.states[id(case)]
        for section, name, position in non_default(self.spec, self.record, sample):
            part = sample[section]
            if position is not None and position != len(part["args"]) - 1:
                continue
            smaller = copy.deepcopy(sample)
            if position is None:
                del smaller[section]["kwargs"][name]
            else:
                smaller[section]["args"].pop()
            made = self._case(case, smaller, arrays)
            if made is not None:
                yield made, f"{name} reset to torch's default"
        tensors = _tensors(sample)
        for value in tensors:
            for axis, size in enumerate(value["shape"]):
                if size <= 1:
                    continue
                alike = [v for v in tensors if len(v["shape"]) == len(value["shape"]) and v["shape"][axis] == size]
                groups = ([alike] if len(alike) > 1 and alike[0] is value else []) + [[value]]
                for group in groups:
                    made = self._halved(case, sample, arrays, group, axis)
                    if made is not None:
                        yield made, f"{_names(made, group)} axis {axis}: {size} → {size // 2}"

    def _halved(self, case: Case, sample: dict, arrays: dict, group: list[dict], axis: int) -> Case | None:
        smaller, new_arrays = copy.deepcopy(sample), dict(arrays)
        keys = {v["tensor"] for v in group}
        for value in _tensors(smaller):
            if value["tensor"] in keys:
                size = value["shape"][axis] // 2
                new_arrays[value["tensor"]] = np.take(arrays[value["tensor"]], np.arange(size), axis=axis)
                value["shape"] = [*value["shape"][:axis], size, *value["shape"][axis + 1:]]
        return self._case(case, smaller, new_arrays)

    def _case(self, case: Case, sample: dict, arrays: dict) -> Case | None:
        try:
            derived, tensors = translate(self.spec, self.record, sample, self.source)
        except Skip:
            return None
        self.made += 1
        path = self.folder / f"c{self.made}.npz"
        np.savez(path, **arrays)
        info = dataclasses.replace(case.sample, arrays=str(path), tensors=tensors,
                                   torch_args=describe_sample(self.spec, self.record, sample))
        made = next((c for c in expand(derived, (case.dtype,))), None)
        if made is None:
            return None
        made = dataclasses.replace(made, sample=info, edge=case.edge)
        self.states[id(made)] = (sample, arrays, made)
        return made

    def summary(self, case: Case) -> str:
        """The sample's arguments and input shapes, for the findings page."""
        sample = self.states[id(case)][0]
        described = describe_sample(self.spec, self.record, sample)
        shapes = ", ".join(f"{inp.name} {'x'.join(map(str, inp.shape)) or 'scalar'}" for inp in case.spec.inputs)
        args = ", ".join(described["non_default"])
        return f"{shapes} with {args}" if args else f"{shapes} with torch's defaults"

    def close(self) -> None:
        for path in self.folder.glob("*.npz"):
            path.unlink()
        self.folder.rmdir()


def _tensors(sample: dict) -> list[dict]:
    """The tensor values of a sample's call (the objects themselves, so a copy's can be changed in place)."""
    out = []

    def walk(value):
        if isinstance(value, dict) and "tensor" in value:
            out.append(value)
        elif isinstance(value, dict) and ("tuple" in value or "list" in value):
            for item in value.get("tuple", value.get("list")):
                walk(item)

    for value in [*sample["call"]["args"], *sample["call"]["kwargs"].values()]:
        walk(value)
    return out


def _names(case: Case, group: list[dict]) -> str:
    keys = {v["tensor"] for v in group}
    return ", ".join(name for name, key in case.sample.tensors if key in keys) or "a tensor"
