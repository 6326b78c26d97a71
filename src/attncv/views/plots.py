"""The course's figures: training curves, image grids, attention maps over images, per-class bars.

Conventions every figure of the course follows:

- a short title; where the numbers came from (data, device) goes in a caption line *under* the
  figure (:func:`caption`), so a plot made on the CIFAR-10 substitute or synthetic data can never
  pass for CIFAR-100, and long provenance never shrinks a title until it cannot be read;
- losses on a log axis, so a first-epoch spike does not flatten the rest of the curve;
- attention maps in one perceptual colour map (:data:`MAP_CMAP`) on one stated scale, with a colour
  bar;
- one colour per module, the same in every figure (:func:`module_colour`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from torch import Tensor

from ..attention import names
from ..data import CifarData
from ..data.augment import augment
from ..train import FitResult, TrainConfig, lr_factor
from . import style

MAP_CMAP = "viridis"  # perceptually uniform: equal steps in value look like equal steps
CAPTION_SIZE = style.MIN_FONT


def caption(fig: Figure, text: str) -> Figure:
    """Put ``text`` (where the numbers came from) under the figure, wrapped to its width.

    The caption comes last: the figure is laid out first and its layout kept, and each figure
    legend is pinned where the layout put it. (A figure legend is anchored to the figure's box,
    which a save with bbox_inches="tight", as the notebook's inline backend saves, replaces by
    the cropped box, caption included: a legend "outside lower center" would move down onto
    the caption.)
    """
    import textwrap

    width = max(40, int(fig.get_figwidth() * 11))  # characters per line at 10 pt
    if fig.legends:
        fig.canvas.draw()
        fig.set_layout_engine("none")
        renderer = fig.canvas.get_renderer()
        for legend in fig.legends:
            box = legend.get_window_extent(renderer).transformed(fig.transFigure.inverted())
            legend.set_bbox_to_anchor(box, transform=fig.transFigure)
            legend.set_loc("lower left")
    fig.text(
        0.01,
        0.0,
        textwrap.fill(text, width),
        ha="left",
        va="top",
        fontsize=CAPTION_SIZE,
        color="0.3",
        transform=fig.transFigure,
    )
    return fig


def module_colour(name: str) -> tuple[float, float, float, float]:
    """A distinct colour for every registry module (the baseline grey), the same in every
    figure: ``tab20``'s dark and light shades, enough for a dozen modules."""
    if name in ("none", "baseline"):
        return (0.35, 0.35, 0.35, 1.0)
    modules = [n for n in names() if n != "none"]
    index = modules.index(name) if name in modules else len(modules)
    cmap = plt.get_cmap("tab20")
    return cmap((2 * index) % 20 + (index // 10) % 2)


def _results(
    results: FitResult | Sequence[FitResult] | Mapping[str, FitResult],
) -> dict[str, FitResult]:
    if isinstance(results, FitResult):
        return {results.name: results}
    if isinstance(results, Mapping):
        return dict(results)
    return {r.name: r for r in results}


def curves(results: FitResult | Sequence[FitResult] | Mapping[str, FitResult]) -> Figure:
    """Training loss and test accuracy per epoch, one line per run, on one figure."""
    runs = _results(results)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=style.figsize(3.6), constrained_layout=True)
    for label, r in runs.items():
        epochs = r.curve("epoch")
        (line,) = ax_loss.plot(epochs, r.curve("train_loss"), marker=".", label=f"{label} (train)")
        ax_loss.plot(
            epochs, r.curve("test_loss"), ls="--", color=line.get_color(), label=f"{label} (test)"
        )
        ax_acc.plot(
            epochs,
            [100 * a for a in r.curve("test_acc")],
            marker=".",
            color=line.get_color(),
            label=f"{label}: {r.final_acc:.1%}",
        )
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss (log scale)", title="Loss")
    ax_loss.set_yscale("log")  # a first-epoch spike must not flatten the rest
    # plain decimals (0.7, 1, 1.5, 2) on the log axis, not matplotlib's "2×10⁰"
    ax_loss.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax_loss.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_loss.yaxis.set_minor_formatter(NullFormatter())
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    return caption(fig, provenance(runs.values()))


def learned_scales(
    result: FitResult, prefix: str, *, start: float = 0.0, ylabel: str = "value"
) -> Figure:
    """Values recorded per epoch (history keys starting with ``prefix``), from ``start`` at 0."""
    keys = sorted({k for row in result.history for k in row if k.startswith(prefix)})
    fig, ax = plt.subplots(figsize=style.figsize(3.2), constrained_layout=True)
    epochs = [0] + result.curve("epoch")
    for key in keys:
        ax.plot(epochs, [start] + result.curve(key), marker=".", label=key[len(prefix) :].strip())
    ax.set(xlabel="epoch (0 = initialisation)", ylabel=ylabel, title=result.name)
    ax.grid(alpha=0.3)
    ax.legend(title="block")
    return caption(fig, provenance([result]))


def provenance(runs) -> str:
    """Where runs came from: their data and device(s), for a caption."""
    datasets = sorted({r.dataset for r in runs})
    devices = sorted({r.device for r in runs})
    return f"Data: {'; '.join(datasets)}. Device: {', '.join(devices)}."


def to_rgb(images: Tensor) -> np.ndarray:
    """uint8 (N, 3, H, W) or a single (3, H, W) image -> float (N, H, W, 3) in [0, 1]."""
    if images.dim() == 3:
        images = images[None]
    return images.detach().cpu().permute(0, 2, 3, 1).float().numpy() / 255.0


def image_grid(
    data: CifarData,
    *,
    split: str = "train",
    per_class: int = 1,
    max_classes: int = 10,
    seed: int = 0,
) -> Figure:
    """A grid of sample images, one column per class, captioned with the class name."""
    images, labels = data.split(split)
    g = torch.Generator().manual_seed(seed)
    classes = list(range(min(data.num_classes, max_classes)))
    cols = min(len(classes), 5)  # five classes a row: each image about 1.1 in, its name legible
    bands = -(-len(classes) // cols)
    fig, axes = plt.subplots(
        per_class * bands,
        cols,
        figsize=style.figsize(1.25 * per_class * bands, 1.2 * cols),
        squeeze=False,
        constrained_layout=True,
    )
    for ax in axes.flat:
        ax.axis("off")
    labels_cpu = labels.cpu()
    for k, c in enumerate(classes):
        band, col = divmod(k, cols)
        members = torch.nonzero(labels_cpu == c).flatten()
        pick = members[torch.randperm(len(members), generator=g)[:per_class]]
        for row, i in enumerate(pick.tolist()):
            ax = axes[band * per_class + row, col]
            ax.imshow(to_rgb(images[i])[0])
            if row == 0:
                ax.set_title(data.classes[c])
    return caption(fig, f"{split.capitalize()} images of {data.description}.")


def per_class_accuracy(
    results: Mapping[str, Tensor],
    classes: Sequence[str],
    *,
    dataset: str = "",
    max_classes: int = 20,
) -> Figure:
    """Grouped bars of per-class test accuracy (values in [0, 1]) for one or more models.

    With more than ``max_classes`` classes, shows the best and the worst ``max_classes / 2``
    classes of the first model.
    """
    names = list(results)
    first = results[names[0]].detach().cpu()
    order = torch.argsort(first, descending=True)
    if len(classes) > max_classes:
        half = max_classes // 2
        shown = torch.cat([order[:half], order[-half:]]).tolist()
        what = f"the {half} best and {half} worst of {len(classes)} classes"
    else:
        shown, what = list(range(len(classes))), "every class"
    x = np.arange(len(shown))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=style.figsize(3.6), constrained_layout=True)
    for i, name in enumerate(names):
        acc = results[name].detach().cpu().numpy()[shown]
        ax.bar(x + i * width - 0.4 + width / 2, 100 * acc, width, label=name)
    ax.set_xticks(x, [classes[c] for c in shown], rotation=45, ha="right")
    ax.set(
        ylabel="test accuracy (%)",
        ylim=(0, 100),
        title=f"Per-class accuracy, {what}",
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return caption(fig, f"Test split of {dataset}.") if dataset else fig


def class_accuracy(logits: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Accuracy per class (num_classes,), from logits and labels."""
    hits = (logits.argmax(1) == labels).float()
    total = torch.bincount(labels, minlength=num_classes).clamp(min=1)
    return torch.bincount(labels, weights=hits, minlength=num_classes) / total


def augmentations(data: CifarData, *, n: int = 6, views: int = 3, seed: int = 0) -> Figure:
    """Training images (left column) and random crops and flips of them, as training sees them."""
    images = data.train_images[:n]
    g = torch.Generator(device=images.device).manual_seed(seed)
    fig, axes = plt.subplots(
        n,
        views + 1,
        figsize=style.figsize(1.2 * n, 1.3 * (views + 1)),
        squeeze=False,
        constrained_layout=True,
    )
    columns = [images] + [augment(images, generator=g) for _ in range(views)]
    for col, batch in enumerate(columns):
        for row in range(n):
            ax = axes[row, col]
            ax.imshow(to_rgb(batch[row])[0])
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, col].set_title("original" if col == 0 else f"crop+flip {col}")
    fig.suptitle("Random crop (pad 4) and flip, on the device")
    return caption(fig, f"Data: {data.description}.")


def lr_schedule(config: TrainConfig, steps_per_epoch: int) -> Figure:
    """The learning rate of every optimisation step under ``config``."""
    fig, ax = plt.subplots(figsize=style.figsize(2.6), constrained_layout=True)
    draw_lr(ax, config, steps_per_epoch)
    return fig


def draw_lr(ax: Axes, config: TrainConfig, steps_per_epoch: int, *, title: str = "") -> None:
    """Draw the learning rate of the optimisation steps under ``config`` (up to 2,000 points)."""
    total = config.epochs * steps_per_epoch
    steps = np.arange(0, total, max(1, total // 2000))
    lrs = [config.lr * lr_factor(config, int(s), steps_per_epoch) for s in steps]
    ax.plot(steps / steps_per_epoch, lrs)
    ax.set(
        xlabel="epoch",
        ylabel="learning rate",
        title=title or f"{config.schedule} schedule, warm-up {epochs(config.warmup_epochs)}",
    )
    ax.grid(alpha=0.3)


def epochs(n: float) -> str:
    """``n`` epochs in words: "1 epoch", "0.4 epochs", "3 epochs"."""
    return f"{n:g} epoch{'' if n == 1 else 's'}"


def confusions(
    logits: Tensor, labels: Tensor, classes: Sequence[str], *, top: int = 5
) -> list[tuple[int, str, str]]:
    """The ``top`` most frequent mistakes: (count, true class, predicted class), most first."""
    k = len(classes)
    pairs = labels.cpu() * k + logits.argmax(1).cpu()  # true * K + predicted
    counts = torch.bincount(pairs, minlength=k * k).view(k, k)
    counts.fill_diagonal_(0)
    values, flat = torch.topk(counts.flatten(), min(top, k * k))
    return [
        (int(n), classes[i // k], classes[i % k])
        for n, i in zip(values.tolist(), flat.tolist(), strict=True)
        if n > 0
    ]
