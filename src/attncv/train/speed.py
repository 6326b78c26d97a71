"""How fast a model trains and infers: images per second of the training step ``fit`` takes, and
the time and memory of one module's forward and backward pass."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..env import default_device, device_name
from ..model.count import saved_bytes
from .config import TrainConfig
from .loop import Step
from .precision import amp_dtype, label


@dataclass
class Throughput:
    """Images per second of training steps (forward, backward, SGD) and of inference."""

    train: float
    infer: float
    peak_memory_mb: float  # CUDA only; NaN on a CPU
    device: str
    batch_size: int
    amp: bool
    precision: str = "fp32"  # "bf16", "fp16" or "fp32"


def throughput(
    model: nn.Module,
    *,
    batch_size: int = 256,
    steps: int = 20,
    warmup: int = 5,
    device: str | torch.device | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
    image_size: int = 32,
    num_classes: int | None = None,
) -> Throughput:
    """Measure training and inference images/s on random data (the data pipeline excluded).

    A training step is :class:`attncv.train.loop.Step` under the default :class:`TrainConfig`: the
    same forward, loss, backward and SGD update that :func:`attncv.fit` runs.

    The model is trained in place on noise: measure a copy if its weights matter.
    """
    device = torch.device(device or default_device())
    cuda = device.type == "cuda"
    amp = cuda if amp is None else amp
    channels_last = cuda if channels_last is None else channels_last
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=fmt).train()
    x = torch.randn(batch_size, 3, image_size, image_size, device=device).to(memory_format=fmt)
    num_classes = num_classes or getattr(getattr(model, "fc", None), "out_features", 10)
    y = torch.randint(0, num_classes, (batch_size,), device=device)
    dtype = amp_dtype(device)
    step = Step(model, TrainConfig(), amp, dtype)  # fit()'s step, fp16 loss scaling included

    def train_step() -> None:
        step(x, y)

    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    train = _rate(train_step, steps, warmup, batch_size, device)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else float("nan")
    model.eval()

    def infer_step() -> None:
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=amp):
            model(x)

    infer = _rate(infer_step, steps, warmup, batch_size, device)
    model.train()
    return Throughput(train, infer, peak, device_name(device), batch_size, amp, label(dtype, amp))


def _rate(step, steps: int, warmup: int, batch_size: int, device: torch.device) -> float:
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return steps * batch_size / (time.perf_counter() - t0)


def time_and_memory(
    module: nn.Module, x: Tensor, *, steps: int, warmup: int, amp: bool
) -> tuple[float, float]:
    """Median seconds of forward + backward of ``module`` on ``x``, and its memory in MB: the
    CUDA peak on a GPU, the bytes autograd saves (:func:`saved_bytes`) on a CPU."""
    cuda = x.device.type == "cuda"

    def forward() -> Tensor:
        with torch.autocast(x.device.type, dtype=amp_dtype(x.device), enabled=amp):
            return module(x)

    def step() -> None:
        forward().float().square().mean().backward()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        if cuda:
            torch.cuda.synchronize(x.device)
        t0 = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize(x.device)
        times.append(time.perf_counter() - t0)
    if cuda:
        torch.cuda.reset_peak_memory_stats(x.device)
        step()
        memory = torch.cuda.max_memory_allocated(x.device)
    else:
        memory = saved_bytes(forward)
    return statistics.median(times), memory / 2**20
