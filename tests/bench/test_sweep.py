"""The benchmark sweep: recipes as the issue states them, the best-5 measure, the JSON and its
provenance, on tiny synthetic runs (the sweep on Ray: test_cluster.py)."""

from __future__ import annotations

import json

import matplotlib
import pytest
import torch

from attncv import names
from attncv.bench import report
from attncv.bench.__main__ import main as bench_main
from attncv.bench.figures import plot_accuracy, plot_tradeoff
from attncv.bench.report import against_baseline, format_table, measure, summarize
from attncv.bench.stats import welch_interval
from attncv.bench.sweep import Sweep, sweep
from attncv.data import DataSubstituteWarning
from attncv.train import best5_mean

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("ignore", category=DataSubstituteWarning)


def test_bad_arguments_fail_before_training() -> None:
    with pytest.raises(ValueError, match="recipe"):
        sweep(recipe="slow")
    with pytest.raises(ValueError, match="Registered modules"):
        sweep(["no-such-module"])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no GPU"):
            sweep(devices="cuda:0,cuda:1")


def test_cli_sweep_writes_json_with_provenance(tmp_path, capsys) -> None:
    """No data folder named, offline with an empty cache (conftest): the synthetic stand-in."""
    out = tmp_path / "results" / "bench.json"
    assert (
        bench_main(
            [
                "sweep",
                "--profile",
                "smoke",
                "--names",
                "se",
                "--train-size",
                "100",
                "--test-size",
                "50",
                "--cost-steps",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    raw = json.loads(out.read_text())
    assert raw["recipe"]["name"] == "fast" and raw["scale"]["profile"] == "smoke"
    assert raw["data"].startswith("synthetic")
    env = raw["environment"]
    assert env["torch"] == torch.__version__ and "git_commit" in env and env["devices"]
    assert [(r["name"], r["seed"]) for r in raw["runs"]] == [("none", 0), ("se", 0)]
    for r in raw["runs"]:
        assert r["best5_acc"] == pytest.approx(best5_mean(r["test_acc"]))
        assert r["final_acc"] == r["test_acc"][-1] and r["params"] > 0 and r["train_ips"] > 0
    loaded = Sweep.load(out)
    rows = summarize(loaded)
    assert [r["name"] for r in rows] == ["none", "se"] and rows[0]["delta"] == 0
    assert rows[1]["params"] > rows[0]["params"]
    assert set(loaded.missing()) == set(names()) - {"none", "se"}
    printed = capsys.readouterr().out
    assert "synthetic" in printed and "SE" in printed
    again = sweep(
        ["se"],
        profile="smoke",
        train_size=100,
        test_size=50,
        out=out,
        resume=True,
    )  # nothing left to train: both runs are kept
    assert again.runs == loaded.runs and "keeping 2 runs" in capsys.readouterr().out
    with pytest.raises(ValueError, match="another recipe or scale"):
        sweep(["se"], profile="smoke", epochs=2, out=out, resume=True)


def test_report_from_a_hand_made_sweep() -> None:
    def run(name: str, seed: int, acc: float, ips: float = 50.0) -> dict:
        return {
            "name": name,
            "title": name.upper(),
            "family": "channel" if name != "none" else "none",
            "seed": seed,
            "best5_acc": acc,
            "final_acc": acc,
            "params": 100,
            "macs": 10,
            "train_ips": ips,
            "epoch_seconds": 100 / ips,
            "infer_ips": 80.0,
            "peak_mb": float("nan"),
            "device": "CPU",
        }

    s = Sweep(
        {"name": "fast"},
        {"train": {"epochs": 15}, "width": 16},
        "CIFAR-10 test",
        {"devices": ["CPU"]},
        [
            run("none", 0, 0.50),
            run("none", 1, 0.52, ips=25.0),
            run("se", 0, 0.53),
            run("se", 1, 0.55),
        ],
    )
    assert measure(s) == "final_acc"  # fast ranks by the final epoch, seed by the best five
    assert measure(Sweep({"name": "seed"}, {}, "", {})) == "best5_acc"
    base, se = summarize(s)
    assert base["top1"] == pytest.approx(0.51) and se["delta"] == pytest.approx(0.03)
    assert se["top1_sd"] == pytest.approx(0.0141421, rel=1e-4)
    # a run slowed down by other work does not count against the baseline's speed
    assert base["train_ips"] == 50.0 and base["epoch_seconds"] == 2.0 and se["train_x"] == 1.0
    table = format_table(s)
    assert "SE" in table and "± 1.4" in table and "+3.0" in table
    assert "nan" not in table.lower() and "peak MB" not in table  # CPU runs: no peak memory
    assert "best-5 %" in table  # 15 epochs: the best five epochs mean something
    for fig in (plot_accuracy(s), plot_tradeoff(s)):
        texts = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
        assert "CIFAR-10 test" in texts  # the provenance caption under the figure


def test_welch_interval_against_a_hand_computation() -> None:
    """a = 1, 2, 3 and b = 4, 5, 6, 7: variances of the means 1/3 and 5/12, Welch df 4.96
    (rounded down to 4, t = 2.776), half-width 2.776 * sqrt(3/4)."""
    delta, half, df = welch_interval([1, 2, 3], [4, 5, 6, 7])
    assert delta == pytest.approx(-3.5)
    assert df == pytest.approx(0.75**2 / ((1 / 3) ** 2 / 2 + (5 / 12) ** 2 / 3))
    assert half == pytest.approx(2.776 * 0.75**0.5)
    _, wide, df = welch_interval([0.1, 0.3], [0.2, 0.4])  # two seeds a side, equal spreads: 2 df
    assert df == pytest.approx(2) and wide == pytest.approx(4.303 * 0.02**0.5)
    with pytest.raises(ValueError, match="two seeds"):
        welch_interval([0.5], [0.4, 0.6])


def test_against_baseline_tells_a_difference_from_noise() -> None:
    def run(name: str, seed: int, acc: float) -> dict:
        return {
            "name": name,
            "title": name,
            "family": "channel",
            "seed": seed,
            "best5_acc": acc,
            "final_acc": acc,
            "params": 1,
            "macs": 1,
            "train_ips": 1.0,
            "epoch_seconds": 1.0,
            "infer_ips": 1.0,
            "peak_mb": float("nan"),
        }

    accs = {
        "none": (0.600, 0.605, 0.595),
        "big": (0.650, 0.652, 0.648),
        "tiny": (0.602, 0.612, 0.597),
    }
    runs = [run(n, s, a) for n, seeds in accs.items() for s, a in enumerate(seeds)]
    text = against_baseline(Sweep({"name": "fast"}, {}, "", {}, runs))
    lines = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert lines["big"].endswith("a difference") and lines["tiny"].endswith("within the noise")


def test_a_stopped_sweep_keeps_its_finished_runs_and_resumes(tmp_path, monkeypatch) -> None:
    """The JSON is rewritten after every run: a sweep killed in its second run keeps the first,
    and ``resume`` trains only what is missing."""
    import attncv.bench.sweep as sweep_module

    tiny = {
        "profile": "smoke",
        "train_size": 100,
        "test_size": 50,
        "cost_steps": 1,
        "progress": False,
    }
    out = tmp_path / "partial.json"
    real = sweep_module.run_one

    def dies_on_se(name, *args, **kwargs):
        if name == "se":
            raise KeyboardInterrupt  # what a budget guard's signal amounts to
        return real(name, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "run_one", dies_on_se)
    with pytest.raises(KeyboardInterrupt):
        sweep(["se"], out=out, **tiny)
    assert [(r["name"], r["seed"]) for r in Sweep.load(out).runs] == [("none", 0)]
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left over
    monkeypatch.setattr(sweep_module, "run_one", real)
    done = sweep(["se"], out=out, resume=True, **tiny)
    assert [(r["name"], r["seed"]) for r in done.runs] == [("none", 0), ("se", 0)]


def test_git_commit_told_where_git_cannot_say(monkeypatch) -> None:
    import subprocess

    from attncv.bench.provenance import git_commit

    def no_git(*args, **kwargs):
        raise subprocess.CalledProcessError(128, "git")  # not a repository

    monkeypatch.setattr(subprocess, "run", no_git)
    monkeypatch.delenv("ATTNCV_GIT_COMMIT", raising=False)
    assert git_commit() == {"git_commit": None}
    monkeypatch.setenv("ATTNCV_GIT_COMMIT", "abc123")
    monkeypatch.setenv("ATTNCV_GIT_DIRTY", "1")
    assert git_commit() == {"git_commit": "abc123", "git_dirty": True}


def _claim_run(
    name: str, family: str, seed: int, acc: float, params: int = 1, ips: float = 1.0
) -> dict:
    """One run's row as the notes' claims read it."""
    return {
        "name": name,
        "title": name.upper(),
        "family": family,
        "seed": seed,
        "best5_acc": acc,
        "final_acc": acc,
        "params": params,
        "macs": 10,
        "train_ips": ips,
        "epoch_seconds": 1.0,
        "infer_ips": 1.0,
        "peak_mb": float("nan"),
        "device": "CPU",
    }


def test_the_notes_claims_are_read_against_the_table() -> None:
    table = [
        ("none", "none", 0.50, 100, 50.0),
        ("sk", "channel", 0.56, 130, 20.0),
        ("se", "channel", 0.52, 101, 45.0),
        ("cbam", "mixed", 0.49, 102, 30.0),
        ("self_attention", "spatial", 0.51, 103, 25.0),
    ]
    runs = [_claim_run(n, f, s, a + 0.002 * s, p, i) for s in (0, 1, 2) for n, f, a, p, i in table]
    s = Sweep({"name": "fast"}, {"train": {"epochs": 15}, "width": 16}, "test data", {}, runs)
    sk, channel, mixed, spatial = report.notes_claims(s)
    assert sk.holds is True and "SE" in sk.run  # against the best lightweight module, and
    assert sk.evidence[0].band_how.startswith("Welch's 95% interval, 3 and 3 runs")  # costlier
    assert channel.holds is True
    # one module in mixed and spatial: no interval over modules, so no family verdict
    assert mixed.holds is None and spatial.holds is None
    assert mixed.evidence[0].band_how == "one module: no interval over modules"
    assert "mixed 49.2% (1 module)" in mixed.run and str(mixed).startswith("Notes: mixed")
    assert "cannot tell" in mixed.outcome and "noise between modules" in mixed.finding


def test_a_notes_claim_inside_the_welch_interval_cannot_hold() -> None:
    """SE's +3 points over three noisy seeds a side: inside Welch's interval, so no verdict,
    though every mean is above the baseline."""

    noisy = (-0.03, 0.0, 0.04)
    runs = [_claim_run("none", "none", s, 0.50 + d) for s, d in enumerate(noisy)]
    runs += [_claim_run("se", "channel", s, 0.53 + d) for s, d in enumerate(noisy[::-1])]
    runs += [_claim_run("cbam", "mixed", s, 0.56 + d) for s, d in enumerate(noisy)]
    s = Sweep({"name": "fast"}, {"train": {"epochs": 15}, "width": 16}, "test data", {}, runs)
    (channel, mixed, _spatial) = [*report.notes_claims(s), None][:3]
    assert channel.holds is None and "clears: none" in channel.finding
    assert mixed.holds is None and "cannot say" in mixed.finding


def test_provenance_names_each_commit_when_runs_differ() -> None:
    """A resumed sweep whose modules were retrained at another commit says which runs came from
    which commit; a table made at one commit gets no such line."""
    from attncv.bench.sweep import Sweep

    def run(name: str, seed: int, commit: str) -> dict:
        return {"name": name, "seed": seed, "git_commit": commit, "device": "cpu"}

    env = {"attncv": "0", "torch": "2", "python": "3", "git_commit": "b" * 40, "created": "now"}
    train = {"epochs": 5, "batch_size": 128, "lr": 0.1, "schedule": "onecycle"}
    train |= {"warmup_epochs": 1, "label_smoothing": 0.1}
    scale = {"train_size": 100, "width": 16, "train": train}

    def table(runs: list[dict]) -> Sweep:
        return Sweep(recipe={"name": "fast"}, scale=scale, data="d", environment=env, runs=runs)

    one = [run("none", 0, "a" * 40), run("stn", 0, "a" * 40)]
    assert "made at 1 commit of the library" in report.provenance(table(one))
    mixed = [run("none", 0, "a" * 40), run("none", 1, "a" * 40), run("stn", 0, "c" * 40)]
    line = report.provenance(table(mixed), commits=True).split("runs:")[1]
    assert "aaaaaaaaaa: none" in line and "cccccccccc: stn" in line
    book = report.provenance(table(mixed))  # the book's view: no hashes, how many commits
    assert "made at 2 commits" in book and "aaaaaaa" not in book and "bbbbbbb" not in book
