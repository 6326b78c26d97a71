"""The course's figures: training curves, image grids, attention maps over images, per-class bars.

Every figure that shows trained results names the dataset it came from in its title, so a plot
made on the CIFAR-10 substitute or synthetic data can never pass for CIFAR-100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from ..data import CifarData
from ..data.augment import augment
from ..train import FitResult, TrainConfig, lr_factor


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
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
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
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(_dataset_title(runs.values()), fontsize=10)
    return fig


def _dataset_title(runs) -> str:
    datasets = sorted({r.dataset for r in runs})
    devices = sorted({r.device for r in runs})
    return f"Data: {'; '.join(datasets)}  |  device: {', '.join(devices)}"


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
    fig, axes = plt.subplots(
        per_class,
        len(classes),
        figsize=(1.2 * len(classes), 1.3 * per_class),
        squeeze=False,
        constrained_layout=True,
    )
    labels_cpu = labels.cpu()
    for col, c in enumerate(classes):
        members = torch.nonzero(labels_cpu == c).flatten()
        pick = members[torch.randperm(len(members), generator=g)[:per_class]]
        for row, i in enumerate(pick.tolist()):
            ax = axes[row, col]
            ax.imshow(to_rgb(images[i])[0])
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(data.classes[c], fontsize=8)
    fig.suptitle(f"{data.description}: {split} images", fontsize=9)
    return fig


def overlay(
    ax: Axes,
    image: Tensor,
    weights: Tensor,
    *,
    title: str | None = None,
    alpha: float = 0.55,
    cmap: str = "jet",
) -> None:
    """Draw a (h, w) attention map, upsampled bilinearly, over a uint8 (3, H, W) image."""
    rgb = to_rgb(image)[0]
    w = weights.detach().float().cpu()
    w = torch.nn.functional.interpolate(
        w[None, None], size=rgb.shape[:2], mode="bilinear", align_corners=False
    )[0, 0]
    ax.imshow(rgb)
    im = ax.imshow(w.numpy(), cmap=cmap, alpha=alpha)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    return im


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
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(shown) + 2), 3.4), constrained_layout=True)
    for i, name in enumerate(names):
        acc = results[name].detach().cpu().numpy()[shown]
        ax.bar(x + i * width - 0.4 + width / 2, 100 * acc, width, label=name)
    ax.set_xticks(x, [classes[c] for c in shown], rotation=45, ha="right", fontsize=8)
    ax.set(
        ylabel="test accuracy (%)",
        ylim=(0, 100),
        title=f"Per-class accuracy, {what}{f' ({dataset})' if dataset else ''}",
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


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
        n, views + 1, figsize=(1.3 * (views + 1), 1.3 * n), squeeze=False, constrained_layout=True
    )
    columns = [images] + [augment(images, generator=g) for _ in range(views)]
    for col, batch in enumerate(columns):
        for row in range(n):
            ax = axes[row, col]
            ax.imshow(to_rgb(batch[row])[0])
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, col].set_title("original" if col == 0 else f"augmented {col}", fontsize=8)
    fig.suptitle(f"Random crop (pad 4) and flip, on the device ({data.description})", fontsize=8)
    return fig


def lr_schedule(config: TrainConfig, steps_per_epoch: int) -> Figure:
    """The learning rate of every optimisation step under ``config``."""
    fig, ax = plt.subplots(figsize=(6, 2.6), constrained_layout=True)
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
