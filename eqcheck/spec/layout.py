"""Layout transforms between a canonical weight and one framework's parameter. Each is invertible.

`apply` maps canonical -> side layout (to load weights); `invert` maps side -> canonical
(to bring parameter gradients or updated buffers back to canonical names).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from eqcheck._lazy import numpy as np  # imported on first use: `list` and `validate` never load numpy


class Transform(ABC):
    kind: str = ""

    @abstractmethod
    def apply(self, array: np.ndarray) -> np.ndarray:
        """Canonical layout -> this side's layout."""

    @abstractmethod
    def invert(self, array: np.ndarray) -> np.ndarray:
        """This side's layout -> canonical layout."""

    def apply_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.apply(np.empty(shape, dtype=np.uint8)).shape

    def invert_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.invert(np.empty(shape, dtype=np.uint8)).shape

    def bind(self, resolve, source_shape: tuple[int, ...]) -> "Transform":
        """Resolve size expressions for one case; `resolve` maps a raw value to a concrete one."""
        return self


@dataclass(frozen=True)
class Transpose(Transform):
    """Permute axes, e.g. [1, 0] for a (out, in) vs (in, out) matrix."""

    axes: tuple[int, ...]
    kind = "transpose"

    def apply(self, array):
        self._check(array)
        return np.ascontiguousarray(np.transpose(array, self.axes))

    def invert(self, array):
        self._check(array)
        return np.ascontiguousarray(np.transpose(array, np.argsort(self.axes)))

    def _check(self, array):
        if array.ndim != len(self.axes):
            raise ValueError(f"transpose {list(self.axes)} needs a {len(self.axes)}-d array, got shape {array.shape}")


@dataclass(frozen=True)
class Reshape(Transform):
    """Reshape to `shape` (canonical -> side); the inverse restores the canonical shape it was given."""

    shape: tuple  # ints or size expressions until bound
    source_shape: tuple[int, ...] | None = None  # filled in when bound to a canonical weight
    kind = "reshape"

    def bind(self, resolve, source_shape):
        return Reshape(tuple(int(resolve(d)) for d in self.shape), tuple(source_shape))

    def apply(self, array):
        return array.reshape(self.shape)

    def invert(self, array):
        if self.source_shape is None:
            raise ValueError("reshape cannot be inverted before it is bound to a canonical shape")
        return array.reshape(self.source_shape)


@dataclass(frozen=True)
class ReorderChunks(Transform):
    """Split `axis` into len(order) equal blocks and reorder them: gate blocks (i, f, g, o) vs (i, g, f, o)."""

    axis: int
    order: tuple[int, ...]
    kind = "reorder_chunks"

    def apply(self, array):
        blocks = self._split(array)
        return np.concatenate([blocks[i] for i in self.order], axis=self.axis)

    def invert(self, array):
        blocks = self._split(array)
        restored = [None] * len(self.order)
        for position, source in enumerate(self.order):
            restored[source] = blocks[position]
        return np.concatenate(restored, axis=self.axis)

    def _split(self, array):
        n = len(self.order)
        if array.shape[self.axis] % n:
            raise ValueError(f"axis {self.axis} of shape {array.shape} does not split into {n} equal blocks")
        return np.split(array, n, axis=self.axis)


@dataclass(frozen=True)
class Chunk(Transform):
    """This canonical weight is block `index` of `of` equal blocks along `axis` of the side's parameter: a fused
    parameter (mindcv's qkv Dense) is several canonical weights (HF's query, key, value), one entry each. Applied,
    the block sits in zeros of the whole parameter's shape (the entries' blocks add up to the parameter); inverted,
    the block is sliced back out, so gradients and state return in the canonical layout."""

    axis: int
    index: int
    of: int
    kind = "chunk"

    def apply(self, array):
        shape = list(array.shape)
        self._check(shape)
        size = shape[self.axis]
        shape[self.axis] = size * self.of
        whole = np.zeros(shape, dtype=array.dtype)
        where = [slice(None)] * array.ndim
        where[self.axis] = slice(self.index * size, (self.index + 1) * size)
        whole[tuple(where)] = array
        return whole

    def invert(self, array):
        self._check(list(array.shape))
        if array.shape[self.axis] % self.of:
            raise ValueError(f"axis {self.axis} of shape {array.shape} does not split into {self.of} equal blocks")
        size = array.shape[self.axis] // self.of
        where = [slice(None)] * array.ndim
        where[self.axis] = slice(self.index * size, (self.index + 1) * size)
        return np.ascontiguousarray(array[tuple(where)])

    def _check(self, shape):
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"chunk axis {self.axis} is outside a {len(shape)}-d weight")


def apply_all(transforms, array: np.ndarray) -> np.ndarray:
    for transform in transforms:
        array = transform.apply(array)
    return array


def invert_all(transforms, array: np.ndarray) -> np.ndarray:
    for transform in reversed(transforms):
        array = transform.invert(array)
    return array
