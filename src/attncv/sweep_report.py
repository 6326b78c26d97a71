"""The benchmark's table and figures, from a :class:`~attncv.sweep.Sweep` (trained or loaded).

Accuracy is the mean over seeds of each run's best-5 mean (the notes' measure), with the spread
over seeds where there are several; costs are those of the trained configuration.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .plots import epochs
from .sweep import RECIPES, Sweep
from .train import TrainConfig, lr_factor

FAMILY_COLOURS = {
    "none": "0.45",
    "channel": "tab:blue",
    "spatial": "tab:orange",
    "mixed": "tab:green",
}


def _spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else float("nan")


MEASURES = {"best5_acc": "mean of the best 5 epochs", "final_acc": "final epoch"}


def measure(sweep: Sweep) -> str:
    """The run measure the recipe ranks by: ``best5_acc`` (seed) or ``final_acc`` (fast)."""
    name = sweep.recipe.get("name")
    return sweep.recipe.get("measure") or (
        RECIPES[name].measure if name in RECIPES else "best5_acc"
    )


def summarize(sweep: Sweep) -> list[dict[str, Any]]:
    """One row per module (baseline first): top-1 (the recipe's :func:`measure`) as mean and
    spread over seeds, the best-5 and final means beside it, and costs.

    Speeds are the fastest of the seeds' runs: other work on a shared machine can only slow a
    run down, so the best run is the closest to what the network costs (as with ``timeit``).
    """
    key, rows = measure(sweep), []
    for name in sweep.names():
        runs = [r for r in sweep.runs if r["name"] == name]
        top1 = [r[key] for r in runs]
        best5 = [r["best5_acc"] for r in runs]
        final = [r["final_acc"] for r in runs]
        rows.append(
            {
                "name": name,
                "title": runs[0]["title"],
                "family": runs[0]["family"],
                "seeds": len(runs),
                "top1": statistics.mean(top1),
                "top1_sd": _spread(top1),
                "top1_all": top1,
                "best5": statistics.mean(best5),
                "final": statistics.mean(final),
                "final_sd": _spread(final),
                "params": runs[0]["params"],
                "macs": runs[0]["macs"],
                "train_ips": max(r["train_ips"] for r in runs),
                "epoch_seconds": min(r["epoch_seconds"] for r in runs),
                "infer_ips": max(r["infer_ips"] for r in runs),
                "peak_mb": runs[0]["peak_mb"],
            }
        )
    base = next((r for r in rows if r["name"] == "none"), rows[0])
    for r in rows:
        r["delta"] = r["top1"] - base["top1"]
        r["params_x"] = r["params"] / base["params"]
        r["train_x"] = r["train_ips"] / base["train_ips"]
    return rows


def _mb(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"  # NaN (a CPU) -> "-"


def format_table(sweep: Sweep) -> str:
    """The table as text: top-1 (mean ± sd over seeds), Δ to the baseline, the best-5 and final
    means, costs and speed."""
    rows = summarize(sweep)
    head = (
        f"top-1 = {MEASURES[measure(sweep)]} (mean over seeds ± sd)\n"
        f"{'module':<22}{'seeds':>6}{'top-1 %':>14}{'Δ':>7}{'best-5 %':>9}{'final %':>9}"
        f"{'params':>12}"
        f"{'x':>6}{'MACs (M)':>10}{'train img/s':>13}{'x':>6}{'infer img/s':>13}"
        f"{'peak MB':>9}"
    )
    lines = [head]
    for r in rows:
        sd = f"±{100 * r['top1_sd']:.1f}" if r["seeds"] > 1 else ""
        lines.append(
            f"{r['title'][:21]:<22}{r['seeds']:>6}{100 * r['top1']:>8.2f}{sd:>6}"
            f"{100 * r['delta']:>+7.2f}{100 * r['best5']:>9.2f}{100 * r['final']:>9.2f}"
            f"{r['params']:>12,}"
            f"{r['params_x']:>6.2f}{r['macs'] / 1e6:>10.1f}{r['train_ips']:>13,.0f}"
            f"{r['train_x']:>6.2f}{r['infer_ips']:>13,.0f}{_mb(r['peak_mb']):>9}"
        )
    return "\n".join(lines)


def provenance(sweep: Sweep) -> str:
    """Where the numbers came from, in a few lines."""
    env, scale, train = sweep.environment, sweep.scale, sweep.scale["train"]
    size = " (every training image)" if scale["train_size"] is None else ""
    commit = (env.get("git_commit") or "unknown")[:10] + (
        " (dirty)" if env.get("git_dirty") else ""
    )
    seeds = sorted({r["seed"] for r in sweep.runs})
    return "\n".join(
        [
            f"recipe:  {sweep.recipe['name']} as run: {train['epochs']} epochs, batch "
            f"{train['batch_size']}, lr {train['lr']:g}, {train['schedule']} schedule"
            + (
                f" (x{train['gamma']:g} at epochs {train['milestones']})"
                if train["schedule"] == "step"
                else ""
            )
            + f", warm-up {epochs(train['warmup_epochs'])}, label smoothing "
            f"{train['label_smoothing']:g}; seeds {seeds}",
            f"data:    {sweep.data}{size}, ResNet-18 width {scale['width']}",
            f"device:  {', '.join(sorted({r['device'] for r in sweep.runs}))}",
            f"code:    attncv {env['attncv']}, torch {env['torch']}, Python {env['python']}, "
            f"git {commit}, {env['created']}",
        ]
        + ([f"note:    {scale['note']}"] if scale.get("note") else [])
    )


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
        cfg: TrainConfig = recipe.train
        per_epoch = train_images // cfg.batch_size
        steps = range(0, cfg.epochs * per_epoch, max(1, per_epoch // 20))
        ax.plot(
            [s / per_epoch for s in steps], [cfg.lr * lr_factor(cfg, s, per_epoch) for s in steps]
        )
        ax.set(
            xlabel="epoch",
            ylabel="learning rate",
            title=f"{recipe.name}: {cfg.schedule}, "
            f"batch {cfg.batch_size}, {cfg.warmup_epochs:g} warm-up epoch(s)",
        )
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    return fig


# Student's t: the 97.5% quantile for 1 to 30 degrees of freedom (two-sided 95%); 1.96 beyond.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def welch_interval(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Mean difference ``a - b``, the half-width of its 95% interval, and Welch's degrees of
    freedom, for two independent samples with unequal spreads (at least two values each).

    The half-width is t(0.975, df) times the standard error sqrt(s_a^2/n_a + s_b^2/n_b); df is
    the Welch-Satterthwaite approximation, rounded down (which widens the interval a little).
    """
    if len(a) < 2 or len(b) < 2:
        raise ValueError("a 95% interval needs at least two seeds on each side.")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se2 = va + vb
    delta = statistics.mean(a) - statistics.mean(b)
    if se2 == 0:
        return delta, 0.0, float("inf")
    df = se2**2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = _T975[int(df) - 1] if int(df) <= len(_T975) else 1.96
    return delta, t * se2**0.5, df


def against_baseline(sweep: Sweep) -> str:
    """Each module's difference from the baseline, with its 95% interval where seeds allow.

    The interval is Welch's (:func:`welch_interval`): with three seeds a side, the spread itself
    is uncertain, so the t quantile (about 2.8 to 4.3) replaces the normal's 1.96.
    """
    rows = summarize(sweep)
    base, lines = rows[0], []
    if base["seeds"] < 2:
        lines.append("One seed only: no spread to show (run with --seeds 0 1 2 to see it).")
    else:
        lines.append("difference from the baseline in points, ± the half-width of its 95% interval")
    for r in rows[1:]:
        text = f"{r['title']:<22}{100 * r['delta']:+6.2f}"
        if r["seeds"] > 1 and base["seeds"] > 1:
            delta, half, df = welch_interval(r["top1_all"], base["top1_all"])
            verdict = "a difference" if abs(delta) > half else "within the noise"
            text += f" ± {100 * half:4.2f} (Welch, {df:4.1f} df): {verdict}"
        else:
            text += " points"
        lines.append(text)
    return "\n".join(lines)


def ranking(sweep: Sweep) -> str:
    """Modules by accuracy, the families' mean difference from the baseline, the heaviest and
    slowest module."""
    rows = summarize(sweep)
    ranked = sorted(rows, key=lambda r: -r["top1"])
    lines = ["by accuracy: " + " > ".join(r["title"] for r in ranked)]
    for family in ("channel", "spatial", "mixed"):
        members = [r for r in rows if r["family"] == family]
        if members:
            mean = statistics.mean(r["delta"] for r in members)
            lines.append(
                f"{family:>8}: mean {100 * mean:+.2f} points vs the baseline over "
                f"{len(members)} module(s)"
            )
    heavy = max(rows, key=lambda r: r["params"])
    slow = min(rows, key=lambda r: r["train_ips"])
    lines.append(
        f"most parameters: {heavy['title']} ({heavy['params_x']:.2f}x the baseline); "
        f"slowest to train: {slow['title']} ({slow['train_x']:.2f}x the baseline's speed)"
    )
    return "\n".join(lines)
