"""A classifier that looks through a spatial transformer: the transformer in front of ResNet-18."""

from __future__ import annotations

from torch import nn

from ..attention.stn import SpatialTransformer
from .backbone import resnet18


def stn_resnet18(
    num_classes: int = 100, *, width: int = 64, loc_channels: int = 16, loc_features: int = 32
) -> nn.Sequential:
    """ResNet-18 with a spatial transformer in front of it, warping the input images.

    The ResNet is built before the transformer, so after the same ``set_seed`` its weights equal
    the plain baseline's: the comparison differs only by the transformer.
    """
    net = resnet18(num_classes, width=width)
    stn = SpatialTransformer(3, loc_channels=loc_channels, loc_features=loc_features)
    return nn.Sequential(stn, net)
