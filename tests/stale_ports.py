"""A torch op and a MindSpore 'port' of it that never writes its output's last row (tests/test_boundary.py).

The port takes its output buffer from RECYCLED, as a caching allocator would hand out the memory of the previous
call; on a fresh pool that buffer is zeros, which is what the torch side writes there, so the plain case passes by
luck. Imported as a model factory (--allow-module tests.stale_ports)."""

import numpy as np
import torch
from mindspore import Tensor, nn

RECYCLED: list[np.ndarray] = []  # the previous call's input memory, handed out again


class ZeroLastRow(torch.nn.Module):
    def forward(self, x):
        out = x.clone()
        out[-1] = 0
        return out


class UnwrittenLastRow(nn.Cell):
    def construct(self, x):
        values = x.asnumpy()
        out = RECYCLED.pop() if RECYCLED and RECYCLED[-1].shape == values.shape else np.zeros_like(values)
        out[:-1] = values[:-1]  # the last row is never written
        RECYCLED.append(values.copy())
        return Tensor(out)
