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
