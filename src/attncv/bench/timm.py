"""Training speed of our modules against timm's reference implementations of the same modules.

timm (Ross Wightman, *PyTorch Image Models*, https://github.com/huggingface/pytorch-image-models)
ships several of the course's modules in ``timm.layers``. For every registered module that has a
timm twin (:data:`TIMM_TWINS`), we build our ResNet-18 with it, then the same network with each of
our modules swapped for timm's at the same place and channel count, and time training steps of both
in one process, alternating, at the same batch: the ratio is ours / theirs in images/s.

Two more numbers say what limits a ratio. The **ceiling** is the baseline network's speed over
timm's: the ratio ours would reach if our module cost nothing (Amdahl's law), so a target above
the ceiling cannot be met inside the network, however fast the module. The **block** ratio times
forward + backward of the two modules alone, at the channels and map size of their first place in
the network.

timm is a test-and-benchmark dependency only (``pip install attncv[bench]``)::

    python -m attncv.bench timm --out chapters/results/timm-cuda.json
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from ..attention import registry
from ..attention.sk import sk_groups
from ..env import default_device
from ..model import BasicBlock, ResNet, count_params, resnet18
from ..train import set_seed
from ..train.speed import throughput, time_and_memory
from ..views.tables import Table, show_table

# our registry name -> (class in timm.layers.<file>, its keyword arguments for C channels, chosen
# to match our module's paper defaults where timm's differ).
TIMM_TWINS: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
    "se": ("squeeze_excite.SEModule", lambda c: {"rd_channels": c // 16}),  # timm: 8s
    "eca": ("eca.EcaModule", lambda c: {}),  # the same kernel-size rule
    "sk": (  # both branches see all C channels, grouped as ours; d = max(C / 16, 32)
        "selective_kernel.SelectiveKernel",
        lambda c: {"rd_channels": max(c // 16, 32), "split_input": False, "groups": sk_groups(c)},
    ),
    "non_local": (  # theta, phi, g at C / 2; no 1/sqrt(C) scale, as in the paper
        "non_local_attn.NonLocalAttn",
        lambda c: {"rd_channels": c // 2, "use_scale": False},
    ),
    "cbam": (
        "cbam.CbamModule",
        lambda c: {"rd_channels": c // 16, "spatial_kernel_size": 7, "mlp_bias": True},
    ),
    "coordinate_attention": (
        "coord_attn.CoordAttn",
        lambda c: {"rd_channels": max(8, c // 32), "bias": True, "act_layer": nn.Hardswish},
    ),
}


def twins(names: Sequence[str] | None = None) -> list[str]:
    """Registered modules that timm also ships (all of them, or those among ``names``)."""
    pool = registry.names() if names is None else list(names)
    return [n for n in pool if n in TIMM_TWINS and n in registry.REGISTRY]


def timm_module(name: str, channels: int) -> nn.Module:
    """timm's implementation of our module ``name`` for ``channels`` channels."""
    path, kwargs = TIMM_TWINS[name]
    file, cls = path.rsplit(".", 1)
    try:
        layers = importlib.import_module(f"timm.layers.{file}")
    except ImportError as exc:
        raise ImportError(
            f"Comparing with timm needs timm ({exc}). Install it with: pip install 'attncv[bench]' "
            "(or pip install timm)."
        ) from None
    return getattr(layers, cls)(channels, **kwargs(channels))


def with_timm(model: ResNet, name: str) -> ResNet:
    """``model`` with every attention module replaced, in place, by timm's twin of ``name``."""
    for block in model.modules():
        if isinstance(block, BasicBlock):
            channels = block.bn2.num_features
            for slot in ("attention", "after"):
                if not isinstance(getattr(block, slot), nn.Identity):
                    setattr(block, slot, timm_module(name, channels))
    return model


def first_module(model: ResNet, image_size: int = 32) -> tuple[nn.Module, tuple[int, ...]]:
    """The first attention module in ``model`` and the shape of its input, (1, C, H, W)."""
    modules = (
        getattr(block, slot)
        for block in model.modules()
        if isinstance(block, BasicBlock)
        for slot in ("attention", "after")
        if not isinstance(getattr(block, slot), nn.Identity)
    )
    module = next(modules, None)
    if module is None:
        raise ValueError("this network has no attention module")
    shapes: list[tuple[int, ...]] = []
    hook = module.register_forward_pre_hook(lambda _m, args: shapes.append(tuple(args[0].shape)))
    was_training = model.training
    device = next(model.parameters()).device
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, image_size, image_size, device=device))
    hook.remove()
    model.train(was_training)
    return module, shapes[0]


def block_seconds(
    module: nn.Module, shape: tuple[int, ...], *, batch_size: int, steps: int, device: str
) -> float:
    """Median seconds of forward + backward of ``module`` alone on a random batch of ``shape``."""
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    fmt = torch.channels_last if cuda else torch.contiguous_format
    module = module.to(dev, memory_format=fmt).train()
    x = torch.randn(batch_size, *shape[1:], device=dev).to(memory_format=fmt).requires_grad_()
    seconds, _ = time_and_memory(module, x, steps=steps, warmup=2, amp=cuda)
    return seconds


def compare(
    names: Sequence[str] | None = None,
    *,
    batch_size: int | None = None,
    steps: int | None = None,
    repeats: int = 3,
    width: int | None = None,
    device: str | None = None,
    num_classes: int = 100,
    show: bool = True,
) -> list[dict[str, Any]]:
    """Time training and inference of ResNet-18 with ours and with timm's module, alternating
    ``repeats`` times in this process; keep each one's best. Prints and returns the rows.

    Defaults suit the device: on a GPU batch 256, 50 steps, width 64 (bf16, channels_last); on a
    CPU batch 32, 5 steps, width 16 (fp32).
    """
    device = device or default_device()
    gpu = device.startswith("cuda")
    batch_size, steps = batch_size or (256 if gpu else 32), steps or (50 if gpu else 5)
    width = width or (64 if gpu else 16)
    set_seed(0)
    base = resnet18(num_classes, width=width)
    rows = []
    for name in twins(names):
        set_seed(0)
        ours = resnet18(num_classes, attention=name, width=width)
        set_seed(0)
        theirs = with_timm(resnet18(num_classes, attention=name, width=width), name)
        best: dict[str, Any] = {}
        blocks: dict[str, float] = {}
        module, shape = first_module(ours)
        for _ in range(repeats):
            for who, model in (("ours", ours), ("timm", theirs), ("base", base)):
                t = throughput(
                    model,
                    batch_size=batch_size,
                    steps=steps,
                    warmup=max(2, steps // 5),
                    device=device,
                )
                if who not in best or t.train > best[who].train:
                    best[who] = t
            for who, block in (("ours", module), ("timm", first_module(theirs)[0])):
                sec = block_seconds(block, shape, batch_size=batch_size, steps=steps, device=device)
                blocks[who] = min(blocks.get(who, sec), sec)
        rows.append(
            {
                "name": name,
                "title": registry.REGISTRY[name].title,
                "timm_class": TIMM_TWINS[name][0].split(".")[-1],
                "params_ours": count_params(ours),
                "params_timm": count_params(theirs),
                "train_ours": best["ours"].train,
                "train_timm": best["timm"].train,
                "train_base": best["base"].train,
                "infer_ours": best["ours"].infer,
                "infer_timm": best["timm"].infer,
                "ratio": best["ours"].train / best["timm"].train,
                "ceiling": best["base"].train / best["timm"].train,
                "block_shape": list(shape[1:]),
                "block_ms_ours": 1e3 * blocks["ours"],
                "block_ms_timm": 1e3 * blocks["timm"],
                "block_ratio": blocks["timm"] / blocks["ours"],
                "device": best["ours"].device,
                "amp": best["ours"].amp,
                "precision": best["ours"].precision,
                "batch_size": batch_size,
                "width": width,
            }
        )
    if show:
        show_table(timm_table(rows))
    return rows


def timm_table(rows: list[dict[str, Any]]) -> Table:
    """The comparison as a :class:`~attncv.views.tables.Table`.

    ratio: ours/timm in training images/s of the whole network; ceiling: the baseline network
    over timm's (the most any module could reach); block: timm's time over ours for the module
    alone (forward + backward at its first place in the network).
    """
    if not rows:
        return Table(["module"], [], caption="No registered module has a timm twin yet.")
    r0 = rows[0]
    return Table(
        [
            "module",
            "timm class",
            "params",
            "ours img/s",
            "timm img/s",
            "ratio",
            "ceiling",
            "block ratio",
            "block at (C, H, W)",
        ],
        [
            [
                r["title"],
                r["timm_class"],
                f"{r['params_ours']:,}" + ("" if r["params_ours"] == r["params_timm"] else " ≠"),
                f"{r['train_ours']:,.0f}",
                f"{r['train_timm']:,.0f}",
                f"{r['ratio']:.2f}",
                f"{r['ceiling']:.2f}",
                f"{r['block_ratio']:.2f}",
                "x".join(map(str, r["block_shape"])),
            ]
            for r in rows
        ],
        caption=(
            f"Training images/s of ResNet-18 (width {r0['width']}, batch {r0['batch_size']}, "
            f"{r0['precision']}) on {r0['device']}, ours against timm's module in the same "
            "places. ratio: ours / timm, whole network; ceiling: baseline / timm, the most a "
            "module that cost nothing could reach; block ratio: the module alone, timm's time / "
            "ours."
        ),
    )
