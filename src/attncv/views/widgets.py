"""Interactive explorers for the notebooks (ipywidgets), each with a static figure first.

:func:`cost_explorer` moves a module's hyper-parameters (SE's reduction ratio, ECA's kernel_gamma
and kernel_b, or any library module's keyword arguments) and shows what ResNet-18 pays in
parameters and MACs;
:func:`attention_explorer` picks an image, a model, a stage and a block and shows the attention
weights there (read from the module's tap, :class:`attncv.attention.AttentionMap`).

Figures follow :mod:`attncv.views.style`: at most ``style.MAX_WIDTH`` wide, text at the style's
sizes, attention maps beside the photo with their colour bar (never blended over it).

Each explorer first draws a matplotlib figure for its starting setting, so a book built from
committed outputs shows something without a kernel; the sliders follow only where someone can move
them. When notebooks are executed for the book or CI (``$ATTNCV_PROGRESS`` is ``log`` or ``none``,
as ``make execute`` sets it) no widget is displayed, because the HTML could only show it as raw
``VBox(...)`` text.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from torch import nn

from ..attention import REGISTRY, capture, taps
from ..data import CifarData
from ..env import in_kernel
from ..model import BasicBlock, count_macs, count_params, resnet18
from . import style
from .plots import MAP_CMAP, caption, to_rgb

SWEEPS: dict[
    str, dict[str, tuple]
] = {  # module -> keyword -> values (the paper's default among them)
    "se": {"reduction": (2, 4, 8, 16, 32, 64)},
    "eca": {"kernel_gamma": (1, 2, 3, 4), "kernel_b": (0, 1, 2, 3)},
}
DEFAULTS = {"se": {"reduction": 16}, "eca": {"kernel_gamma": 2, "kernel_b": 1}}


def _show(fig: Figure) -> None:
    """Display a figure once (in a notebook or a widget's output) and release it."""
    from IPython.display import display

    display(fig)
    plt.close(fig)


def live() -> bool:
    """True where a person can move sliders: an IPython kernel, not a run for the book or CI."""
    return os.environ.get("ATTNCV_PROGRESS", "auto") not in ("log", "none") and in_kernel()


@lru_cache(maxsize=256)
def _cost(name: str, kwargs: tuple[tuple[str, object], ...]) -> tuple[int, int]:
    """(parameters of the whole ResNet-18, MACs of its attention modules alone).

    Counting MACs of the whole network under FlopCounterMode takes seconds on a CPU; the modules
    alone, on their blocks' output shapes, take milliseconds.
    """
    model = resnet18(100, attention=name, attention_kwargs=dict(kwargs) or None)
    blocks = [b for b in model.modules() if isinstance(b, BasicBlock)]
    macs = 0
    for block, shape in zip(blocks, _block_shapes(), strict=True):
        for module in (block.attention, block.after):  # both see (1, C, H, W) of the block
            if not isinstance(module, nn.Identity):
                macs += count_macs(module, tuple(shape))
    return count_params(model), macs


@lru_cache(maxsize=1)
def _block_shapes() -> list[torch.Size]:
    """The output shape of every BasicBlock of ResNet-18 on one 32x32 image, in order."""
    model = resnet18(100).eval()
    shapes: list[torch.Size] = []
    for block in model.modules():
        if isinstance(block, BasicBlock):
            block.register_forward_hook(lambda _m, _args, out: shapes.append(out.shape))
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    return shapes


@lru_cache(maxsize=1)
def _baseline_macs() -> int:
    return count_macs(resnet18(100))


def module_cost(name: str, **kwargs: object) -> dict[str, object]:
    """What ``name`` with ``kwargs`` adds to ResNet-18 (100 classes, width 64, 32x32 input)."""
    params, extra_macs = _cost(name, tuple(sorted(kwargs.items())))
    base_params, base_macs = _cost("none", ())[0], _baseline_macs()
    return {
        "name": name,
        "kwargs": kwargs,
        "params": params,
        "macs": base_macs + extra_macs,
        "extra_params": params - base_params,
        "extra_macs": extra_macs,
        "params_pct": 100 * (params - base_params) / base_params,
        "macs_pct": 100 * extra_macs / base_macs,
    }


def _describe(row: dict[str, object]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in row["kwargs"].items())
    title = REGISTRY[row["name"]].title
    return (
        f"{title}({args}): +{row['extra_params']:,} parameters ({_share(row['params_pct'])}), "
        f"+{row['extra_macs']:,} MACs ({_share(row['macs_pct'])})"
    )


def _share(pct: float) -> str:
    """A percentage with enough digits to be more than zero: "+0.0003%", never "+0.00%"."""
    if pct == 0:
        return "+0%"
    digits = 2
    while abs(pct) < 10 ** (1 - digits) and digits < 8:  # at least two significant digits
        digits += 1
    return f"{pct:+.{digits}f}%"


def cost_figure(
    sweeps: Mapping[str, Mapping[str, Sequence]], current: Mapping[str, Mapping[str, object]]
) -> Figure:
    """One row per (module, keyword): extra parameters and MACs of ResNet-18 as that keyword
    moves (the others held at ``current``); the current value is marked."""
    rows = [(n, k, v) for n, kw in sweeps.items() for k, v in kw.items()]
    fig, axes = plt.subplots(
        len(rows), 2, figsize=style.figsize(2.3 * len(rows)), squeeze=False, constrained_layout=True
    )
    for (name, key, values), (ax_p, ax_m) in zip(rows, axes, strict=True):
        costs = [module_cost(name, **{**current[name], key: v}) for v in values]
        now = module_cost(name, **current[name])
        for ax, field, label in (
            (ax_p, "extra_params", "extra parameters"),
            (ax_m, "extra_macs", "extra MACs"),
        ):
            ax.plot(values, [c[field] for c in costs], marker="o")
            ax.plot(
                [current[name][key]],
                [now[field]],
                marker="o",
                ms=11,
                mfc="none",
                mec="C3",
                label=f"now: {now[field]:,}",
            )
            if min(values) > 0 and max(values) / min(values) >= 8:  # ratios: even spacing
                ax.set_xscale("log", base=2)
                ax.xaxis.set_minor_locator(NullLocator())
            ax.set(xlabel=f"{key}", ylabel=label)
            ax.set_xticks(list(values), [f"{v:g}" for v in values])
            ax.set_title(f"{REGISTRY[name].title}: {label}")
            ax.grid(alpha=0.3)
            ax.legend()
    fig.suptitle("Cost added to ResNet-18 (width 64, 100 classes, 32x32)")
    return fig


def cost_explorer(
    sweeps: Mapping[str, Mapping[str, Sequence]] | None = None,
    defaults: Mapping[str, Mapping[str, object]] | None = None,
) -> list[dict]:
    """Sliders for each module's keywords (default: SE's reduction, ECA's gamma and b, where
    registered), with the parameters and MACs they add to ResNet-18. Returns the cost rows at the
    starting setting."""
    from IPython.display import display

    sweeps = dict(sweeps or SWEEPS)
    missing = [n for n in sweeps if n not in REGISTRY]
    if missing:
        print(f"Not registered in this version of attncv, left out: {', '.join(missing)}.")
    sweeps = {n: kw for n, kw in sweeps.items() if n in REGISTRY}
    current = {
        n: {k: (defaults or DEFAULTS).get(n, {}).get(k, v[len(v) // 2]) for k, v in kw.items()}
        for n, kw in sweeps.items()
    }
    rows = [module_cost(n, **current[n]) for n in sweeps]
    print("\n".join(_describe(r) for r in rows))
    _show(cost_figure(sweeps, current))
    if live():
        display(_cost_widgets(sweeps, current))
    else:
        print("(Run this notebook to move the sliders.)")
    return rows


def _cost_widgets(sweeps, current):
    import ipywidgets as w

    out = w.Output()

    def redraw(_change: object = None) -> None:
        for name, kw in sliders.items():
            current[name].update({k: s.value for k, s in kw.items()})
        with out:
            out.clear_output(wait=True)
            print("\n".join(_describe(module_cost(n, **current[n])) for n in sweeps))
            _show(cost_figure(sweeps, current))

    sliders = {
        n: {
            k: w.SelectionSlider(
                options=list(v), value=current[n][k], description=f"{REGISTRY[n].title} {k}"
            )
            for k, v in kw.items()
        }
        for n, kw in sweeps.items()
    }
    for kw in sliders.values():
        for s in kw.values():
            s.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox(list(kw.values())) for kw in sliders.values()] + [out])


def stage_of(tap: str) -> str:
    """``"layer3.1.attention.tap"`` -> ``"stage 3"``; taps outside the stages -> ``"other"``."""
    m = re.search(r"layer(\d+)", tap)
    return f"stage {m.group(1)}" if m else "other"


def attention_map(
    model: nn.Module, image: torch.Tensor, data: CifarData
) -> dict[str, torch.Tensor]:
    """Every tap's weights for one uint8 (3, H, W) image, batch dimension removed."""
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad(), capture(model) as maps:
        model(data.normalize(image[None].to(device)))
    return {k: v[0] for k, v in maps.items()}


def draw_weights(ax: Axes, image: torch.Tensor, weights: torch.Tensor, kind: str) -> None:
    """Show one image's attention weights the way their shape allows."""
    if kind == "affine":  # (2, 3): the sampled region as a box over the image
        corners = torch.tensor([[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1], [-1, -1, 1.0]])
        xy = (corners @ weights.T.cpu() + 1) * image.shape[-1] / 2 - 0.5  # (5, 2) in pixels
        ax.imshow(to_rgb(image)[0])
        ax.plot(xy[:, 0], xy[:, 1], color="C3", lw=2)
        ax.set_title("sampled region")
    elif weights.dim() == 3 and weights.shape[-1] > 1:  # (C, h, w) or (1, h, w): mean over C
        _map(ax, weights.mean(0), "map (mean over channels)")
    elif weights.dim() == 2 and weights.shape[0] == weights.shape[1] and _square(weights.shape[0]):
        side = math.isqrt(weights.shape[0])  # (HW, HW): what the centre position attends to
        _map(ax, weights[(side // 2) * side + side // 2].view(side, side), "where the centre looks")
    elif weights.dim() == 2:  # (K, C) branch weights and other matrices
        ax.imshow(weights.cpu(), aspect="auto", cmap="viridis")
        ax.set(xlabel="channel", ylabel="row", title="weights")
    else:  # (C, 1, 1) channel gates and anything else: one bar per weight
        flat = weights.flatten().cpu()
        ax.bar(range(len(flat)), flat, width=1.0)
        ax.set(xlabel="channel", ylabel="weight", title="channel weights")


def _square(n: int) -> bool:
    return math.isqrt(n) ** 2 == n


def _map(ax: Axes, weights: torch.Tensor, title: str) -> None:
    """A (h, w) map on its own axes, beside the photo, with its colour bar."""
    im = ax.imshow(weights.detach().float().cpu().numpy(), cmap=MAP_CMAP)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, shrink=0.85)


KIND_WORDS = {
    "channel": "a weight per channel",
    "spatial": "a weight per position",
    "position": "weights between positions",
    "branch": "weights over branches",
    "affine": "a predicted transform",
    "mask": "a soft mask",
}


def describe(tap: str, kind: str, shape: Sequence[int], label: str = "") -> str:
    """A reader's title for a module's attention weights: ``("layer3.1.attention.tap",
    "channel", (64, 1, 1), "SE")`` -> ``"SE, stage 3, block 2: a weight per channel (64)"``."""
    m = re.search(r"layer(\d+)\.(\d+)", tap)
    where = f"stage {m.group(1)}, block {int(m.group(2)) + 1}" if m else ""
    what = KIND_WORDS.get(kind, f"{kind} weights")
    if kind == "channel":
        what += f" ({shape[0]})"
    elif kind in ("spatial", "mask") and len(shape) == 3:
        what += f" ({shape[-2]}x{shape[-1]})"
    head = ", ".join(p for p in (label, where) if p)
    return f"{head}: {what}" if head else what[0].upper() + what[1:]


def attention_figure(
    model: nn.Module, data: CifarData, index: int, tap: str, *, label: str = "", split: str = "test"
) -> Figure:
    """The image ``index`` of ``split`` and the attention weights at ``tap`` of ``model``."""
    images, labels = data.split(split)
    image = images[index].cpu()
    kind = taps(model)[tap].kind
    weights = attention_map(model, image, data)[tap]
    fig, (ax_img, ax_w) = plt.subplots(1, 2, figsize=style.figsize(3.2), constrained_layout=True)
    ax_img.imshow(to_rgb(image)[0])
    ax_img.set_axis_off()
    ax_img.set_title(f"{split} image {index}: {data.classes[int(labels[index])]}")
    draw_weights(ax_w, image, weights, kind)
    fig.suptitle(describe(tap, kind, tuple(weights.shape), label))
    return caption(fig, f"Data: {data.description}.")


def attention_explorer(
    models: Mapping[str, nn.Module],
    data: CifarData,
    *,
    images: Sequence[int] = range(8),
    split: str = "test",
    tap: str | None = None,
) -> None:
    """Choose an image, a model, a stage and a tap; see the attention there. Shows the first
    image and model at ``tap`` (default: the model's first tap) as a static figure first."""
    from IPython.display import display

    models = {k: m for k, m in models.items() if taps(m)}
    if not models:
        raise ValueError(
            "None of the models has attention taps: pass models built with an "
            "attention module (for example resnet18(attention='se'))."
        )
    name = next(iter(models))
    tap = tap or next(iter(taps(models[name])))
    _show(attention_figure(models[name], data, images[0], tap, label=name, split=split))
    if live():
        display(_attention_widgets(models, data, list(images), split))
    else:
        print("(Run this notebook to choose other images, models, stages and blocks.)")


def _attention_widgets(models, data, images, split):
    import ipywidgets as w

    labels = data.split(split)[1]
    image = w.Dropdown(
        options=[(f"{i}: {data.classes[int(labels[i])]}", i) for i in images], description="image"
    )
    model = w.Dropdown(options=list(models), description="model")
    stage, tap, out = w.Dropdown(description="stage"), w.Dropdown(description="tap"), w.Output()

    def stages(_change: object = None) -> None:
        stage.options = sorted({stage_of(t) for t in taps(models[model.value])})
        stage.value = stage.options[0]
        tap_names()  # the stage may not have changed, the model's taps have

    def tap_names(_change: object = None) -> None:
        tap.options = [t for t in taps(models[model.value]) if stage_of(t) == stage.value]
        tap.value = tap.options[0] if tap.options else None

    def redraw(_change: object = None) -> None:
        if tap.value is None:
            return
        with out:
            out.clear_output(wait=True)
            _show(
                attention_figure(
                    models[model.value],
                    data,
                    image.value,
                    tap.value,
                    label=model.value,
                    split=split,
                )
            )

    model.observe(stages, names="value")
    stage.observe(tap_names, names="value")
    for control in (image, model, tap):
        control.observe(redraw, names="value")
    stages()
    redraw()
    return w.VBox([w.HBox([image, model]), w.HBox([stage, tap]), out])
