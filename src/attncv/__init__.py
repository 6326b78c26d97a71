"""attncv: attention modules for convolutional networks, and the course that teaches them.

The path every chapter walks: ``load_cifar -> resnet18(attention=...) -> fit -> capture -> views``.
The package is one folder per layer, imports running one way (see CONTRIBUTING.md):
``book | bench | exercises -> views -> train -> model -> attention -> data``; :mod:`attncv.env`
holds the little every layer shares. This module re-exports the names a notebook needs most.
"""

from .attention import REGISTRY, AttentionMap, build, capture, names, taps
from .data import CifarData, DataError, load_cifar
from .model import ResNet, activation_memory, count_macs, count_params, resnet18
from .train import (
    FitResult,
    Noise,
    Profile,
    TrainConfig,
    evaluate,
    fit,
    get_profile,
    measure_noise,
    predict,
    set_seed,
    throughput,
    train_model,
)

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "AttentionMap",
    "CifarData",
    "DataError",
    "FitResult",
    "Noise",
    "Profile",
    "ResNet",
    "TrainConfig",
    "activation_memory",
    "build",
    "capture",
    "count_macs",
    "count_params",
    "evaluate",
    "fit",
    "get_profile",
    "load_cifar",
    "measure_noise",
    "names",
    "predict",
    "resnet18",
    "set_seed",
    "taps",
    "throughput",
    "train_model",
]
