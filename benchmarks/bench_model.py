"""A whole-model `eqcheck run` beside the hand-written floor (floor_model.py), and the per-layer cost of the hooks.

1. Wall time, side by side in one run (alternating): `eqcheck run` on examples/models/encoder.yaml forward only,
   with layers (the default for model specs) and with `layers: false`, with --grad (layers both ways), and
   floor_model.py, which builds both models, copies the weights by hand and compares the final output (also
   with --no-teardown: skipping the interpreter teardown as the `eqcheck` executable does; the ratio's base).
2. In process: the forward of each side with and without the layer hooks (each recording its layer's output as
   numpy), per hooked layer and call.

Usage: .venv/bin/python benchmarks/bench_model.py [repeats]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import EQCHECK, PYTHON, ROOT, alternate, table

SPEC = ROOT / "examples" / "models" / "encoder.yaml"


def wall_times(repeats: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-model-"))
    no_layers = folder / "encoder_no_layers.yaml"
    no_layers.write_text(SPEC.read_text() + "layers: false\n")
    run = [EQCHECK, "run", "-q", "--allow-module", "examples.models"]
    commands = {
        "floor_model.py (build, copy, compare output)": [PYTHON, str(ROOT / "benchmarks" / "floor_model.py")],
        "floor_model.py --no-teardown (like-for-like)": [PYTHON, str(ROOT / "benchmarks" / "floor_model.py"), "--no-teardown"],
        "eqcheck run encoder --no-grad, layers: false": [*run, str(no_layers), "--no-grad"],
        "eqcheck run encoder --no-grad (layers)": [*run, str(SPEC), "--no-grad"],
        "eqcheck run encoder (grad + layers both ways)": [*run, str(SPEC)],
    }
    table(alternate(commands, repeats), "floor_model.py --no-teardown (like-for-like)")


def hook_overhead(calls: int = 500) -> None:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from eqcheck.backends.base import Built
    from eqcheck.backends.mindspore_pynative import MindSporePyNativeBackend
    from eqcheck.backends.torch_eager import TorchEagerBackend
    from examples.models import encoder_mindspore, encoder_torch

    x = np.random.default_rng(0).normal(size=(2, 6, 16)).astype(np.float32)
    print(f"\nper-layer hook cost, encoder block forward, {calls} calls each (median of 7 rounds)")
    print(f"{'side':<10} {'layers':>6} {'plain ms':>9} {'hooked ms':>10} {'per layer us':>13}")
    for backend, module in ((TorchEagerBackend(), encoder_torch.EncoderBlock()), (MindSporePyNativeBackend(), encoder_mindspore.EncoderBlock())):
        backend.activate()
        built = Built(fn=module, module=module)
        tensor = backend.tensor(x, "float32")
        paths = list(backend.submodules(built))

        def timed() -> float:
            started = time.perf_counter()
            for _ in range(calls):
                backend.to_numpy(backend.call(built, [tensor], {}))
            return (time.perf_counter() - started) / calls

        plain, hooked = [], []
        timed()
        for _ in range(7):
            plain.append(timed())
            watch = backend.watch(built, paths)
            hooked.append(timed())
            watch.close()
        a, b = statistics.median(plain), statistics.median(hooked)
        print(f"{backend.framework:<10} {len(paths):>6} {a * 1e3:9.3f} {b * 1e3:10.3f} {(b - a) / len(paths) * 1e6:13.1f}")


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    os.environ.setdefault("GLOG_v", "3")
    wall_times(repeats)
    hook_overhead()
    return 0


if __name__ == "__main__":
    sys.exit(main())
