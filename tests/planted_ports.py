"""MindSpore ports of the examples with one planted bug each, in one layer: tests/test_models.py asserts that
eqcheck names exactly that layer first. Imported as a model factory (--allow-module tests.planted_ports)."""

from mindspore import nn, ops

from examples.models.cnn_mindspore import SmallCNN
from examples.models.encoder_mindspore import EncoderBlock


class EncoderLayerNormEpsilon(EncoderBlock):
    """ln2 keeps MindSpore's default epsilon (1e-7; torch's is 1e-5)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ln2 = nn.LayerNorm((16,))


class EncoderGeluTanh(EncoderBlock):
    """ffn.act keeps MindSpore's default GELU, the tanh approximation (torch's default is the exact erf form)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ffn.act = nn.GELU()


class TransposedDense(nn.Dense):
    """x @ W instead of x @ W.T: loads without complaint when W is square."""

    def construct(self, x):
        return ops.matmul(x, self.weight) + self.bias


class EncoderTransposedDense(EncoderBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attn.o = TransposedDense(16, 16)


class StraightThroughGelu(nn.Cell):
    """Forward: GELU (up to one rounding). Backward: identity, as if a stop_gradient were left in the port."""

    def __init__(self):
        super().__init__()
        self.gelu = nn.GELU(approximate=False)

    def construct(self, x):
        return x + ops.stop_gradient(self.gelu(x) - x)


class EncoderGradientOnly(EncoderBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ffn.act = StraightThroughGelu()


class CNNTrainingBatchNorm(SmallCNN):
    """bn2 normalizes with the batch's statistics in eval mode, as if set_train(False) never reached it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bn2 = nn.BatchNorm2d(16, momentum=0.9, use_batch_statistics=True)


class CNNRenamedHead(SmallCNN):
    """The classifier is called `head` here (`fc` in torch): the name pass cannot pair it, order and shape can."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        del self.fc
        self.head = nn.Dense(16, 10)

    def construct(self, x):
        x = self.pool(self.act1(self.bn1(self.conv1(x))))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.head(ops.mean(x, axis=(2, 3)))


class CNNConvWithoutBias(SmallCNN):
    """conv2 kept MindSpore's has_bias=False default: torch's conv2.bias has nothing to load into."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv2 = nn.Conv2d(8, 16, 3, pad_mode="pad", padding=1)


# ---- torch sides that stress the hooks (not bugs: their results equal the examples') ---------------------------

import torch  # noqa: E402

from examples.models import cnn_torch  # noqa: E402


class TorchCNNInplaceReLU(cnn_torch.SmallCNN):
    """nn.ReLU(inplace=True), as torchvision builds them: full backward hooks refuse it unless run out of place."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.act1 = torch.nn.ReLU(inplace=True)
        self.act2 = torch.nn.ReLU(inplace=True)


class TorchCNNFunctionalInplace(cnn_torch.SmallCNN):
    """An in-place op inside forward() on a hooked layer's output: torch refuses full backward hooks; tensor hooks take over."""

    def forward(self, x):
        x = self.pool(torch.relu_(self.bn1(self.conv1(x))))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.fc(torch.mean(x, dim=(2, 3)))


class CNNBatchNormMomentum(SmallCNN):
    """bn2 written with torch's momentum (0.1), which MindSpore reads the other way round (its 0.9 is torch's 0.1):
    in train mode the outputs agree (batch statistics) and only bn2's running statistics differ."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bn2 = nn.BatchNorm2d(16, momentum=0.1)


class CNNStopGradient(SmallCNN):
    """act1 stops the gradient: the forward agrees, and nothing flows back into act1's input."""

    def construct(self, x):
        x = self.pool(ops.stop_gradient(self.act1(self.bn1(self.conv1(x)))))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.fc(ops.mean(x, (2, 3)))


class TorchCNNTransientBuffer(cnn_torch.SmallCNN):
    """A buffer registered with persistent=False (as Hugging Face keeps position ids): not in the state_dict."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.register_buffer("channel_ids", torch.arange(3), persistent=False)


class TorchCNNWithFeatures(cnn_torch.SmallCNN):
    """Returns (logits, pooled features), as model outputs often carry more than the tensor a port returns."""

    def forward(self, x):
        features = torch.mean(self.act2(self.bn2(self.conv2(self.pool(self.act1(self.bn1(self.conv1(x))))))), dim=(2, 3))
        return self.fc(features), features


def torch_cnn_that_raises(**kwargs):
    """A factory whose own code fails, as a model built from a bad config does."""
    raise ValueError("hidden_sizes must have 4 entries, got 3")


def cnn_that_patches_mindspore(**kwargs):
    """Builds the example port, then patches MindSpore globally, as mindnlp 0.3 does (nn.BatchNorm2d = BatchNorm1d):
    any later spec built in the same process gets the wrong class."""
    cell = SmallCNN(**kwargs)
    nn.BatchNorm2d = nn.BatchNorm1d
    return cell


class ReLUWithWrongBprop(nn.Cell):
    """Forward: ReLU. A hand-written bprop that forgets the mask: the gradient of a negative input flows through."""

    def construct(self, x):
        return ops.relu(x)

    def bprop(self, x, out, dout):
        return (dout,)


class CNNWrongBprop(SmallCNN):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.act2 = ReLUWithWrongBprop()


class CNNBatchOfOne(SmallCNN):
    """Flattens with a batch size written in (`reshape(1, -1)`): a batch of 2 fails inside construct."""

    def construct(self, x):
        x = self.pool(self.act1(self.bn1(self.conv1(x))))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.fc(ops.mean(x, axis=(2, 3)).reshape(1, -1))


class TorchProjections(torch.nn.Module):
    """Two blocks of separate query, key, value projections (HF's layout)."""

    def __init__(self, dim: int = 4):
        super().__init__()
        self.layer = torch.nn.ModuleList(torch.nn.ModuleDict({k: torch.nn.Linear(dim, dim) for k in ("query", "key", "value")})
                                         for _ in range(2))

    def forward(self, x):
        for block in self.layer:
            x = torch.tanh(block["query"](x) * block["key"](x) + block["value"](x))
        return x


class _Fused(nn.Cell):
    def __init__(self, dim: int):
        super().__init__()
        self.qkv = nn.Dense(dim, 3 * dim)

    def construct(self, x):
        q, k, v = ops.split(self.qkv(x), x.shape[-1], axis=-1)
        return ops.tanh(q * k + v)


class FusedProjections(nn.Cell):
    """The same with one fused Dense per block (mindcv's layout): qkv = [query; key; value] along the output axis."""

    def __init__(self, dim: int = 4):
        super().__init__()
        self.blocks = nn.CellList([_Fused(dim) for _ in range(2)])

    def construct(self, x):
        for block in self.blocks:
            x = block(x)
        return x


class TorchFused(torch.nn.Module):
    """The reverse: torch fuses (one Linear per block), MindSpore keeps three Dense."""

    def __init__(self, dim: int = 4):
        super().__init__()
        self.blocks = torch.nn.ModuleList(torch.nn.ModuleDict({"qkv": torch.nn.Linear(dim, 3 * dim)}) for _ in range(2))

    def forward(self, x):
        for block in self.blocks:
            q, k, v = block["qkv"](x).split(x.shape[-1], dim=-1)
            x = torch.tanh(q * k + v)
        return x


class _Separate(nn.Cell):
    def __init__(self, dim: int):
        super().__init__()
        self.query, self.key, self.value = nn.Dense(dim, dim), nn.Dense(dim, dim), nn.Dense(dim, dim)

    def construct(self, x):
        return ops.tanh(self.query(x) * self.key(x) + self.value(x))


class SeparateProjections(nn.Cell):
    def __init__(self, dim: int = 4):
        super().__init__()
        self.layer = nn.CellList([_Separate(dim) for _ in range(2)])

    def construct(self, x):
        for block in self.layer:
            x = block(x)
        return x


class EncoderKeywordCall(EncoderBlock):
    """Faithful, but calls its attention by keyword (`self.attn(x=...)`), as Hugging Face-style code does."""

    def construct(self, x):
        x = x + self.attn(x=self.ln1(x))
        return x + self.ffn(self.ln2(x))
