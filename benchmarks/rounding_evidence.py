"""The evidence behind the float64 stand-ins (docs/verdicts.md#float64-stand-ins): are the small RNN-family and
conv3d deviations of `eqcheck run configs --edges --grad` MindSpore's float32 rounding, or another function?

    python benchmarks/rounding_evidence.py

1. nn.RNNCell at saturated inputs: MindSpore's kernel (M32) against the same cell composed of MindSpore
   primitives in float32 (C32) and float64 (C64), and torch in float32/float64. Rounding: M32 ~ C32, C64 ~ T64,
   and |C32 - C64| explains |T32 - M32|.
2. Conv3d's bias gradient is the cotangent's sum over N, D, H, W: MindSpore's kernel against the exact float64 sum
   and float32 sums in a known order (sequential, pairwise).
The inputs, weights and cotangents are the case's own, from `eqcheck repro` bundles written to a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RNN = ("nn.RNNCell[bias=True,nonlinearity=tanh,float32,edge=kink]", "configs/recurrent/RNNCell.yaml")
CONV = ("accumulation.conv3d_weight_grad[float32,edge=int]", "configs/accumulation/conv3d_weight_grad.yaml")
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def bundle(case_id: str, spec: str, folder: Path) -> dict[str, np.ndarray]:
    subprocess.run([sys.executable, "-m", "eqcheck", "repro", case_id, spec, "--grad", "-o", str(folder)],
                   cwd=ROOT, check=True, capture_output=True)
    with np.load(folder / "case.npz") as data:
        return {k: data[k] for k in data.files}


def gap(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def rnn_cell(d: dict[str, np.ndarray]) -> None:
    import mindspore as ms
    import torch
    from mindspore import Tensor, nn, ops

    x, h, cot = d["input/input"], d["input/hx"], d["cotangent/0"]
    w = {k: d[f"torch/param/{k}"] for k in NAMES}

    def torch_rows(dtype):
        m = torch.nn.RNNCell(x.shape[1], h.shape[1]).to(dtype)
        with torch.no_grad():
            for k, v in w.items():
                getattr(m, k).copy_(torch.tensor(v))
        y = m(torch.tensor(x, dtype=dtype), torch.tensor(h, dtype=dtype))
        y.backward(torch.tensor(cot, dtype=dtype))
        return {"out": y.detach().numpy(), **{f"grad:{k}": getattr(m, k).grad.numpy() for k in NAMES}}

    def kernel_rows():
        m = nn.RNNCell(x.shape[1], h.shape[1])
        for k, v in w.items():
            getattr(m, k).set_data(Tensor(v.astype(np.float32)))
        xi, hi, c = Tensor(x, ms.float32), Tensor(h, ms.float32), Tensor(cot, ms.float32)
        grads = ms.grad(lambda a, b: (m(a, b) * c).sum(), grad_position=None, weights=[getattr(m, k) for k in NAMES])(xi, hi)
        return {"out": m(xi, hi).asnumpy(), **{f"grad:{k}": g.asnumpy() for k, g in zip(NAMES, grads)}}

    def composed_rows(dtype):
        xi, hi, c = Tensor(x, dtype), Tensor(h, dtype), Tensor(cot, dtype)
        cell = lambda wih, whh, bih, bhh: ops.tanh(ops.matmul(xi, wih.T) + bih + ops.matmul(hi, whh.T) + bhh)
        ws = [Tensor(w[k], dtype) for k in NAMES]
        grads = ms.grad(lambda *a: (cell(*a) * c).sum(), grad_position=(0, 1, 2, 3))(*ws)
        return {"out": cell(*ws).asnumpy(), **{f"grad:{k}": g.asnumpy() for k, g in zip(NAMES, grads)}}

    t32, t64, m32 = torch_rows(torch.float32), torch_rows(torch.float64), kernel_rows()
    c32, c64 = composed_rows(ms.float32), composed_rows(ms.float64)
    print(f"\n{RNN[0]}: MindSpore kernel M, MindSpore primitives composed C, torch T")
    print(f"{'row':16} {'|T32-M32|':>10} {'|T32-T64|':>10} {'|M32-C32|':>10} {'|C32-C64|':>10} {'|C64-T64|':>10}")
    for row in t32:
        print(f"{row:16} {gap(t32[row], m32[row]):10.2e} {gap(t32[row], t64[row]):10.2e} {gap(m32[row], c32[row]):10.2e} "
              f"{gap(c32[row], c64[row]):10.2e} {gap(c64[row], t64[row]):10.2e}")


def conv3d_bias(d: dict[str, np.ndarray]) -> None:
    import mindspore as ms
    import torch
    from mindspore import Tensor, nn

    x, cot, w, b = d["input/input"], d["cotangent/0"], d["torch/param/weight"], d["torch/param/bias"]
    m = nn.Conv3d(x.shape[1], w.shape[0], w.shape[2], pad_mode="pad", padding=1, has_bias=True)
    m.weight.set_data(Tensor(w.astype(np.float32)))
    m.bias.set_data(Tensor(b.astype(np.float32)))
    kernel = ms.grad(lambda a: (m(a) * Tensor(cot.astype(np.float32))).sum(), grad_position=None, weights=[m.bias])(
        Tensor(x.astype(np.float32)))[0].asnumpy()
    t = torch.nn.Conv3d(x.shape[1], w.shape[0], w.shape[2], padding=1)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.copy_(torch.tensor(b))
    t(torch.tensor(x, dtype=torch.float32)).backward(torch.tensor(cot, dtype=torch.float32))
    exact = cot.astype(np.float64).sum(axis=(0, 2, 3, 4))
    c32 = cot.astype(np.float32)
    sequential = np.array([np.cumsum(c32[:, o].ravel(), dtype=np.float32)[-1] for o in range(c32.shape[1])])
    terms = c32.size // c32.shape[1]
    print(f"\n{CONV[0]} grad:bias = the cotangent summed over {terms} terms per channel; distance to the exact sum:")
    for name, value in (("torch float32", t.bias.grad.numpy()), ("MindSpore kernel float32", kernel),
                        ("sequential float32 sum", sequential), ("pairwise float32 sum", c32.sum(axis=(0, 2, 3, 4)))):
        print(f"  {name:26} {gap(value, exact):.2e}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rnn_cell(bundle(*RNN, Path(tmp) / "rnn"))
        conv3d_bias(bundle(*CONV, Path(tmp) / "conv"))


if __name__ == "__main__":
    main()
