"""Evidence for the elementwise rule (docs/verdicts.md#elementwise-kernels-in-ulps): how many float32 ulps each
framework's elementwise kernels are from the float64 result on exactly representable float32 inputs.

    python benchmarks/ulp_evidence.py [--n 200000]

For each function: inputs drawn the way a spec draws them (normal(0, 1), or uniform over the function's domain),
cast to float32 (so they are exact in every dtype), run by torch and MindSpore in float32, and compared with
torch's float64 result of the same float32 values. The distance is counted in units of the float32 spacing at the
float64 result (eqcheck.verdict.rounding.ulps). The table shows the largest and the 99.9th percentile per side.
What a threshold must do: stay above every accurate kernel (libm, SLEEF and MKL document 1-4 ulp for float32) and
far below a kernel computed at lower precision (a float16 tanh is ~8,000 ulps away).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from eqcheck.verdict.rounding import ULP_THRESHOLD, ulps

NORMAL, POSITIVE, UNIT, GE1 = (-1, 1), (0.01, 10.0), (-0.999, 0.999), (1.0, 10.0)
FUNCTIONS = [  # name, torch name, mindspore.ops name, domain (normal or uniform(low, high))
    ("tanh", "tanh", "tanh", "normal"), ("sigmoid", "sigmoid", "sigmoid", "normal"), ("exp", "exp", "exp", "normal"),
    ("expm1", "expm1", "expm1", "normal"), ("log", "log", "log", POSITIVE), ("log1p", "log1p", "log1p", POSITIVE),
    ("log2", "log2", "log2", POSITIVE), ("log10", "log10", "log10", POSITIVE), ("sqrt", "sqrt", "sqrt", POSITIVE),
    ("rsqrt", "rsqrt", "rsqrt", POSITIVE), ("reciprocal", "reciprocal", "reciprocal", POSITIVE),
    ("sin", "sin", "sin", "normal"), ("cos", "cos", "cos", "normal"), ("tan", "tan", "tan", UNIT),
    ("asin", "asin", "asin", UNIT), ("acos", "acos", "acos", UNIT), ("atan", "atan", "atan", "normal"),
    ("sinh", "sinh", "sinh", "normal"), ("cosh", "cosh", "cosh", "normal"), ("asinh", "asinh", "asinh", "normal"),
    ("acosh", "acosh", "acosh", GE1), ("atanh", "atanh", "atanh", UNIT), ("erf", "erf", "erf", "normal"),
    ("erfc", "erfc", "erfc", "normal"), ("erfinv", "erfinv", "erfinv", UNIT), ("lgamma", "lgamma", "lgamma", POSITIVE),
    ("digamma", "digamma", "digamma", POSITIVE), ("softplus", "nn.functional.softplus", "softplus", "normal"),
    ("silu", "nn.functional.silu", "silu", "normal"), ("mish", "nn.functional.mish", "mish", "normal"),
    ("elu", "nn.functional.elu", "elu", "normal"), ("logsigmoid", "nn.functional.logsigmoid", "logsigmoid", "normal"),
    ("softsign", "nn.functional.softsign", "softsign", "normal"), ("sinc", "sinc", "sinc", "normal"),
]


def _resolve(root, dotted: str):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    n = parser.parse_args().n
    import mindspore
    import torch

    rng = np.random.default_rng(0)
    print(f"threshold: {ULP_THRESHOLD} ulps; n = {n} inputs per function; torch {torch.__version__}, "
          f"MindSpore {mindspore.__version__}")
    print(f"{'function':12} {'torch max':>10} {'p99.9':>7} {'mindspore max':>14} {'p99.9':>7}")
    worst = {"torch": 0.0, "mindspore": 0.0}
    for name, torch_name, ms_name, domain in FUNCTIONS:
        x = rng.normal(0, 1, n) if domain == "normal" else rng.uniform(*domain, n)
        x32 = x.astype(np.float32)
        truth = _resolve(torch, torch_name)(torch.from_numpy(x32.astype(np.float64))).numpy()
        t32 = _resolve(torch, torch_name)(torch.from_numpy(x32)).numpy()
        try:
            m32 = _resolve(mindspore.ops, ms_name)(mindspore.Tensor(x32)).asnumpy()
        except Exception as exc:  # noqa: BLE001 - a missing kernel is a row, not the end of the table
            m32, missing = None, type(exc).__name__
        row = [name]
        for label, side in (("torch", t32), ("mindspore", m32)):
            if side is None:
                row += [f"({missing})", ""]
                continue
            u = ulps(side, truth, "float32")
            u = u[np.isfinite(u)]
            worst[label] = max(worst[label], float(u.max()))
            row += [f"{u.max():.0f}", f"{np.quantile(u, 0.999):.1f}"]
        print(f"{row[0]:12} {row[1]:>10} {row[2]:>7} {row[3]:>14} {row[4]:>7}")
    # A kernel computed in float16 (a realistic precision bug): how far it lands.
    x32 = rng.normal(0, 1, n).astype(np.float32)
    truth = torch.tanh(torch.from_numpy(x32.astype(np.float64))).numpy()
    half = torch.tanh(torch.from_numpy(x32).half()).float().numpy()
    print(f"planted: tanh computed in float16: {ulps(half, truth, 'float32').max():.0f} ulps")


if __name__ == "__main__":
    main()
