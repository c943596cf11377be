"""Module definitions for the PyTorch tests: section 4.3's ``Net``, and two tiny trainable nets.

The classes live in a module of their own, as the manual asks, so that a model
saved whole with ``torch.save`` can be loaded by any program that has this file.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


# fmt: off
# Section 4.3's class, exactly as printed.
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()  # noqa: UP008
        self.conv1 = nn.Conv2d(1, 20, 5, 1)
        self.conv2 = nn.Conv2d(20, 50, 5, 1)
        self.fc1 = nn.Linear(4*4*50, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(x, 2, 2)
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2, 2)
        x = x.view(-1, 4*4*50)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)
# fmt: on


class IrisNet(nn.Module):
    """Four measurements in, log-probabilities of three classes out."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return F.log_softmax(self.out(torch.relu(self.hidden(x))), dim=1)


class TwoInputNet(nn.Module):
    """Takes a batch of records and a batch of integer class ids (several inputs, several outputs)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(3, 4)
        self.out = nn.Linear(4, 2)

    def forward(self, x, ids):
        features = x + self.embed(ids)
        return self.out(features), features.sum(dim=1)
