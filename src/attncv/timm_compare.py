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

from .attention import registry
from .attention.sk import sk_groups
from .backbone import BasicBlock, ResNet, resnet18
from .cost import count_params, throughput, time_and_memory
from .train import set_seed

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
TARGETS = {"non_local": 2.0}  # ours / timm in training images/s; 1.0 for the others


def twins(names: Sequence[str] | None = None) -> list[str]:
    """Registered modules that timm also ships (all of them, or those among ``names``)."""
    pool = registry.names() if names is None else list(names)
    return [n for n in pool if n in TIMM_TWINS and n in registry.REGISTRY]


def timm_module(name: str, channels: int) -> nn.Module:
    """timm's implementation of our module ``name`` for ``channels`` channels."""
    path, kwargs = TIMM_TWINS[name]
    file, cls = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"timm.layers.{file}"), cls)(
        channels, **kwargs(channels)
    )


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
) -> list[dict[str, Any]]:
    """Time training and inference of ResNet-18 with ours and with timm's module, alternating
    ``repeats`` times in this process; keep each one's best. Prints and returns the rows.

    Defaults suit the device: on a GPU batch 256, 50 steps, width 64 (bf16, channels_last); on a
    CPU batch 32, 5 steps, width 16 (fp32).
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
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
                "target": TARGETS.get(name, 1.0),
                "device": best["ours"].device,
                "amp": best["ours"].amp,
                "precision": best["ours"].precision,
                "batch_size": batch_size,
                "width": width,
            }
        )
    print(format_rows(rows))
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The comparison as a text table; a ✗ marks a ratio under its target.

    ratio: ours / timm in training images/s of the whole network; ceiling: the baseline network
    over timm's (the most any module could reach); block: timm's time over ours for the module
    alone (forward + backward at its first place in the network).
    """
    if not rows:
        return "No registered module has a timm twin yet."
    r0 = rows[0]
    lines = [
        f"ResNet-18 width {r0['width']}, batch {r0['batch_size']}, {r0['device']}, "
        f"{r0.get('precision', 'bf16' if r0['amp'] else 'fp32')}: training images/s, ours vs timm",
        f"{'module':<21}{'timm class':<16}{'params':>11}{'ours':>7}{'timm':>7}{'ratio':>7}"
        f"{'ceiling':>8}{'block':>7}{'at (C, H, W)':>15}{'target':>8}",
    ]
    for r in rows:
        mark = "" if r["ratio"] >= r["target"] else " ✗"
        same = "" if r["params_ours"] == r["params_timm"] else "≠"
        at = "x".join(map(str, r["block_shape"])) if "block_shape" in r else "-"
        lines.append(
            f"{r.get('title', r['name']):<21}{r['timm_class']:<16}{r['params_ours']:>10,}{same:1}"
            f"{r['train_ours']:>7,.0f}{r['train_timm']:>7,.0f}{r['ratio']:>7.2f}"
            f"{r.get('ceiling', float('nan')):>8.2f}{r.get('block_ratio', float('nan')):>7.2f}"
            f"{at:>15}{r['target']:>7.1f}x{mark}"
        )
    lines.append("ratio: ours/timm, whole network; ceiling: baseline/timm, the most a free module "
                 "could reach; block: the module alone, timm's time/ours")
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    """The ``timm`` subcommand of ``python -m attncv.bench``."""
    p = sub.add_parser("timm", help="training speed of our modules vs timm's (ratio ours/theirs)")
    p.add_argument(
        "--names",
        nargs="*",
        help=f"modules (default: all of {sorted(TIMM_TWINS)} that are registered)",
    )
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--out", default=None, help="write the rows and environment as JSON here")
    p.set_defaults(run=_cli)


def _cli(args: Any) -> int:
    import json
    from pathlib import Path

    from .sweep import environment

    rows = compare(**{k: v for k, v in vars(args).items() if k not in ("command", "run", "out")})
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
        path.write_text(
            json.dumps({"environment": environment([device]), "rows": rows}, indent=1) + "\n"
        )
        print(f"Wrote {path}")
    return 0
