"""The benchmark's figures: accuracy per module, accuracy against cost, curves, and the recipes'
learning-rate schedules."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..train import RECIPES
from ..views.plots import draw_lr, epochs
from .report import MEASURES, measure, summarize
from .sweep import Sweep

FAMILY_COLOURS = {
    "none": "0.45",
    "channel": "tab:blue",
    "spatial": "tab:orange",
    "mixed": "tab:green",
}


def _title(sweep: Sweep, what: str) -> str:
    devices = ", ".join(sorted({r["device"] for r in sweep.runs}))
    return f"{what}\nData: {sweep.data} | {devices} | recipe {sweep.recipe['name']}"


def plot_accuracy(sweep: Sweep) -> Figure:
    """Bars of top-1 accuracy per module (the recipe's measure); every seed a dot, the spread a
    bar."""
    rows = summarize(sweep)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.65 * len(rows) + 2), 3.8), constrained_layout=True)
    x = range(len(rows))
    ax.bar(
        x,
        [100 * r["top1"] for r in rows],
        color=[FAMILY_COLOURS[r["family"]] for r in rows],
        yerr=[100 * r["top1_sd"] if r["seeds"] > 1 else 0 for r in rows],
        capsize=3,
    )
    for i, r in enumerate(rows):
        ax.plot([i] * r["seeds"], [100 * a for a in r["top1_all"]], "k.", ms=4)
    base = 100 * rows[0]["top1"]
    ax.axhline(base, color="0.3", ls="--", lw=1, label=f"baseline {base:.1f}%")
    lo = min(100 * min(r["top1_all"]) for r in rows)
    hi = max(100 * max(r["top1_all"]) for r in rows)
    ax.set_ylim(max(0.0, lo - 0.6 * (hi - lo + 1)), hi + 0.3 * (hi - lo + 1))
    ax.set_xticks(list(x), [r["title"] for r in rows], rotation=35, ha="right", fontsize=8)
    ax.set(
        ylabel=f"top-1 test accuracy (%),\n{MEASURES[measure(sweep)]}",
        title=_title(sweep, "Accuracy by module (bars: mean over seeds; dots: seeds)"),
    )
    ax.title.set_fontsize(9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_tradeoff(sweep: Sweep) -> Figure:
    """Accuracy against parameters, MACs and training throughput, one point per module."""
    rows = summarize(sweep)
    panels = [
        ("params", "parameters (millions)", 1e-6),
        ("macs", "MACs per image (millions)", 1e-6),
        ("train_ips", "training images/s", 1.0),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), constrained_layout=True, sharey=True)
    for ax, (key, label, unit) in zip(axes, panels, strict=True):
        for r in rows:
            ax.errorbar(
                unit * r[key],
                100 * r["top1"],
                yerr=100 * r["top1_sd"] if r["seeds"] > 1 else None,
                fmt="o",
                color=FAMILY_COLOURS[r["family"]],
                capsize=2,
            )
            ax.annotate(
                r["title"],
                (unit * r[key], 100 * r["top1"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlabel(label)
        ax.margins(x=0.15)  # room for the labels of the rightmost points
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"top-1 accuracy (%), {MEASURES[measure(sweep)]}")
    fig.suptitle(
        _title(sweep, "Accuracy against cost (up and left is better; right for images/s)"),
        fontsize=9,
    )
    return fig


def plot_curves(sweep: Sweep, seed: int | None = None) -> Figure:
    """Test accuracy per epoch of every module (one seed: the first by default)."""
    seed = min(r["seed"] for r in sweep.runs) if seed is None else seed
    fig, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)
    for r in (r for r in sweep.runs if r["seed"] == seed):
        epochs = range(1, len(r["test_acc"]) + 1)
        ax.plot(
            epochs,
            [100 * a for a in r["test_acc"]],
            marker=".",
            label=r["title"],
            color=FAMILY_COLOURS[r["family"]] if r["name"] == "none" else None,
            lw=2.5 if r["name"] == "none" else 1,
        )
    ax.set(
        xlabel="epoch",
        ylabel="test accuracy (%)",
        title=_title(sweep, f"Test accuracy per epoch, seed {seed}"),
    )
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_recipes(train_images: int = 50_000) -> Figure:
    """The learning rate of every step under each recipe, on ``train_images`` per epoch."""
    fig, axes = plt.subplots(1, len(RECIPES), figsize=(10, 2.8), constrained_layout=True)
    for ax, recipe in zip(axes, RECIPES.values(), strict=True):
        cfg = recipe.train
        title = (
            f"{recipe.name}: {cfg.schedule}, batch {cfg.batch_size}, "
            f"warm-up {epochs(cfg.warmup_epochs)}"
        )
        draw_lr(ax, cfg, train_images // cfg.batch_size, title=title)
        ax.title.set_fontsize(9)
    return fig
