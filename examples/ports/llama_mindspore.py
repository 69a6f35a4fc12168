"""A MindSpore port of Hugging Face's Llama decoder (transformers 4.40 `LlamaModel`), written by hand the way users do,
with mindformers' names (tok_embeddings, attention.wq, feed_forward.w1, attention_norm, norm_out): eqcheck pairs them
with HF's names by execution order and shape. `bug` plants one realistic porting mistake (see BUGS)."""

import numpy as np
from mindspore import Parameter, Tensor, nn, ops

BUGS = {
    None: "the faithful port",
    "tile_kv": "grouped-query attention repeats the key/value heads with tile (h0 h1 h0 h1) instead of HF's "
               "repeat_kv (h0 h0 h1 h1): each query head attends with another group's keys",
    "swapped_gate": "SwiGLU's activation on the wrong projection: w2(w1 x * silu(w3 x)), mindformers' w1/w3 read as up/gate",
}


class RMSNorm(nn.Cell):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = Parameter(Tensor(np.ones(dim, np.float32)), name="weight")
        self.eps = eps

    def construct(self, x):
        variance = (x * x).mean(-1, keep_dims=True)
        return self.weight * (x * ops.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return ops.cat((-x[..., half:], x[..., :half]), -1)


class Attention(nn.Cell):
    def __init__(self, dim: int, heads: int, kv_heads: int, bug=None):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim, self.bug = heads, kv_heads, dim // heads, bug
        self.wq = nn.Dense(dim, heads * self.head_dim, has_bias=False)
        self.wk = nn.Dense(dim, kv_heads * self.head_dim, has_bias=False)
        self.wv = nn.Dense(dim, kv_heads * self.head_dim, has_bias=False)
        self.wo = nn.Dense(heads * self.head_dim, dim, has_bias=False)

    def construct(self, x, cos, sin, mask):
        b, n, _ = x.shape
        heads = lambda t, h: t.reshape(b, n, h, self.head_dim).transpose(0, 2, 1, 3)
        q, k, v = heads(self.wq(x), self.heads), heads(self.wk(x), self.kv_heads), heads(self.wv(x), self.kv_heads)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        if self.bug == "tile_kv":
            k, v = ops.tile(k, (1, groups, 1, 1)), ops.tile(v, (1, groups, 1, 1))
        else:  # HF's repeat_kv: each key/value head serves `groups` consecutive query heads
            k, v = ops.repeat_interleave(k, groups, 1), ops.repeat_interleave(v, groups, 1)
        scores = ops.matmul(q, k.transpose(0, 1, 3, 2)) / float(np.sqrt(self.head_dim)) + mask
        out = ops.matmul(ops.softmax(scores, axis=-1), v)
        return self.wo(out.transpose(0, 2, 1, 3).reshape(b, n, self.heads * self.head_dim))


class FeedForward(nn.Cell):
    """SwiGLU: w2(silu(w1 x) * w3 x), mindformers' names for HF's gate_proj, down_proj, up_proj."""

    def __init__(self, dim: int, hidden: int, bug=None):
        super().__init__()
        self.bug = bug
        self.w1 = nn.Dense(dim, hidden, has_bias=False)
        self.w3 = nn.Dense(dim, hidden, has_bias=False)
        self.w2 = nn.Dense(hidden, dim, has_bias=False)

    def construct(self, x):
        if self.bug == "swapped_gate":
            return self.w2(self.w1(x) * ops.silu(self.w3(x)))
        return self.w2(ops.silu(self.w1(x)) * self.w3(x))


class DecoderLayer(nn.Cell):
    def __init__(self, dim, heads, kv_heads, hidden, eps, bug=None):
        super().__init__()
        self.attention_norm = RMSNorm(dim, eps)
        self.attention = Attention(dim, heads, kv_heads, bug)
        self.ffn_norm = RMSNorm(dim, eps)
        self.feed_forward = FeedForward(dim, hidden, bug)

    def construct(self, x, cos, sin, mask):
        h = x + self.attention(self.attention_norm(x), cos, sin, mask)
        return h + self.feed_forward(self.ffn_norm(h))


class Llama(nn.Cell):
    def __init__(self, hidden: int = 64, layers: int = 2, heads: int = 4, kv_heads: int = 2, intermediate: int = 128,
                 vocab: int = 128, eps: float = 1e-6, theta: float = 10000.0, bug: str | None = None):
        super().__init__()
        if bug not in BUGS:
            raise ValueError(f"bug must be one of {list(BUGS)}, got {bug!r}")
        self.tok_embeddings = nn.Embedding(vocab, hidden)
        self.layers = nn.CellList([DecoderLayer(hidden, heads, kv_heads, intermediate, eps, bug) for _ in range(layers)])
        self.norm_out = RMSNorm(hidden, eps)
        head_dim = hidden // heads
        self.inv_freq = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.int64).astype(np.float32) / head_dim)

    def construct(self, input_ids):
        n = input_ids.shape[1]
        freqs = np.outer(np.arange(n, dtype=np.float32), self.inv_freq).astype(np.float32)
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos, sin = Tensor(np.cos(emb)), Tensor(np.sin(emb))
        # HF's additive causal mask: the dtype's lowest value above the diagonal
        mask = Tensor(np.triu(np.full((n, n), np.finfo(np.float32).min, np.float32), 1))
        h = self.tok_embeddings(input_ids)
        for layer in self.layers:
            h = layer(h, cos, sin, mask)
        return self.norm_out(h)
