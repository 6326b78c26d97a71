"""What a module costs: parameters, multiply-accumulates, training throughput and peak memory.

MACs are counted with :class:`torch.utils.flop_counter.FlopCounterMode` (convolutions, matrix
products and attention kernels; element-wise work such as sigmoids and pooling is not counted, as in
the papers' FLOP tables). Papers' "FLOPs" for CNNs are multiply-accumulates: ResNet-18 on a 32x32
image is 0.56 G.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from .attention.positions import exact_widths
from .precision import amp_dtype, label
from .train import Step, TrainConfig


def count_params(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_size: tuple[int, ...] = (1, 3, 32, 32)) -> int:
    """Multiply-accumulates of one forward pass on a zero tensor of ``input_size``.

    Attention is counted at its own widths: the zero padding the fused path adds to narrow
    queries for speed (see :mod:`attncv.attention.positions`) is switched off while counting.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad(), exact_widths():
        model(torch.zeros(input_size, device=device))
    model.train(was_training)
    return counter.get_total_flops() // 2


def saved_bytes(step: Callable[[], Tensor], *, ignore: Iterable[Tensor] = ()) -> int:
    """Bytes of the distinct tensors autograd saves for backward while ``step()`` runs forward.

    Tensors that share storage (views) count once; tensors sharing storage with one in ``ignore``
    (a model's parameters, say) not at all. Without the parameters this is the activation memory
    of training, measured the same way on every device; on a GPU the allocator's peak adds
    weights, gradients, optimiser state and workspace on top.
    """
    skip = {t.untyped_storage().data_ptr() for t in ignore}
    seen: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return sum(seen.values())


def activation_memory(model: nn.Module, *, batch_size: int = 8, image_size: int = 32) -> float:
    """Mebibytes per image that a training forward pass of ``model`` saves for its backward pass.

    The parameters, which autograd also keeps, are left out: they do not grow with the batch.

    Runs one fp32 forward pass in training mode on random images, on the model's device (the
    batch-norm running statistics move; measure a copy if they matter). Per image, because the
    saved activations grow linearly with the batch.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.train()
    x = torch.randn(batch_size, 3, image_size, image_size, device=device)
    total = saved_bytes(lambda: model(x), ignore=model.parameters())
    model.train(was_training)
    return total / batch_size / 2**20


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


def throughput(model: nn.Module, *, batch_size: int = 256, steps: int = 20, warmup: int = 5,
               device: str | torch.device | None = None, amp: bool | None = None,
               channels_last: bool | None = None, image_size: int = 32,
               num_classes: int | None = None) -> Throughput:
    """Measure training and inference images/s on random data (the data pipeline excluded).

    A training step is :class:`attncv.train.Step` under the default :class:`TrainConfig`: the
    same forward, loss, backward and SGD update that :func:`attncv.fit` runs.

    The model is trained in place on noise: measure a copy if its weights matter.
    """
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
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
    name = torch.cuda.get_device_name(device) if cuda else "CPU"
    return Throughput(train, infer, peak, name, batch_size, amp, label(dtype, amp))


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
