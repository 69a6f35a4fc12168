"""torch values of a sample -> JSON-safe values, tensors as named arrays (kept in the entry's .npz)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def encode(value: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """A tensor becomes {"tensor": key, "shape", "dtype"}; tuples and lists keep their kind; a value JSON cannot hold
    and MindSpore could not be given (a torch.dtype, a memory format, a slice) becomes {"torch": repr}."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.layout != torch.strided or tensor.is_complex() or tensor.is_quantized:
            return {"torch": f"{tensor.layout} {tensor.dtype} tensor"}
        if tensor.dtype == torch.bfloat16 or tensor.dtype == torch.float16:
            tensor = tensor.float()
        key = f"{prefix}{len(arrays)}"
        arrays[key] = tensor.contiguous().numpy().copy()
        return {"tensor": key, "shape": list(tensor.shape), "dtype": str(arrays[key].dtype)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else {"float": repr(value)}
    if isinstance(value, (tuple, list, torch.Size)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [encode(v, arrays, prefix) for v in value]}
    return {"torch": repr(value)[:80]}
