"""The benchmark's figures: accuracy per module, accuracy against cost, curves, and the recipes'
learning-rate schedules."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..train import RECIPES
from ..views import style
from ..views.plots import caption, draw_lr, epochs, module_colour
from .report import MEASURES, measure, summarize
from .stats import welch_interval
from .sweep import Sweep

FAMILY_MARKERS = {"none": "s", "channel": "o", "spatial": "^", "mixed": "D"}


def source(sweep: Sweep) -> str:
    """Where a sweep's numbers came from, for a caption under its figures."""
    devices = ", ".join(sorted({r["device"] for r in sweep.runs}))
    seeds = len({r["seed"] for r in sweep.runs})
    return (
        f"Recipe {sweep.recipe['name']} ({MEASURES[measure(sweep)]}), {seeds} seed"
        f"{'s' if seeds != 1 else ''}. Data: {sweep.data}. Device: {devices}."
    )


def plot_accuracy(sweep: Sweep) -> Figure:
    """Left: top-1 accuracy per module, bars from 0 (every seed a dot, the spread over seeds an
    error bar). Right: each module's difference from the baseline with its 95% interval
    (Welch's, where there are at least two seeds a side)."""
    rows = summarize(sweep)
    base = rows[0]
    fig, (ax, ax_d) = plt.subplots(
        2, 1, figsize=style.figsize(8.4), constrained_layout=True, height_ratios=[1, 1.1]
    )
    x = range(len(rows))
    colours = [module_colour(r["name"]) for r in rows]
    ax.bar(
        x,
        [100 * r["top1"] for r in rows],
        color=colours,
        yerr=[100 * r["top1_sd"] if r["seeds"] > 1 else 0 for r in rows],
        capsize=3,
    )
    for i, r in enumerate(rows):
        ax.plot([i] * r["seeds"], [100 * a for a in r["top1_all"]], "k.", ms=4)
    ax.axhline(100 * base["top1"], color="0.3", ls="--", lw=1, label="baseline")
    ax.set_ylim(0, 100 * max(max(r["top1_all"]) for r in rows) * 1.08)
    ax.set_xticks(list(x), [r["title"] for r in rows], rotation=40, ha="right")
    ax.set(ylabel=f"top-1 test accuracy (%),\n{MEASURES[measure(sweep)]}", title="Accuracy")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right")
    others = rows[1:]
    y = list(range(len(others)))
    for i, r in enumerate(others):
        delta, half = 100 * r["delta"], None
        if r["seeds"] > 1 and base["seeds"] > 1:
            _, half, _ = welch_interval(r["top1_all"], base["top1_all"])
            half *= 100
        ax_d.errorbar(
            delta, i, xerr=half, fmt=FAMILY_MARKERS[r["family"]], color=colours[i + 1], capsize=3
        )
    ax_d.axvline(0, color="0.3", ls="--", lw=1)
    ax_d.set_yticks(y, [r["title"] for r in others])
    ax_d.invert_yaxis()
    ax_d.set(
        xlabel="difference from the baseline (points), 95% interval",
        title="Against the baseline",
    )
    ax_d.grid(axis="x", alpha=0.3)
    return caption(fig, source(sweep))


def plot_tradeoff(sweep: Sweep) -> Figure:
    """Accuracy against parameters, MACs and training throughput, one point per module (its own
    colour, its family's marker), named in one legend under the panels."""
    rows = summarize(sweep)
    panels = [
        ("params", "parameters (millions)", 1e-6),
        ("macs", "MACs per image (millions)", 1e-6),
        ("train_ips", "training images/s (right: faster)", 1.0),
    ]
    fig, grid = plt.subplots(2, 2, figsize=style.figsize(6.0), constrained_layout=True, sharey=True)
    axes = [grid[0, 0], grid[0, 1], grid[1, 0]]
    for ax, (key, label, unit) in zip(axes, panels, strict=True):
        for r in rows:
            ax.errorbar(
                unit * r[key],
                100 * r["top1"],
                yerr=100 * r["top1_sd"] if r["seeds"] > 1 else None,
                fmt=FAMILY_MARKERS[r["family"]],
                color=module_colour(r["name"]),
                ms=7,
                capsize=2,
                label=r["title"],
            )
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    for ax in (grid[0, 0], grid[1, 0]):
        ax.set_ylabel("top-1 accuracy (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    grid[1, 1].axis("off")  # the legend's own panel: it can cover no point and no caption
    grid[1, 1].legend(handles, labels, loc="center", ncol=2, frameon=False)
    fig.suptitle("Accuracy against cost (up and left is better)")
    return caption(fig, source(sweep))


def plot_curves(sweep: Sweep, seed: int | None = None) -> Figure:
    """Test accuracy per epoch of every module (one seed: the first by default), each module in
    its own colour."""
    seed = min(r["seed"] for r in sweep.runs) if seed is None else seed
    # narrower than the column: the legend under the axes widens the saved figure a little
    fig, ax = plt.subplots(figsize=style.figsize(5.4, 5.4), constrained_layout=True)
    for r in (r for r in sweep.runs if r["seed"] == seed):
        epochs_ = range(1, len(r["test_acc"]) + 1)
        ax.plot(
            epochs_,
            [100 * a for a in r["test_acc"]],
            marker=FAMILY_MARKERS[r["family"]],
            ms=3,
            label=r["title"],
            color=module_colour(r["name"]),
            lw=2.5 if r["name"] == "none" else 1,
        )
    ax.set(xlabel="epoch", ylabel="test accuracy (%)")
    ax.set_title(f"Test accuracy per epoch, seed {seed}")
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    return caption(fig, source(sweep))


def plot_recipes(train_images: int = 50_000) -> Figure:
    """The learning rate of every step under each recipe, on ``train_images`` per epoch."""
    fig, axes = plt.subplots(
        len(RECIPES), 1, figsize=style.figsize(2.3 * len(RECIPES)), constrained_layout=True
    )
    for ax, recipe in zip(axes, RECIPES.values(), strict=True):
        cfg = recipe.train
        title = (
            f"{recipe.name}: {cfg.schedule}, batch {cfg.batch_size}, "
            f"warm-up {epochs(cfg.warmup_epochs)}"
        )
        draw_lr(ax, cfg, train_images // cfg.batch_size, title=title)
    return fig
