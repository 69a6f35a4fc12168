"""--boundary layouts: a shared input's values, identical on both sides, laid out in memory another way.

`noncontig`: every other element of a buffer twice as long along the last axis (a strided view);
`channels_last`: a 4-d (5-d) input stored NHWC (NDHWC) and viewed as NCHW (NCDHW), torch's channels_last strides.
The view is taken on the framework's own tensor (basic slicing and `permute`, which torch and MindSpore tensors both
have): a numpy view would not survive, both backends copy their array to a contiguous one first.
"""

from __future__ import annotations

import numpy as np

LAYOUTS = ("noncontig", "channels_last")


def place(backend, array: np.ndarray, dtype: str, layout: str | None):
    """`backend`'s tensor holding `array`'s values in `layout` (the plain tensor where the layout does not apply)."""
    if layout == "noncontig" and array.ndim >= 1 and array.size:
        wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
        wide[..., ::2] = array
        return backend.tensor(wide, dtype)[..., ::2]
    if layout == "channels_last" and array.ndim in (4, 5) and array.size:
        storage = (0, *range(2, array.ndim), 1)  # NCHW -> NHWC
        inverse = tuple(int(i) for i in np.argsort(storage))
        return backend.tensor(np.ascontiguousarray(array.transpose(storage)), dtype).permute(*inverse)
    return backend.tensor(array, dtype)
