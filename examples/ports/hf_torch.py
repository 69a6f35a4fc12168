"""Hugging Face `transformers` models built from configs (no downloaded weights), as model factories for specs."""

from transformers import ResNetConfig, ResNetForImageClassification

RESNETS = {  # depths and block type of torchvision's / mindcv's ResNets
    "resnet18": ([2, 2, 2, 2], "basic", [64, 128, 256, 512]),
    "resnet50": ([3, 4, 6, 3], "bottleneck", [256, 512, 1024, 2048]),
}


def resnet(name: str = "resnet18", num_classes: int = 10):
    depths, block, widths = RESNETS[name]
    config = ResNetConfig(embedding_size=64, hidden_sizes=widths, depths=depths, layer_type=block, hidden_act="relu",
                          downsample_in_first_stage=False, num_labels=num_classes)
    return ResNetForImageClassification(config)


def llama(hidden: int = 64, layers: int = 2, heads: int = 4, kv_heads: int = 2, intermediate: int = 128, vocab: int = 128):
    """A tiny decoder-only Llama (RMSNorm, rotary embedding, grouped-query attention, SwiGLU, causal mask) from
    LlamaConfig: HF's own initialisation (normal, std 0.02), eager attention (the softmax a port writes out)."""
    from transformers import LlamaConfig, LlamaModel

    config = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=64,
                         attn_implementation="eager", use_cache=False)
    return LlamaModel(config)


def regnet(name: str = "regnet_x_200mf", num_classes: int = 10):
    """HF's RegNet with the widths, depths and group width of mindcv's `name` (X blocks: no squeeze-excitation)."""
    from transformers import RegNetConfig, RegNetForImageClassification

    depths, widths, group_width = REGNETS[name]
    config = RegNetConfig(embedding_size=32, hidden_sizes=widths, depths=depths, groups_width=group_width, layer_type="x",
                          hidden_act="relu", num_labels=num_classes)
    return RegNetForImageClassification(config)


REGNETS = {"regnet_x_200mf": ([1, 1, 4, 7], [24, 56, 152, 368], 8)}  # mindcv's generate_regnet_full(36.44, 24, 2.49, 13, 8)


def vit(image_size: int = 32, patch_size: int = 8, hidden: int = 64, layers: int = 2, heads: int = 4, mlp: int = 128,
        num_classes: int = 10):
    """A small ViT from ViTConfig (HF's defaults otherwise: exact GELU, LayerNorm eps 1e-12, qkv bias)."""
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(image_size=image_size, patch_size=patch_size, hidden_size=hidden, num_hidden_layers=layers,
                       num_attention_heads=heads, intermediate_size=mlp, num_labels=num_classes)
    return ViTForImageClassification(config)
