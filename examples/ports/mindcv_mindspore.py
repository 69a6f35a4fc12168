"""mindcv models built from its registry (pretrained=False: no downloaded weights), as model factories for specs."""

from mindcv.models import create_model
from mindspore import nn


def resnet(name: str = "resnet18", num_classes: int = 10, torch_pool: bool = False):
    """mindcv's ResNet as shipped; `torch_pool=True` swaps its stem max-pool (pad_mode="same": pads (0, 1) on even
    inputs) for torch's explicit padding of 1 on every side, the one change a faithful port of torch's ResNet needs."""
    net = create_model(name, pretrained=False, num_classes=num_classes)
    if torch_pool:
        net.max_pool = nn.MaxPool2d(kernel_size=3, stride=2, pad_mode="pad", padding=1)
    return net


def model(name: str, num_classes: int = 10):
    """Any mindcv model as shipped."""
    return create_model(name, pretrained=False, num_classes=num_classes)


def regnet(name: str = "regnet_x_200mf", num_classes: int = 10, bug: str | None = None):
    """mindcv's RegNet as shipped; `bug="same_pad"` plants the port mistake MindSpore's defaults invite: the second
    stage's strided 3x3 convolution built without pad_mode="pad", so Conv2d's default pad_mode="same" pads an
    even input (0, 1) where torch's padding=1 pads (1, 1)."""
    net = create_model(name, pretrained=False, num_classes=num_classes)
    if bug == "same_pad":
        old = net.stages[1].blocks[0].f.b
        net.stages[1].blocks[0].f.b = nn.Conv2d(old.in_channels, old.out_channels, 3, stride=2, group=old.group, has_bias=False)
    elif bug is not None:
        raise ValueError(f"bug must be None or 'same_pad', got {bug!r}")
    return net


def vit(image_size: int = 32, patch_size: int = 8, hidden: int = 64, layers: int = 2, heads: int = 4, mlp: int = 128,
        num_classes: int = 10, keep: str = "none"):
    """mindcv's VisionTransformer at HF's sizes. mindcv builds it with MindSpore's defaults, nn.GELU() (the tanh
    approximation) and nn.LayerNorm's epsilon 1e-7; HF's ViT uses the exact GELU and epsilon 1e-12. The faithful port
    (`keep="none"`) sets both; `keep="gelu"` or `keep="epsilon"` keeps that one of mindcv's defaults."""
    from functools import partial

    from mindcv.models.vit import VisionTransformer

    if keep not in ("none", "gelu", "epsilon"):
        raise ValueError(f"keep must be none, gelu or epsilon, got {keep!r}")
    return VisionTransformer(image_size=image_size, patch_size=patch_size, embed_dim=hidden, depth=layers, num_heads=heads,
                             mlp_ratio=mlp / hidden, num_classes=num_classes,
                             act_layer=partial(nn.GELU, approximate=keep == "gelu"),
                             norm_layer=partial(nn.LayerNorm, epsilon=1e-7 if keep == "epsilon" else 1e-12))
