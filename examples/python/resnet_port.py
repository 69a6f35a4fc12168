"""eqcheck from Python on a real model pair: Hugging Face transformers' ResNet-18 (torch) against mindcv's resnet18
(MindSpore), both built from their configs (nothing downloaded), compared on a batch read from a file.

Run from the repository root (needs the `ports` extra): python examples/python/resnet_port.py
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `examples` is importable

import numpy as np
import torch

import eqcheck
from eqcheck.testing import assert_equivalent
from examples.ports.hf_torch import resnet as hf_resnet
from examples.ports.mindcv_mindspore import resnet as mindcv_resnet

torch.manual_seed(0)
model = hf_resnet("resnet18", num_classes=10)  # the torch model; its weights are the shared set
port = mindcv_resnet("resnet18", num_classes=10)  # mindcv as shipped

batch = Path(tempfile.mkdtemp()) / "batch.npz"  # stands for the batch you already have on disk
np.savez(batch, pixel_values=np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32))
images = np.load(batch)["pixel_values"]

# HF returns an ImageClassifierOutputWithNoAttention: compare its logits with the cell's output
report = eqcheck.compare(model, port, images, output={"torch": "logits"})
print(repr(report))
print("first layer to deviate:", report.first_divergent)
print(report.cases[0]["outputs"][0]["max_abs"], "max |torch - mindspore| on the logits")

# the one-line faithful port: torch's stem padding; gradients too, as an assertion (it raises if anything deviates)
fixed = mindcv_resnet("resnet18", num_classes=10, torch_pool=True)
report = assert_equivalent(model, fixed, images, output={"torch": "logits"}, grad=True)
print(repr(report))
report.to_html(Path(tempfile.mkdtemp()) / "resnet18.html")
