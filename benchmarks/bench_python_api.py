"""eqcheck.compare against `eqcheck run` on the same comparison: the example CNN pair (examples/models), grad on, the
torch module's weights shared, every layer compared. compare(save_spec=...) writes the spec the CLI runs, so both
sides compute the same numbers (checked below).

Two measurements, side by side in one run:
- end to end, as subprocesses (each imports torch and MindSpore): `eqcheck run SPEC -j 0` vs a script that builds
  the two models and calls eqcheck.compare (also ending in os._exit, as the CLI does, to show where the difference
  is); `eqcheck run` with its default worker vs compare(isolated=True);
- in one warm process: compare() on the objects vs the CLI's own path on the saved spec (load the spec, the in-process
  executor, the report document), so the difference is what the API adds (its spec mapping, the .npz it writes, the
  deep copies) and nothing else.

Usage: .venv/bin/python benchmarks/bench_python_api.py [repeats]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import EQCHECK, PYTHON, ROOT, alternate

SCRIPT = '''import os, sys
os.environ.setdefault("GLOG_v", "3")
sys.path.insert(0, {root!r})
import numpy as np, torch
import eqcheck
from examples.models.cnn_mindspore import SmallCNN as CellCNN
from examples.models.cnn_torch import SmallCNN as TorchCNN
torch.manual_seed(4)
x = np.load({inputs!r})["x"]
report = eqcheck.compare(TorchCNN(), CellCNN(), x, grad=True, isolated={isolated})
{leave}(0 if report.passed else 1)
'''


def build(folder: Path):
    """The models, the input batch and the saved spec (compare(save_spec=...)); the in-process report for the check."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("GLOG_v", "3")
    import numpy as np
    import torch

    import eqcheck
    from examples.models.cnn_mindspore import SmallCNN as CellCNN
    from examples.models.cnn_torch import SmallCNN as TorchCNN

    torch.manual_seed(4)
    module, cell = TorchCNN(), CellCNN()
    x = np.random.default_rng(0).normal(size=(8, 3, 16, 16)).astype(np.float32)
    report = eqcheck.compare(module, cell, x, grad=True, save_spec=folder / "cnn.yaml")
    return module, cell, x, report


def cli_path(spec: Path):
    """What `eqcheck run SPEC -j 0 --json` does between its imports and its exit: load, run, build the document."""
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases.sweep import expand, load_spec
    from eqcheck.execution.executor import InProcessExecutor
    from eqcheck.execution.runner import CaseRunner
    from eqcheck.execution.settings import RunSettings
    from eqcheck.report import document as doc

    started = time.perf_counter()
    settings = RunSettings(paths=(str(spec),), seed=20240611, targets=tuple(parse_targets("torch,mindspore", "cpu")), jobs=0)
    cases = settings.apply(expand(load_spec(spec)))
    executor = InProcessExecutor(CaseRunner(list(settings.targets), seed=settings.seed))
    executor.start(cases)
    results = list(executor.run(cases))
    return doc.build_document(results, environment=executor.environment(), seed=settings.seed, settings=settings.report(),
                              wall_time_s=time.perf_counter() - started)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    folder = Path(tempfile.mkdtemp(prefix="eqcheck-bench-api-"))
    os.environ["EQCHECK_ALLOWED_MODULES"] = "examples.models"  # the CLI side's --allow-module, for the in-process path too
    module, cell, x, report = build(folder)
    spec = folder / "cnn.yaml"
    import eqcheck

    same = {(c["id"], o["name"]): o["max_abs"] for c in cli_path(spec)["cases"] for o in c["outputs"]} == \
           {(c["id"], o["name"]): o["max_abs"] for c in report.cases for o in c["outputs"]}
    print(f"the same comparison: compare() and the saved spec give identical rows: {same}")

    rounds = 5 * repeats
    api, cli = [], []
    for _ in range(rounds + 1):  # alternating; the first round warms both paths
        started = time.perf_counter()
        eqcheck.compare(module, cell, x, grad=True)
        api.append(time.perf_counter() - started)
        started = time.perf_counter()
        cli_path(spec)
        cli.append(time.perf_counter() - started)
    print(f"\nin one warm process ({rounds} alternating rounds; this machine's load moves single rounds, so min and median):")
    for stat in (min, statistics.median):
        api_ms, cli_ms = stat(api[1:]) * 1e3, stat(cli[1:]) * 1e3
        print(f"  {stat.__name__:>6}: compare() {api_ms:.1f} ms, the CLI's path on the saved spec {cli_ms:.1f} ms: "
              f"the API adds {api_ms - cli_ms:+.1f} ms ({api_ms / cli_ms:.2f}x)")

    for isolated, leave in ((False, "sys.exit"), (True, "sys.exit"), (False, "os._exit")):
        (folder / f"api_{isolated}_{leave}.py").write_text(SCRIPT.format(root=str(ROOT), inputs=str(folder / "cnn.inputs.npz"),
                                                                          isolated=isolated, leave=leave))
    commands = {
        "eqcheck run SPEC -j 0": [EQCHECK, "run", str(spec), "--allow-module", "examples.models", "-j", "0", "--grad", "-q"],
        "python script: eqcheck.compare(...)": [PYTHON, str(folder / "api_False_sys.exit.py")],
        "eqcheck run SPEC (one worker)": [EQCHECK, "run", str(spec), "--allow-module", "examples.models", "--grad", "-q"],
        "python script: compare(isolated=True)": [PYTHON, str(folder / "api_True_sys.exit.py")],
        "  the same script ending in os._exit": [PYTHON, str(folder / "api_False_os._exit.py")],
    }
    times = alternate(commands, repeats)
    print(f"\nend to end, subprocesses ({repeats} alternating rounds after a warm-up, wall seconds, min / median):")
    names = list(commands)
    for base, other in ((names[0], names[1]), (names[2], names[3]), (names[0], names[4])):
        for name in (base, other):
            low, mid = min(times[name]), statistics.median(times[name])
            extra = f"   ({low - min(times[base]):+.3f} s / {mid - statistics.median(times[base]):+.3f} s)" if name == other else ""
            print(f"  {name:<40} {low:7.3f} / {mid:7.3f}{extra}")
    print("  (the os._exit row: the same script skipping its interpreter teardown with torch and MindSpore loaded, as "
          "`eqcheck` does once its report is written)")


if __name__ == "__main__":
    main()
