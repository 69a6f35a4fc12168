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
