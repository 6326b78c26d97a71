"""Fused against reference attention over positions, from the command line::

    python -m attncv.bench_attention                  # 32x32 maps (1,024 positions), 64 channels
    python -m attncv.bench_attention --size 16 --batch-size 64 --resnet

For each position-attention module (self-attention, non-local, DANet) it times forward + backward
of the fused path (SDPA) and of the reference path (the explicit softmax(q k^T) v), and reports the
memory each needs: peak CUDA memory on a GPU; on a CPU, where no allocator reports a peak, the
bytes autograd saves for the backward pass (where the quadratic (HW x HW) matrix shows up).
``--resnet`` adds ResNet-18's training throughput with each spatial module where the registry
places it, against the baseline (:func:`attncv.bench.compare_modules`).

A benchmark, not a test: it prints what this machine measured and asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import torch

from .attention import registry
from .bench import compare_modules
from .cost import time_and_memory
from .precision import amp_dtype, label

MODULES = ("self_attention", "non_local", "danet")


def compare_paths(
    names: Sequence[str] = MODULES,
    *,
    channels: int = 64,
    size: int = 32,
    batch_size: int | None = None,
    steps: int | None = None,
    device: str | None = None,
) -> list[dict[str, object]]:
    """Print and return the fused/reference comparison at ``size x size`` positions."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    batch_size = batch_size or (256 if cuda else 16)
    steps = steps or (20 if cuda else 3)
    x = torch.randn(batch_size, channels, size, size, device=device, requires_grad=True)
    rows = []
    for name in names:
        row: dict[str, object] = {"name": name}
        for fused in (True, False):
            torch.manual_seed(0)
            module = registry.build(name, channels, fused=fused).to(device)
            seconds, mb = time_and_memory(module, x, steps=steps, warmup=2, amp=cuda)
            path = "fused" if fused else "reference"
            row |= {f"{path}_ms": 1e3 * seconds, f"{path}_mb": mb}
        row["speedup"] = row["reference_ms"] / row["fused_ms"]
        rows.append(row)
    memory = "peak MB" if cuda else "saved MB"
    print(
        f"{size}x{size} = {size * size:,} positions, {channels} channels, batch {batch_size}, "
        f"{label(amp_dtype(device), cuda)} on "
        f"{torch.cuda.get_device_name(device) if cuda else 'CPU'}"
        f"; forward + backward, median of {steps}"
    )
    print(
        f"{'module':<16}{'fused ms':>10}{'reference ms':>14}{'speed-up':>10}"
        f"{'fused ' + memory:>17}{'reference ' + memory:>21}"
    )
    for r in rows:
        print(
            f"{r['name']:<16}{r['fused_ms']:>10.1f}{r['reference_ms']:>14.1f}"
            f"{r['speedup']:>9.2f}x{r['fused_mb']:>17,.1f}{r['reference_mb']:>21,.1f}"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attncv.bench_attention",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--names", nargs="*", default=list(MODULES), choices=MODULES)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=32, help="height = width of the feature map")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--resnet",
        action="store_true",
        help="also ResNet-18 training throughput with each spatial module",
    )
    args = parser.parse_args(argv)
    compare_paths(
        args.names,
        channels=args.channels,
        size=args.size,
        batch_size=args.batch_size,
        steps=args.steps,
        device=args.device,
    )
    if args.resnet:
        print()
        compare_modules(["none", *registry.names("spatial")], device=args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
