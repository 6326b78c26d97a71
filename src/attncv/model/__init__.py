"""The model layer: the CIFAR ResNet-18 that takes an attention module by name (:mod:`.backbone`),
the spatial transformer's classifier (:mod:`.stn_classifier`), and what a model is made of
(:mod:`.count`: parameters, MACs, activation memory)."""

from .backbone import BasicBlock, ResNet, resnet18
from .count import activation_memory, count_macs, count_params, saved_bytes
from .stn_classifier import (
    Downscale,
    FixedWindow,
    downscaled_resnet18,
    glimpse_resnet18,
    stn_resnet18,
)

__all__ = [
    "BasicBlock",
    "Downscale",
    "FixedWindow",
    "ResNet",
    "activation_memory",
    "count_macs",
    "count_params",
    "downscaled_resnet18",
    "glimpse_resnet18",
    "resnet18",
    "saved_bytes",
    "stn_resnet18",
]
