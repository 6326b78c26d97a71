"""The benchmark's table and figures, from a :class:`~attncv.sweep.Sweep` (trained or loaded).

Accuracy is the mean over seeds of each run's best-5 mean (the notes' measure), with the spread
over seeds where there are several; costs are those of the trained configuration.
"""

from __future__ import annotations

import statistics
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .sweep import Sweep

FAMILY_COLOURS = {
    "none": "0.45",
    "channel": "tab:blue",
    "spatial": "tab:orange",
    "mixed": "tab:green",
}


def _spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else float("nan")


def summarize(sweep: Sweep) -> list[dict[str, Any]]:
    """One row per module (baseline first): accuracy mean and spread over seeds, and costs."""
    rows = []
    for name in sweep.names():
        runs = [r for r in sweep.runs if r["name"] == name]
        best5 = [r["best5_acc"] for r in runs]
        final = [r["final_acc"] for r in runs]
        rows.append(
            {
                "name": name,
                "title": runs[0]["title"],
                "family": runs[0]["family"],
                "seeds": len(runs),
                "best5": statistics.mean(best5),
                "best5_sd": _spread(best5),
                "best5_all": best5,
                "final": statistics.mean(final),
                "final_sd": _spread(final),
                "params": runs[0]["params"],
                "macs": runs[0]["macs"],
                "train_ips": statistics.mean(r["train_ips"] for r in runs),
                "epoch_seconds": statistics.median(r["epoch_seconds"] for r in runs),
                "infer_ips": statistics.mean(r["infer_ips"] for r in runs),
                "peak_mb": runs[0]["peak_mb"],
            }
        )
    base = next((r for r in rows if r["name"] == "none"), rows[0])
    for r in rows:
        r["delta"] = r["best5"] - base["best5"]
        r["params_x"] = r["params"] / base["params"]
        r["train_x"] = r["train_ips"] / base["train_ips"]
    return rows


def _mb(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"  # NaN (a CPU) -> "-"


def format_table(sweep: Sweep) -> str:
    """The table as text: top-1 (best-5 mean ± sd over seeds; final epoch), costs, speed."""
    rows = summarize(sweep)
    head = (
        f"{'module':<22}{'seeds':>6}{'best-5 %':>14}{'Δ':>7}{'final %':>9}{'params':>12}"
        f"{'x':>6}{'MACs (M)':>10}{'train img/s':>13}{'x':>6}{'infer img/s':>13}"
        f"{'peak MB':>9}"
    )
    lines = [head]
    for r in rows:
        sd = f"±{100 * r['best5_sd']:.1f}" if r["seeds"] > 1 else ""
        lines.append(
            f"{r['title'][:21]:<22}{r['seeds']:>6}{100 * r['best5']:>8.2f}{sd:>6}"
            f"{100 * r['delta']:>+7.2f}{100 * r['final']:>9.2f}{r['params']:>12,}"
            f"{r['params_x']:>6.2f}{r['macs'] / 1e6:>10.1f}{r['train_ips']:>13,.0f}"
            f"{r['train_x']:>6.2f}{r['infer_ips']:>13,.0f}{_mb(r['peak_mb']):>9}"
        )
    return "\n".join(lines)


def provenance(sweep: Sweep) -> str:
    """Where the numbers came from, in a few lines."""
    env, scale, train = sweep.environment, sweep.scale, sweep.scale["train"]
    size = "all" if scale["train_size"] is None else f"{scale['train_size']:,}"
    commit = (env.get("git_commit") or "unknown")[:10] + (
        " (dirty)" if env.get("git_dirty") else ""
    )
    seeds = sorted({r["seed"] for r in sweep.runs})
    return "\n".join(
        [
            f"recipe:  {sweep.recipe['name']} as run: {train['epochs']} epochs, batch "
            f"{train['batch_size']}, lr {train['lr']:g}, {train['schedule']} schedule, "
            f"{train['warmup_epochs']:g} warm-up epochs, label smoothing "
            f"{train['label_smoothing']:g}; seeds {seeds}",
            f"data:    {sweep.data} ({size} training images), ResNet-18 width {scale['width']}",
            f"device:  {', '.join(sorted(set(env['devices'])))}",
            f"code:    attncv {env['attncv']}, torch {env['torch']}, Python {env['python']}, "
            f"git {commit}, {env['created']}",
        ]
        + ([f"note:    {scale['note']}"] if scale.get("note") else [])
    )


def _title(sweep: Sweep, what: str) -> str:
    devices = ", ".join(sorted(set(sweep.environment["devices"])))
    return f"{what}\nData: {sweep.data} | {devices} | recipe {sweep.recipe['name']}"


def plot_accuracy(sweep: Sweep) -> Figure:
    """Bars of top-1 accuracy (best-5 mean) per module; every seed as a dot, spread as a bar."""
    rows = summarize(sweep)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.65 * len(rows) + 2), 3.8), constrained_layout=True)
    x = range(len(rows))
    ax.bar(
        x,
        [100 * r["best5"] for r in rows],
        color=[FAMILY_COLOURS[r["family"]] for r in rows],
        yerr=[100 * r["best5_sd"] if r["seeds"] > 1 else 0 for r in rows],
        capsize=3,
    )
    for i, r in enumerate(rows):
        ax.plot([i] * r["seeds"], [100 * a for a in r["best5_all"]], "k.", ms=4)
    base = 100 * rows[0]["best5"]
    ax.axhline(base, color="0.3", ls="--", lw=1, label=f"baseline {base:.1f}%")
    lo = min(100 * min(r["best5_all"]) for r in rows)
    hi = max(100 * max(r["best5_all"]) for r in rows)
    ax.set_ylim(max(0.0, lo - 0.6 * (hi - lo + 1)), hi + 0.3 * (hi - lo + 1))
    ax.set_xticks(list(x), [r["title"] for r in rows], rotation=35, ha="right", fontsize=8)
    ax.set(
        ylabel="top-1 test accuracy (%),\nmean of best 5 epochs",
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
                100 * r["best5"],
                yerr=100 * r["best5_sd"] if r["seeds"] > 1 else None,
                fmt="o",
                color=FAMILY_COLOURS[r["family"]],
                capsize=2,
            )
            ax.annotate(
                r["title"],
                (unit * r[key], 100 * r["best5"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("top-1 accuracy (%), best-5 mean")
    fig.suptitle(
        _title(sweep, "Accuracy against cost (up and left is better; right for images/s)"),
        fontsize=9,
    )
    return fig
