"""The MindSpore port of cnn_torch.SmallCNN. What a faithful port has to spell out:

Conv2d: pad_mode='pad' and has_bias=True (MindSpore defaults: 'same', no bias); MaxPool2d: stride=2 (MindSpore's
default stride is 1, torch's is the kernel size); BatchNorm2d momentum 0.9 is torch's 0.1 (MindSpore's default).
"""

from mindspore import nn, ops


class SmallCNN(nn.Cell):
    def __init__(self, channels: int = 3, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 8, 3, pad_mode="pad", padding=1, has_bias=True)
        self.bn1 = nn.BatchNorm2d(8, momentum=0.9)
        self.act1 = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(8, 16, 3, pad_mode="pad", padding=1, has_bias=True)
        self.bn2 = nn.BatchNorm2d(16, momentum=0.9)
        self.act2 = nn.ReLU()
        self.fc = nn.Dense(16, classes)

    def construct(self, x):
        x = self.pool(self.act1(self.bn1(self.conv1(x))))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.fc(ops.mean(x, axis=(2, 3)))
