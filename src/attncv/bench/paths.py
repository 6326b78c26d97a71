"""Fused against reference attention over positions.

For each position-attention module (self-attention, non-local, DANet) :func:`compare_paths` times
forward + backward of the fused path (SDPA) and of the reference path (the explicit
softmax(q k^T) v), and reports the memory each needs: peak CUDA memory on a GPU; on a CPU, where no
allocator reports a peak, the bytes autograd saves for the backward pass (where the quadratic
(HW x HW) matrix shows up). On the command line: ``python -m attncv.bench paths``.

A benchmark, not a test: it prints what this machine measured and asserts nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..attention import registry
from ..env import default_device, device_name
from ..train.precision import amp_dtype, label
from ..train.speed import time_and_memory
from ..views.tables import Table, show_table

MODULES = ("self_attention", "non_local", "danet")


def compare_paths(
    names: Sequence[str] = MODULES,
    *,
    channels: int = 64,
    size: int = 32,
    batch_size: int | None = None,
    steps: int | None = None,
    device: str | None = None,
    show: bool = True,
) -> list[dict[str, object]]:
    """Show and return the fused/reference comparison at ``size x size`` positions."""
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise ValueError(
            f"compare_paths compares the position-attention modules {MODULES}; got {unknown}."
        )
    device = torch.device(device or default_device())
    cuda = device.type == "cuda"
    batch_size = batch_size or (256 if cuda else 16)
    steps = steps or (20 if cuda else 3)
    x = torch.randn(batch_size, channels, size, size, device=device, requires_grad=True)
    rows = []
    for name in names:
        row: dict[str, object] = {"name": name, "title": registry.entry(name).title}
        for fused in (True, False):
            torch.manual_seed(0)
            module = registry.build(name, channels, fused=fused).to(device)
            seconds, mb = time_and_memory(module, x, steps=steps, warmup=2, amp=cuda)
            path = "fused" if fused else "reference"
            row |= {f"{path}_ms": 1e3 * seconds, f"{path}_mb": mb}
        row["speedup"] = row["reference_ms"] / row["fused_ms"]
        rows.append(row)
    memory = "peak MB" if cuda else "saved MB"
    table = Table(
        [
            "module",
            "fused ms",
            "reference ms",
            "speed-up",
            f"fused {memory}",
            f"reference {memory}",
        ],
        [
            [
                r["title"],
                f"{r['fused_ms']:.1f}",
                f"{r['reference_ms']:.1f}",
                f"{r['speedup']:.2f}×",
                f"{r['fused_mb']:,.1f}",
                f"{r['reference_mb']:,.1f}",
            ]
            for r in rows
        ],
        caption=(
            f"{size}x{size} = {size * size:,} positions, {channels} channels, batch "
            f"{batch_size}, {label(amp_dtype(device), cuda)} on {device_name(device)}; forward "
            f"+ backward, median of {steps}. Memory: "
            + ("the allocator's peak." if cuda else "what autograd keeps for the backward pass.")
        ),
    )
    if show:
        show_table(table)
    return rows
