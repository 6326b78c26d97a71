"""The training layer: one loop for every chapter and the benchmark (:mod:`.loop`), its recipe
(:mod:`.config`), result (:mod:`.result`), precision and progress, the profiles and recipes that
size a run (:mod:`.profiles`), the cache of finished runs (:mod:`.runs`) and training speed
(:mod:`.speed`)."""

from .config import TrainConfig, lr_factor
from .loop import Step, evaluate, fit, predict, set_seed
from .noise import Noise, measure_noise
from .profiles import RECIPES, Profile, Recipe, get_profile, recipe_profile
from .result import FitResult, best5_mean
from .runs import train_model
from .speed import Throughput, throughput

__all__ = [
    "RECIPES",
    "FitResult",
    "Noise",
    "Profile",
    "Recipe",
    "Step",
    "Throughput",
    "TrainConfig",
    "best5_mean",
    "evaluate",
    "fit",
    "get_profile",
    "lr_factor",
    "measure_noise",
    "predict",
    "recipe_profile",
    "set_seed",
    "throughput",
    "train_model",
]
