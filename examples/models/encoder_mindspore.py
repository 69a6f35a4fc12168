"""The MindSpore port of encoder_torch.EncoderBlock. What a faithful port has to spell out: LayerNorm's
epsilon=1e-5 (MindSpore's default is 1e-7) and GELU(approximate=False) (MindSpore's default is the tanh form)."""

import math

from mindspore import nn, ops


class SelfAttention(nn.Cell):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Dense(dim, dim)
        self.k = nn.Dense(dim, dim)
        self.v = nn.Dense(dim, dim)
        self.o = nn.Dense(dim, dim)

    def construct(self, x):
        b, n, d = x.shape
        split = lambda t: t.reshape(b, n, self.heads, d // self.heads).transpose(0, 2, 1, 3)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        weights = ops.softmax(ops.matmul(q, k.transpose(0, 1, 3, 2)) / math.sqrt(d // self.heads), axis=-1)
        return self.o(ops.matmul(weights, v).transpose(0, 2, 1, 3).reshape(b, n, d))


class FeedForward(nn.Cell):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Dense(dim, hidden)
        self.act = nn.GELU(approximate=False)
        self.fc2 = nn.Dense(hidden, dim)

    def construct(self, x):
        return self.fc2(self.act(self.fc1(x)))


class EncoderBlock(nn.Cell):
    def __init__(self, dim: int = 16, heads: int = 4, hidden: int = 32):
        super().__init__()
        self.ln1 = nn.LayerNorm((dim,), epsilon=1e-5)
        self.attn = SelfAttention(dim, heads)
        self.ln2 = nn.LayerNorm((dim,), epsilon=1e-5)
        self.ffn = FeedForward(dim, hidden)

    def construct(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))
