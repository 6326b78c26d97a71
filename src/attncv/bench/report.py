"""The benchmark's table and its reading, from a :class:`~attncv.bench.sweep.Sweep` (trained or
loaded): one row per module, differences from the baseline with their intervals, the ranking, and
where the numbers came from. The figures are in :mod:`attncv.bench.figures`.

Accuracy is the mean over seeds of each run's measure (the recipe's: the mean of the best five
epochs or the final epoch), with the spread over seeds where there are several; costs are those
of the trained configuration.
"""

from __future__ import annotations

import statistics
from typing import Any

from ..train import RECIPES
from ..train.progress import wrap
from ..views.plots import epochs
from ..views.tables import Table
from ..views.verdicts import Verdict
from .stats import welch_interval
from .sweep import Sweep


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


def sweep_table(sweep: Sweep) -> Table:
    """The benchmark table: top-1 (mean ± sd over seeds), its difference from the baseline,
    costs and speed. The mean of the best five epochs is shown beside a final-epoch measure only
    for runs of at least ten epochs (with fewer, the "best five" average in the early epochs).
    Peak memory is shown where it was measured (on a GPU)."""
    rows = summarize(sweep)
    epochs = sweep.scale["train"]["epochs"]
    best5 = measure(sweep) != "best5_acc" and epochs >= 10
    peak = all(r["peak_mb"] == r["peak_mb"] for r in rows)  # NaN on a CPU
    columns = ["module", "seeds", "top-1 %", "Δ points"]
    columns += ["best-5 %"] if best5 else []
    columns += ["params", "×", "MACs (M)", "train img/s", "×", "infer img/s"]
    columns += ["peak MB"] if peak else []
    body = []
    for r in rows:
        sd = f" ± {100 * r['top1_sd']:.1f}" if r["seeds"] > 1 else ""
        cells = [r["title"], r["seeds"], f"{100 * r['top1']:.1f}{sd}", f"{100 * r['delta']:+.1f}"]
        cells += [f"{100 * r['best5']:.1f}"] if best5 else []
        cells += [
            f"{r['params']:,}",
            f"{r['params_x']:.2f}",
            f"{r['macs'] / 1e6:.0f}",
            f"{r['train_ips']:,.0f}",
            f"{r['train_x']:.2f}",
            f"{r['infer_ips']:,.0f}",
        ]
        cells += [f"{r['peak_mb']:,.0f}"] if peak else []
        body.append(cells)
    notes = f"top-1: {MEASURES[measure(sweep)]}, mean over seeds ± their standard deviation."
    if not best5 and measure(sweep) != "best5_acc":
        notes += (
            f" The mean of the best five epochs is left out: with {epochs} epochs it would"
            " average in the early epochs."
        )
    notes += (
        f" Parameters and MACs of the networks as trained (ResNet-18 width"
        f" {sweep.scale['width']}); × is the ratio to the baseline."
    )
    return Table(columns, body, caption=notes)


def format_table(sweep: Sweep) -> str:
    """The benchmark table as text (for the command line)."""
    return str(sweep_table(sweep))


def provenance(sweep: Sweep) -> str:
    """Where the numbers came from, in a few lines."""
    env, scale, train = sweep.environment, sweep.scale, sweep.scale["train"]
    size = " (every training image)" if scale["train_size"] is None else ""
    commit = (env.get("git_commit") or "unknown")[:10] + (
        " (dirty)" if env.get("git_dirty") else ""
    )
    seeds = sorted({r["seed"] for r in sweep.runs})
    lines = [
        f"recipe:  {sweep.recipe['name']} as run: {train['epochs']} epochs, batch "
        f"{train['batch_size']}, lr {train['lr']:g}, {train['schedule']} schedule"
        + (
            f" (x{train['lr_decay']:g} at epochs {train['milestones']})"
            if train["schedule"] == "step"
            else ""
        )
        + f", warm-up {epochs(train['warmup_epochs'])}, label smoothing "
        f"{train['label_smoothing']:g}; seeds {seeds}",
        f"data:    {sweep.data}{size}, ResNet-18 width {scale['width']}",
        f"device:  {', '.join(sorted({r['device'] for r in sweep.runs}))}",
        f"code:    attncv {env['attncv']}, torch {env['torch']}, Python {env['python']}, "
        f"git {commit}, {env['created']}",
    ] + ([f"note:    {scale['note']}"] if scale.get("note") else [])
    lines += _run_commits(sweep)
    return "\n".join(wrap(line, indent=" " * 9) for line in lines)


def _run_commits(sweep: Sweep) -> list[str]:
    """A line naming each run's commit when a table's runs were not all made at one (a resumed
    sweep that retrained some modules after their code changed); none when they were."""
    by_commit: dict[str, list[str]] = {}
    for run in sweep.runs:
        commit = (run.get("git_commit") or "unknown")[:10]
        label = run["name"]
        if label not in by_commit.setdefault(commit, []):
            by_commit[commit].append(label)
    if len(by_commit) < 2:
        return []
    parts = [f"{commit}: {', '.join(labels)}" for commit, labels in by_commit.items()]
    return ["runs:    made at several commits, " + "; ".join(parts)]


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
    lines = [wrap("by accuracy: " + " > ".join(r["title"] for r in ranked))]
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
    lines.append(f"most parameters: {heavy['title']} ({heavy['params_x']:.2f}x the baseline)")
    lines.append(f"slowest to train: {slow['title']} ({slow['train_x']:.2f}x the baseline's speed)")
    return "\n".join(lines)


def _significant(row: dict[str, Any], base: dict[str, Any]) -> bool | None:
    """Whether a module's difference from the baseline is beyond the noise: True/False with
    enough seeds (Welch's 95% interval excludes zero or not), None with one seed."""
    if row["seeds"] < 2 or base["seeds"] < 2:
        return None
    delta, half, _ = welch_interval(row["top1_all"], base["top1_all"])
    return abs(delta) > half


def notes_claims(sweep: Sweep) -> list[Verdict]:
    """The course's source notes' four claims about their CIFAR-100 table, read against this
    table: SK best of all (and the heaviest and slowest), channel attention generalising well,
    mixed attention best overall, spatial attention worst at 32x32."""
    rows = summarize(sweep)
    families = {
        f: statistics.mean(r["delta"] for r in rows if r["family"] == f)
        for f in ("channel", "spatial", "mixed")
        if any(r["family"] == f for r in rows)
    }
    means = ", ".join(f"{f} {100 * d:+.1f}" for f, d in families.items())
    return _sk_claims(rows) + _channel_claim(rows, means) + _family_claims(families, means)


def _sk_claims(rows: list[dict[str, Any]]) -> list[Verdict]:
    by_name = {r["name"]: r for r in rows}
    if "sk" not in by_name:
        return []
    sk, base = by_name["sk"], rows[0]
    ranked = sorted(rows, key=lambda r: -r["top1"])
    rank = ranked.index(sk) + 1
    gap = {True: "beyond the noise", False: "within the noise"}.get(
        _significant(sk, base), "with one seed, no interval"
    )
    heaviest = max(rows, key=lambda r: r["params"])
    slowest = min(rows, key=lambda r: r["train_ips"])
    return [
        Verdict(
            "SK does best of all.",
            f"SK ranks {rank} of {len(rows)}, {100 * sk['delta']:+.1f} points from the "
            f"baseline ({gap}); first is {ranked[0]['title']}.",
            rank == 1,
            source="Notes",
        ),
        Verdict(
            "SK is the heaviest in parameters and the slowest to train.",
            f"the most parameters: {heaviest['title']} ({heaviest['params_x']:.2f}x the "
            f"baseline; SK {sk['params_x']:.2f}x); the slowest: {slowest['title']} "
            f"({slowest['train_x']:.2f}x the baseline's speed; SK {sk['train_x']:.2f}x).",
            heaviest is sk and slowest is sk,
            source="Notes",
        ),
    ]


def _channel_claim(rows: list[dict[str, Any]], means: str) -> list[Verdict]:
    channel = [r for r in rows if r["family"] == "channel"]
    if not channel:
        return []
    below = [r for r in channel if r["delta"] < 0 and _significant(r, rows[0])]
    above = [r for r in channel if r["delta"] > 0]
    holds = False if below else (True if len(above) == len(channel) else None)
    return [
        Verdict(
            "channel attention generalises well: its modules improve on the baseline.",
            ", ".join(f"{r['title']} {100 * r['delta']:+.1f}" for r in channel)
            + f" points against the baseline; family means: {means}.",
            holds,
            source="Notes",
        )
    ]


def _family_claims(families: dict[str, float], means: str) -> list[Verdict]:
    if not families:
        return []
    best, worst = max(families, key=families.get), min(families, key=families.get)
    return [
        Verdict(
            "mixed attention does best overall.",
            f"the family with the highest mean difference from the baseline is {best} "
            f"({means} points).",
            best == "mixed",
            source="Notes",
        ),
        Verdict(
            "spatial attention does worst at 32x32.",
            f"the family with the lowest mean difference from the baseline is {worst} "
            f"({means} points).",
            worst == "spatial",
            source="Notes",
        ),
    ]
