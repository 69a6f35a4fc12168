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
