"""MindSpore RNN cells with a planted bug the size of the rounding the error budget forgives (tests/test_standins.py).
Like MindSpore's CPU nn.RNNCell they refuse float64, so only the float64 stand-in can measure their rounding.
Imported as ops with EQCHECK_ALLOWED_PREFIXES including `tests.`."""

import mindspore as ms
import torch
from mindspore import nn, ops


class _Float32Only(nn.RNNCell):
    def pre_activation(self, x, hx, w_hh):
        if x.dtype == ms.float64:
            raise TypeError("For 'RNNCell', the 'x' should be one of [mindspore.float32, mindspore.float16]")
        return ops.matmul(x, self.weight_ih.T) + self.bias_ih + ops.matmul(hx, w_hh.T) + self.bias_hh


class PerturbedRNNCell(_Float32Only):
    """weight_hh scaled by 1 + 1e-4 inside the kernel (about 840 float32 ulps)."""

    def construct(self, x, hx):
        return ops.tanh(self.pre_activation(x, hx, self.weight_hh * (1 + 1e-4)))


class HalfTanhRNNCell(_Float32Only):
    """The tanh gate computed in float16."""

    def construct(self, x, hx):
        return ops.tanh(self.pre_activation(x, hx, self.weight_hh).astype(ms.float16)).astype(x.dtype)


class HonestRNNCell(_Float32Only):
    """No bug: the same cell, to show the planted ones fail for their bug and not for being custom."""

    def construct(self, x, hx):
        return ops.tanh(self.pre_activation(x, hx, self.weight_hh))


TorchRNNCell = torch.nn.RNNCell  # the torch side of a model spec naming this module
