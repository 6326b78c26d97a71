"""Training and evaluation: one loop for every chapter and the benchmark.

SGD with momentum (optionally Nesterov) and weight decay; a per-step learning-rate schedule
(linear warm-up, then one-cycle linear decay, cosine, or steps); optional label smoothing
(Szegedy et al., 2016). On CUDA: autocast (bf16, or fp16 with loss scaling on GPUs without bf16,
see :mod:`attncv.train.precision`) and channels_last; on a CPU: plain fp32.
Data stays on the device (:meth:`attncv.data.CifarData.batches`).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data import CifarData
from ..env import device_name, progress_mode
from .config import TrainConfig, lr_factor
from .precision import amp_dtype, scaler
from .progress import Reporter
from .result import FitResult


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices), so that model initialisation repeats."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: CifarData,
    split: str = "test",
    *,
    batch_size: int = 1000,
    amp: bool | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on a split (no augmentation)."""
    logits, labels = predict(model, data, split, batch_size=batch_size, amp=amp, dtype=dtype)
    loss = nn.functional.cross_entropy(logits, labels).item()
    return loss, (logits.argmax(1) == labels).float().mean().item()


@torch.no_grad()
def predict(
    model: nn.Module,
    data: CifarData,
    split: str = "test",
    *,
    batch_size: int = 1000,
    amp: bool | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor]:
    """Logits (float32) and labels of a whole split, in order.

    ``amp`` (default: on for CUDA) runs the forward pass under autocast in ``dtype`` (default:
    :func:`attncv.train.precision.amp_dtype` for the data's device).
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


def fit(
    model: nn.Module,
    data: CifarData,
    config: TrainConfig | None = None,
    *,
    seed: int = 0,
    name: str | None = None,
    progress: bool | str = True,
    on_epoch: Callable[[nn.Module], dict[str, float]] | None = None,
    **overrides: Any,
) -> FitResult:
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
    result = FitResult(
        name,
        data.description,
        device_name(device),
        asdict(cfg),
        parameters=sum(p.numel() for p in model.parameters()),
    )
    report = Reporter(
        progress_mode(progress), steps * cfg.epochs, cfg.epochs, f"{name} on {data.description}"
    )
    wall0, train_time, step = time.perf_counter(), 0.0, 0
    try:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            _sync(device)
            t0 = time.perf_counter()
            train_loss, train_acc, step = _train_epoch(
                step_fn, data, cfg, gen, report, epoch, step, steps, channels_last
            )
            seconds = time.perf_counter() - t0
            train_time += seconds
            test_loss, test_acc = evaluate(
                model, data, batch_size=cfg.eval_batch_size, amp=amp, dtype=dtype
            )
            row = {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "test_loss": test_loss,
                "test_acc": test_acc,
                "lr": opt.param_groups[0]["lr"],
                "seconds": seconds,
            }
            row |= on_epoch(model) if on_epoch is not None else {}
            result.history.append(row)
            report.epoch(row)
            if not math.isfinite(row["train_loss"]):
                raise FloatingPointError(
                    f"{name}: the training loss became {row['train_loss']} "
                    f"in epoch {epoch}; lower the learning rate."
                )
    finally:
        report.close()
    result.train_seconds = train_time
    result.wall_seconds = time.perf_counter() - wall0
    result.images_per_second = steps * cfg.batch_size * cfg.epochs / max(train_time, 1e-9)
    report.finish(result.summary(), record=result.record())
    return result


def _train_epoch(
    step_fn: Step,
    data: CifarData,
    cfg: TrainConfig,
    gen: torch.Generator,
    report: Reporter,
    epoch: int,
    step: int,
    steps: int,
    channels_last: bool,
) -> tuple[float, float, int]:
    """One pass over the training set (the model already in training mode); returns its mean
    loss, its accuracy and the step count so far (the learning-rate schedule runs on steps).
    Ends synchronised with the device, so the caller's clock times the epoch's work."""
    device = data.device
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    seen = 0
    for x, y in data.batches(
        "train", cfg.batch_size, generator=gen, drop_last=True, channels_last=channels_last
    ):
        for g in step_fn.optimizer.param_groups:
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
    return (loss_sum / seen).item(), (correct / seen).item(), step


class Step:
    """One optimisation step: forward (autocast), loss, backward, SGD update (the optimiser is
    built from ``cfg``: momentum, Nesterov, weight decay off for BN and biases). ``fit`` trains
    with it and :func:`attncv.throughput` times it.

    With fp16 autocast the loss is scaled before the backward pass and the gradients unscaled
    before the update (:class:`torch.amp.GradScaler`), so small gradients do not flush to zero;
    steps whose gradients overflowed are skipped. bf16 and fp32 need no scaling.
    """

    def __init__(
        self, model: nn.Module, cfg: TrainConfig, amp: bool, dtype: torch.dtype = torch.bfloat16
    ) -> None:
        decay, no_decay = [], []
        for p in model.parameters():
            if p.requires_grad:
                (no_decay if p.ndim <= 1 else decay).append(p)  # no decay on BN and biases
        self.optimizer = torch.optim.SGD(
            [
                {"params": decay, "weight_decay": cfg.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=cfg.lr,
            momentum=cfg.momentum,
            nesterov=cfg.nesterov and cfg.momentum > 0,
        )
        self.model = torch.compile(model) if cfg.compile else model
        self.amp, self.dtype, self.smoothing = amp, dtype, cfg.label_smoothing
        device = next(model.parameters()).device
        self.scaler = scaler(device, dtype, amp)

    def __call__(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        with torch.autocast(x.device.type, dtype=self.dtype, enabled=self.amp):
            logits = self.model(x)
            loss = nn.functional.cross_entropy(logits.float(), y, label_smoothing=self.smoothing)
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
