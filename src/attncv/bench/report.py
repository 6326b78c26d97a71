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
from ..views.evidence_words import BASELINE, count_of, level_text, ratio_text
from ..views.plots import epochs
from ..views.tables import Table
from ..views.verdicts import MIXED, Evidence, Outcome, Verdict, both
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


def provenance(sweep: Sweep, *, commits: bool = False) -> str:
    """Where the numbers came from, in a few lines; ``commits`` adds the git commits (the
    command line's view; the book says how many there were, the JSON keeps each run's)."""
    env, scale, train = sweep.environment, sweep.scale, sweep.scale["train"]
    size = " (every training image)" if scale["train_size"] is None else ""
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
        f"{env['created'][:10]}",
    ] + ([f"note:    {scale['note']}"] if scale.get("note") else [])
    lines += _run_commits(sweep, commits)
    return "\n".join(wrap(line, indent=" " * 9) for line in lines)


def _run_commits(sweep: Sweep, named: bool) -> list[str]:
    """Which commits of the library made the runs: each commit and its runs when ``named``,
    else how many commits there were (each run's is in the JSON)."""
    by_commit: dict[str, list[str]] = {}
    for run in sweep.runs:
        commit = (run.get("git_commit") or sweep.environment.get("git_commit") or "unknown")[:10]
        label = run["name"]
        if label not in by_commit.setdefault(commit, []):
            by_commit[commit].append(label)
    if not named:
        n = len(by_commit)
        return [
            f"runs:    made at {n} commit{'s' if n > 1 else ''} of the library (each run's "
            "commit is recorded in the results JSON)"
        ]
    parts = [f"{commit}: {', '.join(labels)}" for commit, labels in by_commit.items()]
    return ["runs:    made at " + "; ".join(parts)]


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
    """Modules by accuracy (neighbours within the noise marked ≈), the families' mean difference
    from the baseline, the heaviest and slowest module."""
    rows = summarize(sweep)
    ranked = sorted(rows, key=lambda r: -r["top1"])
    order = ranked[0]["title"]
    for a, b in zip(ranked, ranked[1:], strict=False):
        order += (" > " if _significant(a, b) else " ≈ ") + b["title"]
    lines = [
        wrap(
            "by accuracy (> where Welch's 95% interval of the neighbours' difference excludes "
            "zero, ≈ where it does not): " + order
        )
    ]
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


def welch_evidence(
    statistic: str, a: list[float], b: list[float], control_label: str, expected: str = "above"
) -> Evidence:
    """Mean accuracy of the runs ``a`` against ``b``, with Welch's 95% half-width as the band
    (an infinite band, so never a verdict, with fewer than two runs a side)."""
    if len(a) < 2 or len(b) < 2:
        half, how = float("inf"), "one seed: no interval"
    else:
        _, half, df = welch_interval(a, b)
        how = f"Welch's 95% interval, {len(a)} and {len(b)} runs, {df:.1f} df"
    return Evidence(
        statistic,
        statistics.mean(a),
        statistics.mean(b),
        control_label,
        half,
        how,
        expected,
        ".1%",
    )


LIGHTWEIGHT = ("se", "eca", "cbam", "coordinate_attention")  # gates in every block, <~2% weights
FAIRLY_GOOD = "较好"  # the notes' word for mixed attention's overall performance: "fairly good"


def module_evidence(
    statistic: str,
    a: list[float],
    b: list[float],
    control_label: str,
    expected: str = "above",
) -> Evidence:
    """A family's modules against another's, **modules as the unit**: each value of ``a`` and
    ``b`` is one module's mean over its seeds, and the band is Welch's 95% half-width over those
    module means (an infinite band, so never a verdict, with fewer than two modules a side). The
    seeds of one module are not independent replicates of its family: pooling them would count a
    module with three seeds as three modules."""
    if len(a) < 2 or len(b) < 2:
        half, how = float("inf"), "one module: no interval over modules"
    else:
        _, half, df = welch_interval(a, b)
        how = (
            f"{level_text()} Welch interval over module means, {len(a)} and {len(b)} modules, "
            f"{df:.1f} df"
        )
    return Evidence(
        statistic, statistics.mean(a), statistics.mean(b), control_label, half, how, expected, ".1%"
    )


def notes_claims(sweep: Sweep) -> list[Verdict]:
    """The course's source notes' claims about their CIFAR-100 table, each stated once, read
    against this table with the same rule as every verdict of the book: a claim holds only where
    the 95% interval of the difference it rests on excludes zero, in the claim's direction.

    - SK did best among the lightweight modules (:data:`LIGHTWEIGHT`), at the highest cost of
      them (most parameters, slowest training): one claim, its two parts judged together;
    - channel attention generalises well: each channel module beats the baseline (Welch over
      each module's seeds);
    - mixed attention showed 较好 ("fairly good") overall performance, which is not "the best":
      it holds where the mixed modules sit above another family's and below none;
    - spatial attention does worst at 32x32: below every other family.

    The family claims take **modules as the unit** (:func:`module_evidence`): each module's mean
    over its seeds is one value, and the families' module means are compared with Welch's
    interval; the per-module comparisons against the baseline stay over seeds.
    """
    rows = summarize(sweep)
    return _sk_claim(rows) + _channel_claim(rows) + _family_claims(rows)


def _sk_claim(rows: list[dict[str, Any]]) -> list[Verdict]:
    by_name = {r["name"]: r for r in rows}
    light = [by_name[n] for n in LIGHTWEIGHT if n in by_name]
    if "sk" not in by_name or not light:
        return []
    sk = by_name["sk"]
    rival = max(light, key=lambda r: r["top1"])
    heaviest = max(light, key=lambda r: r["params"])
    slowest = min(light, key=lambda r: r["train_ips"])
    names, base = ", ".join(r["title"] for r in light), "the baseline's"
    cost_holds = sk["params"] > heaviest["params"] and sk["train_ips"] < slowest["train_ips"]
    accuracy = welch_evidence(
        "accuracy, SK against the best lightweight module",
        sk["top1_all"],
        rival["top1_all"],
        rival["title"],
    )
    found = {
        True: f"SK beat every lightweight module here, {rival['title']} included, by more than "
        "the seeds' noise",
        False: f"{rival['title']} beat SK here by more than the seeds' noise",
        None: f"SK and {rival['title']} are within the seeds' noise of each other, so this table "
        "cannot rank them",
    }[accuracy.holds] + (
        "; SK costs more parameters and more training time than any of them (its branches are "
        "convolutions, not gates)."
        if cost_holds
        else "; SK is not both the heaviest and the slowest of them."
    )
    return [
        Verdict(
            f"SK did best among the lightweight modules ({names}), and is the heaviest and "
            "slowest of them: the most parameters and the slowest training.",
            f"SK {100 * sk['top1']:.1f}% against the best of them, {rival['title']} "
            f"{100 * rival['top1']:.1f}%. SK has {ratio_text(sk['params_x'], base)} "
            f"parameters and trains at {ratio_text(sk['train_x'], base)} speed; the heaviest "
            f"lightweight module, {heaviest['title']}, has {ratio_text(heaviest['params_x'], base)}"
            f" parameters, the slowest, {slowest['title']}, trains at "
            f"{ratio_text(slowest['train_x'], base)} speed.",
            both(accuracy.holds, cost_holds),
            evidence=(accuracy,),
            source="Notes",
            words=dict.fromkeys((True, False, None, MIXED), found),
        )
    ]


def _channel_claim(rows: list[dict[str, Any]]) -> list[Verdict]:
    channel = [r for r in rows if r["family"] == "channel"]
    if not channel:
        return []
    base = rows[0]
    evidence = tuple(
        welch_evidence(f"accuracy, {r['title']}", r["top1_all"], base["top1_all"], BASELINE)
        for r in channel
    )
    return [
        Verdict(
            "channel attention generalises well: its modules improve on the baseline.",
            ", ".join(f"{r['title']} {100 * r['delta']:+.1f}" for r in channel)
            + " points against the baseline.",
            evidence=evidence,
            source="Notes",
            words={
                True: "Every channel module beat the baseline by more than the seeds' noise.",
                False: "At least one channel module fell below the baseline by more than the "
                "seeds' noise.",
                None: "Not every channel module's gain clears the seeds' noise (clears: "
                + (
                    ", ".join(r["title"] for r, e in zip(channel, evidence, strict=True) if e.holds)
                    or "none"
                )
                + ").",
            },
        )
    ]


def _fairly_good(*holds: Outcome) -> Outcome:
    """The reading of 较好 ("fairly good", not "the best"): above at least one other family
    beyond the noise and below none; below one and above none is the opposite."""
    above, below = any(h is True for h in holds), any(h is False for h in holds)
    if above and below:
        return MIXED
    return True if above else False if below else None


def _family_claims(rows: list[dict[str, Any]]) -> list[Verdict]:
    modules: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["family"] in ("channel", "spatial", "mixed"):
            modules.setdefault(r["family"], []).append(r)
    if len(modules) < 2:
        return []
    means = {f: [r["top1"] for r in members] for f, members in modules.items()}
    run = "mean accuracy of each family's modules, each module the mean of its seeds: " + (
        ", ".join(
            f"{f} {100 * statistics.mean(v):.1f}% ({count_of(len(v), 'module')})"
            for f, v in means.items()
        )
        + "."
    )
    claims = []
    for family, expected in (("mixed", "above"), ("spatial", "below")):
        if family not in means:
            continue
        evidence = tuple(
            module_evidence(
                f"accuracy, {family} against {other}", means[family], values, other, expected
            )
            for other, values in means.items()
            if other != family
        )
        if family == "mixed":
            claim = (
                f'mixed attention showed {FAIRLY_GOOD} ("fairly good") overall performance: '
                "fairly good, not the best."
            )
            holds = _fairly_good(*(e.holds for e in evidence))
            words = {
                True: "The mixed family's modules sit above another family's by more than the "
                "noise between modules, and below none.",
                False: "The mixed family's modules sit below another family's by more than the "
                "noise between modules, and above none.",
                None: "The families' module means are within the noise between modules: this "
                "table cannot say whether mixed attention does fairly well or poorly.",
                MIXED: "The mixed family's modules sit above one family's and below another's, "
                "each by more than the noise between modules.",
            }
        else:
            claim = "spatial attention does worst at 32x32."
            holds = both(*(e.holds for e in evidence))
            words = {
                True: "The spatial family's modules did worst, beyond the noise between modules "
                "against every other family.",
                False: "The spatial family's modules beat another family's by more than the "
                "noise between modules.",
                None: "The families' module means are within the noise between modules: this "
                "table cannot say that spatial attention does worst.",
            }
        note = (
            f"{FAIRLY_GOOD} is read here as: above at least one other family beyond the noise "
            "between modules, and below none."
            if family == "mixed"
            else ""
        )
        claims.append(
            Verdict(claim, run, holds, note, evidence=evidence, source="Notes", words=words)
        )
    return claims
