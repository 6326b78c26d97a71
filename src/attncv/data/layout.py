"""Where CIFAR lives: the official folder names, each dataset's statistics, the download cache."""

from __future__ import annotations

import os
from pathlib import Path

C100, C10 = "cifar-100-python", "cifar-10-batches-py"
C100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
STATS = {  # per-channel mean and std of each training set, in [0, 1]
    "CIFAR-100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "CIFAR-10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}


def cache_dir() -> Path:
    """Where downloads go: ``$ATTNCV_CACHE`` or ``~/.cache/attncv``."""
    return Path(os.environ.get("ATTNCV_CACHE", "~/.cache/attncv")).expanduser()
