"""The hand-written floor for bench_model.py: what a user writes without eqcheck to check the encoder port.

Build both models, copy torch's weights into the MindSpore cell by hand (weight/bias, gamma/beta), feed one
seeded input, compare the final output with allclose. No report, no layers, no gradients.
With --no-teardown it ends with os._exit, as the `eqcheck` executable does once the report is written
(torch's and MindSpore's exit handlers cost about half a second): the like-for-like floor.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("GLOG_v", "3")

import mindspore as ms
import numpy as np
import torch

from examples.models.encoder_mindspore import EncoderBlock as MsBlock
from examples.models.encoder_torch import EncoderBlock as TorchBlock

ms.set_context(mode=ms.PYNATIVE_MODE)
torch.manual_seed(0)
reference = TorchBlock().eval()
port = MsBlock()
port.set_train(False)
params = dict(port.parameters_and_names())
rename = {"weight": "gamma", "bias": "beta"}
for name, tensor in reference.state_dict().items():
    target = name if name in params else name.rsplit(".", 1)[0] + "." + rename[name.rsplit(".", 1)[1]]
    params[target].set_data(ms.Tensor(tensor.numpy()))
x = np.random.default_rng(0).normal(size=(2, 6, 16)).astype(np.float32)
with torch.no_grad():
    expected = reference(torch.from_numpy(x)).numpy()
actual = port(ms.Tensor(x)).asnumpy()
ok = np.allclose(actual, expected, rtol=1.3e-6, atol=1e-5)
print(f"max abs {np.abs(actual - expected).max():.3g}: {'ok' if ok else 'DIFFERENT'}")
sys.stdout.flush()
if "--no-teardown" in sys.argv:
    os._exit(0 if ok else 1)
sys.exit(0 if ok else 1)
