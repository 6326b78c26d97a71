"""attncv: attention modules for convolutional networks, and the course that teaches them.

The path every chapter walks: ``load_cifar -> resnet18(attention=...) -> fit -> capture -> plots``.
"""

from .attention import REGISTRY, AttentionMap, build, names
from .backbone import ResNet, resnet18
from .cost import activation_memory, count_macs, count_params, throughput
from .data import CifarData, DataError, load_cifar
from .probe import capture, taps
from .profiles import Profile, get_profile
from .runs import train_model
from .train import FitResult, TrainConfig, evaluate, fit, predict, set_seed

__version__ = "0.1.0"

__all__ = [
    "REGISTRY", "AttentionMap", "CifarData", "DataError", "FitResult", "Profile", "ResNet",
    "TrainConfig", "activation_memory", "build", "capture", "count_macs", "count_params",
    "evaluate", "fit", "get_profile", "load_cifar", "names", "predict", "resnet18", "set_seed",
    "taps", "throughput", "train_model",
]
