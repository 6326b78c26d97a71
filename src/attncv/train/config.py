"""A training recipe (:class:`TrainConfig`) and its learning-rate schedule (:func:`lr_factor`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .precision import amp_dtype

SCHEDULES = ("onecycle", "cosine", "step", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe. ``lr`` is the peak learning rate, reached after ``warmup_epochs``."""

    epochs: int = 20
    batch_size: int = 256
    lr: float = 0.2
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "onecycle"
    warmup_epochs: float = 0.0
    milestones: tuple[int, ...] = (80, 120)
    lr_decay: float = 0.1  # the step schedule's factor at each milestone
    label_smoothing: float = 0.0
    amp: bool | None = None  # autocast; None = on for CUDA
    amp_dtype: str | None = None  # "bf16" or "fp16"; None = bf16 where the GPU has it, else fp16
    channels_last: bool | None = None  # None = on for CUDA
    compile: bool = False
    eval_batch_size: int = 1000

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}.")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(
                "epochs and batch_size must be >= 1 and lr > 0; got "
                f"epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}."
            )
        amp_dtype("cpu", self.amp_dtype)  # a clear error for anything but bf16, fp16 or None


def lr_factor(cfg: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Multiplier of ``cfg.lr`` at optimisation step ``step`` (0-based)."""
    epoch = step / steps_per_epoch
    total = cfg.epochs
    if cfg.warmup_epochs > 0 and epoch < cfg.warmup_epochs:
        return (step + 1) / (cfg.warmup_epochs * steps_per_epoch)
    rest = max(total - cfg.warmup_epochs, 1e-8)
    progress = min((epoch - cfg.warmup_epochs) / rest, 1.0)
    if cfg.schedule == "onecycle":
        return 1.0 - progress
    if cfg.schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if cfg.schedule == "step":
        return cfg.lr_decay ** sum(epoch >= m for m in cfg.milestones)
    return 1.0
