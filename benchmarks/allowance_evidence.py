"""Evidence for the structural rounding bound (docs/verdicts.md#every-side-brings-its-rounding): does
gamma_n * sum|t| (eqcheck/verdict/rounding.py) cover what MindSpore's float32 multilinear kernels really do, on
any summation order, and how far above it do planted bugs land?

    python benchmarks/allowance_evidence.py

For each computation, at a realistic scale (Hugging Face-style N(0, 0.02) weights, or randn like a bug report):
the exact result is torch's float64 run of the same float32 values; `bound` = allowance(op on |x|,|w| in float64,
op on ones); the table prints max(|side - exact| / bound) for torch and MindSpore float32 (<= 1 always: the bound
is rigorous), and max(|MindSpore - torch| / (torch's own error + bound)) for planted bugs (> 1 fails).
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from eqcheck.verdict.rounding import allowance


def main() -> None:
    import mindspore
    import torch
    from mindspore import nn as msnn
    from mindspore import ops

    rng = np.random.default_rng(0)
    f32 = lambda shape, std=1.0: (rng.normal(0, std, shape)).astype(np.float32)
    T = lambda a, dtype=torch.float64: torch.tensor(a, dtype=dtype)

    def conv(x, w, dtype, padding=1, stride=1):
        return torch.nn.functional.conv2d(T(x, dtype), T(w, dtype), padding=padding, stride=stride).numpy()

    def ms_conv(x, w, padding=1, stride=1):
        cell = msnn.Conv2d(w.shape[1], w.shape[0], w.shape[2], stride=stride, pad_mode="pad", padding=padding,
                           has_bias=False, weight_init=mindspore.Tensor(w))
        return cell(mindspore.Tensor(x)).asnumpy()

    def ms_conv_weight_grad(x, w, cot, padding=1):
        cell = msnn.Conv2d(w.shape[1], w.shape[0], w.shape[2], pad_mode="pad", padding=padding, has_bias=False,
                           weight_init=mindspore.Tensor(w))
        fn = mindspore.value_and_grad(lambda inp: (cell(inp) * mindspore.Tensor(cot)).sum(), None,
                                      cell.trainable_params())
        return fn(mindspore.Tensor(x))[1][0].asnumpy()

    def torch_conv_weight_grad(x, w, cot, dtype, padding=1):
        wt = T(w, dtype).requires_grad_()
        (torch.nn.functional.conv2d(T(x, dtype), wt, padding=padding) * T(cot, dtype)).sum().backward()
        return wt.grad.numpy()

    rows = []

    def report(name, exact, absolute, counts, torch32, ms32, planted=None):
        bound = allowance(absolute, counts, "float32")
        ratio = lambda side: float(np.max(np.abs(side.astype(np.float64) - exact) / bound))
        own = np.abs(torch32.astype(np.float64) - exact)
        line = [name, int(np.max(counts)), ratio(torch32), ratio(ms32)]
        for label, bug in (planted or {}).items():
            dev = np.abs(bug.astype(np.float64) - torch32.astype(np.float64))
            line.append(f"{label}: {float(np.max(dev / (own + bound))):.3g}x")
        rows.append(line)

    # 1. mindspore-ai/mindspore#345: Conv2D 1x384x13x13 * 256x384x3x3, randn weights.
    x, w = f32((1, 384, 13, 13)), f32((256, 384, 3, 3))
    exact = conv(x, w, torch.float64)
    report("conv2d #345 (randn)", exact, conv(np.abs(x), np.abs(w), torch.float64),
           conv(np.ones_like(x), np.ones_like(w), torch.float64), conv(x, w, torch.float32), ms_conv(x, w),
           {"padding off by one": ms_conv(x, w, padding=(0, 2, 1, 1)),
            "weight x (1 + 1e-4)": ms_conv(x, (w * np.float32(1 + 1e-4)).astype(np.float32)),
            "one input channel dropped": ms_conv(x * (np.arange(384) != 7)[None, :, None, None].astype(np.float32), w)})
    # 2. A ResNet stage conv at Hugging Face's initialisation scale: 64 -> 64, 3x3, 28x28, batch 4.
    x, w = np.maximum(f32((4, 64, 28, 28)), 0), f32((64, 64, 3, 3), 0.02)
    exact = conv(x, w, torch.float64)
    report("resnet conv 64x3x3 (std 0.02)", exact, conv(np.abs(x), np.abs(w), torch.float64),
           conv(np.ones_like(x), np.ones_like(w), torch.float64), conv(x, w, torch.float32), ms_conv(x, w),
           {"padding off by one": ms_conv(x, w, padding=(0, 2, 1, 1))})
    # 3. Its weight gradient: 4 x 28 x 28 = 3,136 products per element.
    cot = f32((4, 64, 28, 28), 1e-3)
    exact = torch_conv_weight_grad(x, w, cot, torch.float64)
    report("resnet conv weight gradient", exact, torch_conv_weight_grad(np.abs(x), w, np.abs(cot), torch.float64),
           torch_conv_weight_grad(np.ones_like(x), w, np.ones_like(cot), torch.float64),
           torch_conv_weight_grad(x, w, cot, torch.float32), ms_conv_weight_grad(x, w, cot),
           {"cotangent shifted by a row": ms_conv_weight_grad(x, w, np.roll(cot, 1, axis=2))})
    # 4. A transformer projection: (8, 128, 768) @ (768, 3072), std 0.02.
    x, w = f32((8, 128, 768)), f32((3072, 768), 0.02)
    exact = T(x).matmul(T(w).T).numpy()
    ms = ops.matmul(mindspore.Tensor(x), mindspore.Tensor(w).T).asnumpy()
    report("dense 768 -> 3072", exact, T(np.abs(x)).matmul(T(np.abs(w)).T).numpy(),
           T(np.ones_like(x)).matmul(T(np.ones_like(w)).T).numpy(), T(x, torch.float32).matmul(T(w, torch.float32).T).numpy(),
           ms, {"weight transposed block": ops.matmul(mindspore.Tensor(x), mindspore.Tensor(
               np.concatenate([w[:, :384][::-1], w[:, 384:]], axis=1)).T).asnumpy()})
    # 5. A long sequential sum: 65,536 positive terms (MindSpore's ReduceSum against torch's pairwise sum).
    x = np.abs(f32((65536,)))
    exact = np.array([x.astype(np.float64).sum()])
    report("sum of 65,536 |randn|", exact, exact, np.array([65536.0]),
           np.array([torch.tensor(x).sum().item()], np.float32), np.array([ops.sum(mindspore.Tensor(x)).asnumpy()]))

    print(f"{'computation':32} {'max n':>7} {'torch err/bound':>16} {'mindspore err/bound':>20}  planted bug: deviation / "
          f"(torch's own error + bound)")
    for name, n, t, m, *planted in rows:
        print(f"{name:32} {n:7d} {t:16.2e} {m:20.2e}  {'; '.join(planted) or '-'}")


if __name__ == "__main__":
    main()
