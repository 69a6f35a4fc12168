"""MindSpore graph mode (static graph compilation), on CPU or GPU.

MindSpore's execution mode is process-global (`set_context(mode=GRAPH_MODE)`), so a run comparing
`mindspore` with `mindspore-graph` cannot switch the context back and forth. Instead each built cell or
function is wrapped with `mindspore.jit`, which compiles it into a static graph while the process stays
in PyNative mode: the same graph compiler GRAPH_MODE uses, one compilation per case (the first call,
~0.1-0.25 s here), and gradients flow through the compiled graph. Weights are Parameters captured by the
graph, so loading new values after the wrap is seen by later calls.
"""

from __future__ import annotations

from eqcheck.backends.base import Built
from eqcheck.backends.mindspore_pynative import MindSporePyNativeBackend


class MindSporeGraphBackend(MindSporePyNativeBackend):
    target = "mindspore-graph"

    def build(self, obj, init_args, dtype, train, seed) -> Built:
        built = super().build(obj, init_args, dtype, train, seed)
        op = built.fn

        def graph(*args, **kwargs):  # a named def: mindspore.jit parses source and refuses inline lambdas
            return op(*args, **kwargs)

        built.compiled = self.ms.jit(graph)
        return built

    def invoke(self, built, args, kwargs):
        # jit treats tuple arguments as compile-time constants (no gradient flows into them) unless they
        # are marked mutable: LSTM's (h0, c0) state came back with zero gradients without this.
        args = [self.ms.mutable(a) if isinstance(a, tuple) else a for a in args]
        return built.compiled(*args, **kwargs)
