"""PyTorch with `torch.compile`, on CPU or CUDA.

The default compiler is inductor, which generates C++ on CPU (gcc is needed; the first call of a case
compiles: ~2-16 s here, cached on disk across runs). `EQCHECK_TORCH_COMPILE_BACKEND=aot_eager` selects
AOTAutograd without code generation (traces and runs the same ATen graph eagerly: fast, but it tests the
tracing, not inductor's kernels). Dynamo's caches are reset per case so its recompile limit can never make
a case fall back to eager silently; `fullgraph` stays off so graph breaks are allowed, as in user code.
"""

from __future__ import annotations

import os

from eqcheck.backends.base import Built
from eqcheck.backends.torch_eager import TorchEagerBackend

COMPILER_ENV = "EQCHECK_TORCH_COMPILE_BACKEND"


class TorchCompileBackend(TorchEagerBackend):
    target = "torch-compile"

    def activate(self) -> None:
        super().activate()
        self.compiler = os.environ.get(COMPILER_ENV, "inductor")

    def build(self, obj, init_args, dtype, train, seed) -> Built:
        built = super().build(obj, init_args, dtype, train, seed)
        self.torch._dynamo.reset()
        built.compiled = self.torch.compile(built.fn, backend=self.compiler, dynamic=False)
        return built

    def invoke(self, built, args, kwargs):
        return built.compiled(*args, **kwargs)

    def versions(self) -> dict[str, str]:
        return {"torch": self.torch.__version__, "torch.compile": self.compiler}
