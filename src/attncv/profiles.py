"""Run profiles: how much data, how wide a network and how many epochs a notebook trains.

``smoke`` runs in seconds on a CPU (CI and nbval); ``brief`` is the readers' default (the real
subset for a few epochs: seconds on an H100, about a minute on a Colab T4; on a CPU it shrinks
itself and says so); ``full`` is the benchmark's seed recipe. Choose with ``$ATTNCV_PROFILE``;
``CI=true`` implies ``smoke``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import torch

from .train import TrainConfig

PROFILES = ("smoke", "brief", "full")


@dataclass(frozen=True)
class Profile:
    """What a notebook trains under one profile on one device.

    Attributes:
        name: ``smoke``, ``brief`` or ``full``.
        device: ``"cuda"`` or ``"cpu"``.
        train_size, test_size: total images (class-balanced); ``None`` = the whole split.
        width: ResNet-18's first-stage width (64 is the paper's; a CPU run shrinks it).
        train: the training recipe for :func:`attncv.fit`.
        note: what was shrunk and why, shown to the reader.
    """

    name: str
    device: str
    train_size: int | None
    test_size: int | None
    width: int
    train: TrainConfig = field(default_factory=TrainConfig)
    note: str = ""

    def data_kwargs(self) -> dict[str, object]:
        """Keyword arguments for :func:`attncv.load_cifar`."""
        return {"train_size": self.train_size, "test_size": self.test_size, "device": self.device}

    def __str__(self) -> str:
        size = "all" if self.train_size is None else f"{self.train_size:,}"
        text = (f"profile {self.name} on {self.device}: {size} training images, ResNet-18 width "
                f"{self.width}, {self.train.epochs} epochs, batch {self.train.batch_size}")
        return text + (f"\n{self.note}" if self.note else "")


BRIEF = TrainConfig(epochs=20, batch_size=256, lr=0.2, weight_decay=5e-4, schedule="onecycle",
                    warmup_epochs=5, label_smoothing=0.1)
SEED_RECIPE = TrainConfig(epochs=160, batch_size=128, lr=0.1, momentum=0.9, nesterov=False,
                          weight_decay=1e-4, schedule="step", milestones=(80, 120), gamma=0.1,
                          warmup_epochs=1, label_smoothing=0.0)


def get_profile(name: str | None = None, device: str | None = None) -> Profile:
    """The profile ``name`` (default ``$ATTNCV_PROFILE``, ``smoke`` under ``CI=true``, else
    ``brief``) for ``device`` (default: CUDA when available)."""
    name = name or os.environ.get("ATTNCV_PROFILE") or (
        "smoke" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "brief")
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}; choose one of {', '.join(PROFILES)} "
                         "(set ATTNCV_PROFILE or pass name=).")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    gpu = device.startswith("cuda")
    if name == "smoke":
        return Profile("smoke", device, 400, 200, 16,
                       replace(BRIEF, epochs=1, batch_size=64, warmup_epochs=0.5),
                       "smoke: a few hundred images, one epoch, a narrow network. It checks that "
                       "the code runs; its numbers mean nothing.")
    if name == "brief" and gpu:
        return Profile("brief", device, 10_000, 2_000, 64, BRIEF)
    if name == "brief":
        return Profile("brief", device, 4_000, 1_000, 16,
                       replace(BRIEF, epochs=8, batch_size=128, warmup_epochs=2),
                       "No GPU: the brief run shrinks itself to 4,000 training images, 8 epochs "
                       "and a quarter-width ResNet-18 (16-32-64-128 channels) so it ends in about "
                       "a minute. Expect lower accuracy than on a GPU.")
    return Profile("full", device, None, None, 64, SEED_RECIPE,
                   "" if gpu else "full on a CPU takes days: use a GPU.")
