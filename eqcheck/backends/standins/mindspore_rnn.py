"""MindSpore's RNN cells and layers from MindSpore primitives (matmul, sigmoid, tanh, relu), which run in float64 on
CPU where nn.RNNCell, GRUCell, LSTMCell, RNN, GRU and LSTM refuse it. Same constructor arguments, call arguments,
parameter names and gate order (torch's: r, z, n and i, f, g, o) as the originals."""

from __future__ import annotations

import numpy as np
from mindspore import Parameter, Tensor, nn, ops

_GATES = {"tanh": 1, "relu": 1, "gru": 3, "lstm": 4}


def _step(mode: str, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One time step of one direction of one layer: (h', c'); c is None except for an LSTM."""
    gi = ops.matmul(x, w_ih.T)
    gh = ops.matmul(h, w_hh.T)
    if b_ih is not None:
        gi, gh = gi + b_ih, gh + b_hh
    if mode == "tanh":
        return ops.tanh(gi + gh), None
    if mode == "relu":
        return ops.relu(gi + gh), None
    if mode == "gru":
        i_r, i_z, i_n = ops.split(gi, gi.shape[-1] // 3, -1)
        h_r, h_z, h_n = ops.split(gh, gh.shape[-1] // 3, -1)
        r = ops.sigmoid(i_r + h_r)
        z = ops.sigmoid(i_z + h_z)
        n = ops.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, None
    i, f, g, o = ops.split(gi + gh, gi.shape[-1] // 4, -1)
    c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
    return ops.sigmoid(o) * ops.tanh(c), c


def _weights(cell: nn.Cell, input_size: int, hidden_size: int, mode: str, has_bias: bool, suffix: str = "") -> None:
    rows = _GATES[mode] * hidden_size
    for name, shape in (("weight_ih", (rows, input_size)), ("weight_hh", (rows, hidden_size))) + (
            (("bias_ih", (rows,)), ("bias_hh", (rows,))) if has_bias else ()):
        setattr(cell, name + suffix, Parameter(Tensor(np.zeros(shape, np.float32)), name=name + suffix))


class _Cell(nn.Cell):
    mode = "tanh"

    def __init__(self, input_size: int, hidden_size: int, has_bias: bool = True, nonlinearity: str | None = None,
                 dtype=None):
        super().__init__()
        self.has_bias = has_bias
        if nonlinearity is not None:
            self.mode = nonlinearity
        _weights(self, input_size, hidden_size, self.mode, has_bias)

    def _gate_weights(self):
        return (self.weight_ih, self.weight_hh,
                self.bias_ih if self.has_bias else None, self.bias_hh if self.has_bias else None)

    def construct(self, x, hx):
        if self.mode == "lstm":
            h, c = _step(self.mode, x, hx[0], hx[1], *self._gate_weights())
            return h, c
        return _step(self.mode, x, hx, None, *self._gate_weights())[0]


class RNNCell(_Cell):
    def __init__(self, input_size: int, hidden_size: int, has_bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None):
        super().__init__(input_size, hidden_size, has_bias, nonlinearity)


class GRUCell(_Cell):
    mode = "gru"


class LSTMCell(_Cell):
    mode = "lstm"


class _Layers(nn.Cell):
    mode = "tanh"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, has_bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 nonlinearity: str | None = None, dtype=None):
        super().__init__()
        if dropout:
            raise ValueError("the stand-in has no dropout")  # a random mask would not be the kernel's
        if nonlinearity is not None:
            self.mode = nonlinearity
        self.num_layers, self.has_bias, self.batch_first = num_layers, has_bias, batch_first
        self.directions = ("", "_reverse") if bidirectional else ("",)
        self.hidden_size = hidden_size
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size * len(self.directions)
            for suffix in self.directions:
                _weights(self, size, hidden_size, self.mode, has_bias, f"_l{layer}{suffix}")

    def _gate_weights(self, layer: int, suffix: str):
        key = f"_l{layer}{suffix}"
        get = lambda name: getattr(self, name + key)
        return (get("weight_ih"), get("weight_hh"),
                get("bias_ih") if self.has_bias else None, get("bias_hh") if self.has_bias else None)

    def construct(self, x, hx=None, seq_length=None):
        if seq_length is not None:
            raise ValueError("the stand-in has no seq_length")
        if self.batch_first:
            x = ops.transpose(x, (1, 0, 2))
        lstm = self.mode == "lstm"
        count = self.num_layers * len(self.directions)
        if hx is None:
            zeros = ops.zeros((count, x.shape[1], self.hidden_size), x.dtype)
            hx = (zeros, zeros) if lstm else zeros
        h0, c0 = (hx[0], hx[1]) if lstm else (hx, None)
        last_h, last_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(self.directions):
                index = layer * len(self.directions) + d
                h, c = h0[index], c0[index] if lstm else None
                steps = range(x.shape[0] - 1, -1, -1) if suffix else range(x.shape[0])
                seq = [None] * x.shape[0]
                for t in steps:
                    h, c = _step(self.mode, x[t], h, c, *self._gate_weights(layer, suffix))
                    seq[t] = h
                outputs.append(ops.stack(seq))
                last_h.append(h)
                last_c.append(c)
            x = ops.cat(outputs, -1) if len(outputs) > 1 else outputs[0]
        out = ops.transpose(x, (1, 0, 2)) if self.batch_first else x
        if lstm:
            return out, (ops.stack(last_h), ops.stack(last_c))
        return out, ops.stack(last_h)


class RNN(_Layers):
    def __init__(self, *args, nonlinearity: str = "tanh", **kwargs):
        super().__init__(*args, nonlinearity=nonlinearity, **kwargs)


class GRU(_Layers):
    mode = "gru"


class LSTM(_Layers):
    mode = "lstm"

