"""The model layer: the CIFAR ResNet-18 that takes an attention module by name (:mod:`.backbone`),
the spatial transformer's classifier (:mod:`.stn_classifier`), and what a model is made of
(:mod:`.count`: parameters, MACs, activation memory)."""

from .backbone import BasicBlock, ResNet, resnet18
from .count import activation_memory, count_macs, count_params, saved_bytes
from .stn_classifier import stn_resnet18

__all__ = [
    "BasicBlock",
    "ResNet",
    "activation_memory",
    "count_macs",
    "count_params",
    "resnet18",
    "saved_bytes",
    "stn_resnet18",
]
