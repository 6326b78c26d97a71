"""The data layer: CIFAR-100 found, downloaded or substituted (and always honest about which),
validated, subset per class, and augmented on the training device.

``load_cifar`` (:mod:`.load`) is the entry point; :class:`CifarData` (:mod:`.dataset`) is what it
returns. The rest: :mod:`.read` (the official pickles), :mod:`.fetch` (the download),
:mod:`.augment` (crop, flip, normalise, random affine), :mod:`.distorted` (harder copies for the
spatial transformer), :mod:`.subset`, :mod:`.synthetic`, :mod:`.layout` and :mod:`.errors`.
"""

from .dataset import CifarData
from .errors import DataError, DataSubstituteWarning
from .load import load_cifar
from .synthetic import synthetic

__all__ = ["CifarData", "DataError", "DataSubstituteWarning", "load_cifar", "synthetic"]
