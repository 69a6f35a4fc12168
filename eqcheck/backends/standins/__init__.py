"""Float64 stand-ins: a framework's op rebuilt from that framework's own primitives, for the error budget of an op
whose kernel refuses float64 (MindSpore's CPU RNN cells and layers).

A stand-in takes the op's constructor arguments, call arguments and parameter names, and runs in any float dtype.
The error budget runs it twice, in the case dtype and in float64, and credits the side with the stand-in's own
rounding error only if the stand-in reproduces the real kernel in the case dtype within that error
(eqcheck/verdict/attribution.py): it measures the side's rounding, never replaces the side's result.

Adding one: a class in a module here and one line in STANDINS. This file imports no framework.
"""

from __future__ import annotations

import importlib

# op path as a spec writes it -> "module:Class" of its stand-in
STANDINS: dict[str, str] = {
    "mindspore.nn.RNNCell": "eqcheck.backends.standins.mindspore_rnn:RNNCell",
    "mindspore.nn.GRUCell": "eqcheck.backends.standins.mindspore_rnn:GRUCell",
    "mindspore.nn.LSTMCell": "eqcheck.backends.standins.mindspore_rnn:LSTMCell",
    "mindspore.nn.RNN": "eqcheck.backends.standins.mindspore_rnn:RNN",
    "mindspore.nn.GRU": "eqcheck.backends.standins.mindspore_rnn:GRU",
    "mindspore.nn.LSTM": "eqcheck.backends.standins.mindspore_rnn:LSTM",
}


def standin_for(op: str):
    """The stand-in class of this op path, or None when it has none."""
    target = STANDINS.get(op)
    if target is None:
        return None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)
