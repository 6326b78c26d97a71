"""Training and evaluation: one loop for every chapter and the benchmark.

SGD with momentum (optionally Nesterov) and weight decay; a per-step learning-rate schedule
(linear warm-up, then one-cycle linear decay, cosine, or steps); optional label smoothing
(Szegedy et al., 2016). On CUDA: autocast (bf16, or fp16 with loss scaling on GPUs without bf16,
see :mod:`attncv.precision`) and channels_last; on a CPU: plain fp32.
Data stays on the device (:meth:`attncv.data.CifarData.batches`).
"""

from __future__ import annotations

import json
import math
import platform
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .data import CifarData
from .precision import amp_dtype, scaler
from .progress import Reporter, resolve

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
    gamma: float = 0.1
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
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0; got "
                             f"epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}.")
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
        return cfg.gamma ** sum(epoch >= m for m in cfg.milestones)
    return 1.0


@dataclass
class FitResult:
    """What a training run produced: per-epoch history and the numbers a chapter reports."""

    name: str
    dataset: str
    device: str
    config: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    images_per_second: float = 0.0
    parameters: int = 0

    @property
    def final_acc(self) -> float:
        return self.history[-1]["test_acc"] if self.history else float("nan")

    @property
    def best_acc(self) -> float:
        return max((r["test_acc"] for r in self.history), default=float("nan"))

    @property
    def best5_acc(self) -> float:
        """Mean test accuracy of the best five epochs (the benchmark's measure)."""
        top = sorted((r["test_acc"] for r in self.history), reverse=True)[:5]
        return sum(top) / len(top) if top else float("nan")

    def curve(self, key: str) -> list[float]:
        return [r[key] for r in self.history]

    def summary(self) -> str:
        return (f"{self.name}: {self.dataset} | {self.device} | {len(self.history)} epochs in "
                f"{self.train_seconds:.1f} s ({self.images_per_second:,.0f} images/s) | test "
                f"accuracy {self.final_acc:.1%} (best {self.best_acc:.1%})")

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"final_acc": self.final_acc, "best_acc": self.best_acc,
                                          "best5_acc": self.best5_acc}, indent=1)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices), so that model initialisation repeats."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


@torch.no_grad()
def evaluate(model: nn.Module, data: CifarData, split: str = "test", *,
              batch_size: int = 1000, amp: bool | None = None,
             dtype: torch.dtype | None = None) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on a split (no augmentation)."""
    logits, labels = predict(model, data, split, batch_size=batch_size, amp=amp, dtype=dtype)
    loss = nn.functional.cross_entropy(logits, labels).item()
    return loss, (logits.argmax(1) == labels).float().mean().item()


@torch.no_grad()
def predict(model: nn.Module, data: CifarData, split: str = "test", *,
            batch_size: int = 1000, amp: bool | None = None,
            dtype: torch.dtype | None = None) -> tuple[Tensor, Tensor]:
    """Logits (float32) and labels of a whole split, in order.

    ``amp`` (default: on for CUDA) runs the forward pass under autocast in ``dtype`` (default:
    :func:`attncv.precision.amp_dtype` for the data's device).
    """
    was_training = model.training
    model.eval()
    use_amp = data.device.type == "cuda" if amp is None else amp
    dtype = dtype or amp_dtype(data.device)
    outs, ys = [], []
    for x, y in data.batches(split, batch_size, shuffle=False, augmented=False):
        with torch.autocast(data.device.type, dtype=dtype, enabled=use_amp):
            outs.append(model(x).float())
        ys.append(y)
    model.train(was_training)
    return torch.cat(outs), torch.cat(ys)


def fit(model: nn.Module, data: CifarData, config: TrainConfig | None = None, *,
        seed: int = 0, name: str | None = None, progress: bool | str = True,
        on_epoch: Callable[[nn.Module], dict[str, float]] | None = None,
        **overrides: Any) -> FitResult:
    """Train ``model`` on ``data`` (on the data's device) and evaluate after every epoch.

    Args:
        model: any classifier with ``data.num_classes`` outputs; moved to the data's device.
        data: from :func:`attncv.load_cifar`; its device is the training device.
        config: the recipe (default :class:`TrainConfig`); ``overrides`` replace its fields.
        seed: seeds the batch order and the augmentation.
        name: the run's name in progress output and results (default: the attention name).
        progress: ``True`` (``$ATTNCV_PROGRESS`` or a tqdm bar), ``"log"`` (a line per epoch),
            ``False``.
        on_epoch: called with the model after every epoch; the values it returns (for example
            learned scales) are added to that epoch's history row.
    """
    cfg = replace(config or TrainConfig(), **overrides)
    device = data.device
    cuda = device.type == "cuda"
    amp = cuda if cfg.amp is None else cfg.amp
    channels_last = cuda if cfg.channels_last is None else cfg.channels_last
    name = name or _default_name(model)
    model = model.to(device, memory_format=torch.channels_last if channels_last else None)
    dtype = amp_dtype(device, cfg.amp_dtype)
    step_fn = Step(model, cfg, amp, dtype)
    gen = torch.Generator(device=device).manual_seed(seed)
    n = len(data.train_labels)
    steps = max(n // cfg.batch_size, 1)  # drop_last: every step sees a full batch
    opt = step_fn.optimizer
    result = FitResult(name, data.description, device_name(device), asdict(cfg),
                       parameters=sum(p.numel() for p in model.parameters()))
    report = Reporter(resolve(progress), steps * cfg.epochs, cfg.epochs,
                      f"{name} on {data.description}")
    wall0, train_time, step = time.perf_counter(), 0.0, 0
    try:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            _sync(device)
            t0 = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device)
            seen = 0
            for x, y in data.batches("train", cfg.batch_size, generator=gen, drop_last=True,
                                     channels_last=channels_last):
                for g in opt.param_groups:
                    g["lr"] = cfg.lr * lr_factor(cfg, step, steps)
                loss, hits = step_fn(x, y)
                loss_sum += loss * len(y)
                correct += hits
                seen += len(y)
                step += 1
                if report.bar is not None and (step % 10 == 0 or step == steps * epoch):
                    report.step(epoch, loss.item(), (hits / len(y)).item())
                elif report.bar is not None:
                    report.bar.update(1)
            _sync(device)
            seconds = time.perf_counter() - t0
            train_time += seconds
            test_loss, test_acc = evaluate(model, data, batch_size=cfg.eval_batch_size, amp=amp,
                                           dtype=dtype)
            row = {"epoch": epoch, "train_loss": (loss_sum / seen).item(),
                   "train_acc": (correct / seen).item(), "test_loss": test_loss,
                   "test_acc": test_acc, "lr": opt.param_groups[0]["lr"], "seconds": seconds}
            row |= on_epoch(model) if on_epoch is not None else {}
            result.history.append(row)
            report.epoch(row)
            if not math.isfinite(row["train_loss"]):
                raise FloatingPointError(f"{name}: the training loss became {row['train_loss']} "
                                         f"in epoch {epoch}; lower the learning rate.")
    finally:
        report.close()
    result.train_seconds = train_time
    result.wall_seconds = time.perf_counter() - wall0
    result.images_per_second = steps * cfg.batch_size * cfg.epochs / max(train_time, 1e-9)
    if report.mode != "none":
        print(result.summary(), flush=True)
    return result


class Step:
    """One optimisation step: forward (autocast), loss, backward, SGD update (the optimiser is
    built from ``cfg``: momentum, Nesterov, weight decay off for BN and biases). ``fit`` trains
    with it and :func:`attncv.throughput` times it.

    With fp16 autocast the loss is scaled before the backward pass and the gradients unscaled
    before the update (:class:`torch.amp.GradScaler`), so small gradients do not flush to zero;
    steps whose gradients overflowed are skipped. bf16 and fp32 need no scaling.
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, amp: bool,
                 dtype: torch.dtype = torch.bfloat16) -> None:
        decay, no_decay = [], []
        for p in model.parameters():
            if p.requires_grad:
                (no_decay if p.ndim <= 1 else decay).append(p)  # no decay on BN and biases
        self.optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": cfg.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0,
        )
        self.model = torch.compile(model) if cfg.compile else model
        self.amp, self.dtype, self.smoothing = amp, dtype, cfg.label_smoothing
        device = next(model.parameters()).device
        self.scaler = scaler(device, dtype, amp)

    def __call__(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        with torch.autocast(x.device.type, dtype=self.dtype, enabled=self.amp):
            logits = self.model(x)
            loss = nn.functional.cross_entropy(logits.float(), y,
                                               label_smoothing=self.smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler.is_enabled():
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        return loss.detach(), (logits.argmax(1) == y).sum()


def _default_name(model: nn.Module) -> str:
    attention = getattr(model, "attention_name", None)
    if attention is None:
        return type(model).__name__
    return "baseline" if attention == "none" else attention


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
