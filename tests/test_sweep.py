"""The benchmark sweep: recipes as the issue states them, the best-5 measure, the JSON and its
provenance, and the multi-process path (two CPU workers) on tiny synthetic runs."""

from __future__ import annotations

import json
import math

import matplotlib
import pytest
import torch

from attncv import bench, names
from attncv.data import DataSubstituteWarning
from attncv.profiles import get_profile
from attncv.sweep import RECIPES, Sweep, parse_devices, scale_for, shrink, sweep, top5_mean
from attncv.sweep_report import (
    against_baseline,
    format_table,
    measure,
    plot_accuracy,
    plot_tradeoff,
    summarize,
    welch_interval,
)
from attncv.train import lr_factor

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("ignore", category=DataSubstituteWarning)


@pytest.fixture
def empty_data(tmp_path):
    """A folder with no CIFAR in it (offline, see conftest): the loader's synthetic stand-in."""
    folder = tmp_path / "data"
    folder.mkdir()
    return str(folder)


def test_top5_mean_is_the_mean_of_the_five_best_epochs() -> None:
    accs = [0.1, 0.5, 0.3, 0.9, 0.7, 0.2, 0.8, 0.6]
    assert top5_mean(accs) == pytest.approx((0.9 + 0.8 + 0.7 + 0.6 + 0.5) / 5)
    assert top5_mean([0.4, 0.2]) == pytest.approx(0.3)  # fewer than five: all of them
    assert math.isnan(top5_mean([]))


def test_seed_recipe_is_the_issues() -> None:
    cfg = RECIPES["seed"].train
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.momentum, cfg.weight_decay) == (
        160,
        128,
        0.1,
        0.9,
        1e-4,
    )
    assert (cfg.schedule, cfg.milestones, cfg.gamma, cfg.warmup_epochs) == (
        "step",
        (80, 120),
        0.1,
        1,
    )
    assert not cfg.nesterov and cfg.label_smoothing == 0
    steps = 391  # 50,000 / 128
    assert lr_factor(cfg, 0, steps) == pytest.approx(1 / steps)  # the warm-up really runs
    assert lr_factor(cfg, steps, steps) == 1.0
    assert lr_factor(cfg, 80 * steps - 1, steps) == 1.0
    assert lr_factor(cfg, 80 * steps, steps) == pytest.approx(0.1)
    assert lr_factor(cfg, 120 * steps, steps) == pytest.approx(0.01)


def test_fast_recipe_is_short_smoothed_and_gpu_friendly() -> None:
    cfg = RECIPES["fast"].train
    assert cfg.epochs <= 20 and cfg.label_smoothing == 0.1 and cfg.schedule == "onecycle"
    assert RECIPES["fast"].measure == "final_acc" and RECIPES["seed"].measure == "best5_acc"
    assert cfg.amp is None and cfg.channels_last is None  # bf16 and channels_last on CUDA
    assert cfg.warmup_epochs > 0


def test_shrink_scales_schedule_and_learning_rate() -> None:
    cfg = shrink(RECIPES["seed"].train, 8, 64)
    assert cfg.milestones == (4, 6) and cfg.warmup_epochs == pytest.approx(0.05)
    assert cfg.lr == pytest.approx(0.05) and cfg.batch_size == 64
    gpu = scale_for(RECIPES["fast"], get_profile("brief", "cuda"))
    assert gpu.train_size is None and gpu.width == 64 and gpu.train == RECIPES["fast"].train
    cpu = scale_for(RECIPES["fast"], get_profile("brief", "cpu"))
    assert cpu.train_size == 4000 and cpu.width == 16 and "4,000" in cpu.note


def test_bad_arguments_fail_before_training() -> None:
    with pytest.raises(ValueError, match="recipe"):
        sweep(recipe="slow")
    with pytest.raises(ValueError, match="Registered modules"):
        sweep(["no-such-module"])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no GPU"):
            parse_devices("cuda:0,cuda:1")
    assert parse_devices("cpu, cpu") == ["cpu", "cpu"]


def test_cli_sweep_writes_json_with_provenance(empty_data, tmp_path, capsys) -> None:
    out = tmp_path / "results" / "bench.json"
    assert (
        bench.main(
            [
                "sweep",
                "--profile",
                "smoke",
                "--names",
                "se",
                "--data-dir",
                empty_data,
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
        assert r["best5_acc"] == pytest.approx(top5_mean(r["test_acc"]))
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
        data_dir=empty_data,
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
        {"train": {}},
        "CIFAR-10 test",
        {"devices": ["CPU"]},
        [run("none", 0, 0.50), run("none", 1, 0.52, ips=25.0), run("se", 0, 0.53),
         run("se", 1, 0.55)],
    )
    assert measure(s) == "final_acc"  # fast ranks by the final epoch, seed by the best five
    assert measure(Sweep({"name": "seed"}, {}, "", {})) == "best5_acc"
    base, se = summarize(s)
    assert base["top1"] == pytest.approx(0.51) and se["delta"] == pytest.approx(0.03)
    assert se["top1_sd"] == pytest.approx(0.0141421, rel=1e-4)
    # a run slowed down by other work does not count against the baseline's speed
    assert base["train_ips"] == 50.0 and base["epoch_seconds"] == 2.0 and se["train_x"] == 1.0
    assert "SE" in format_table(s) and "±1.4" in format_table(s)
    for fig in (plot_accuracy(s), plot_tradeoff(s)):
        titles = [t.get_text() for t in fig.texts] + [ax.get_title() for ax in fig.axes]
        assert any("CIFAR-10 test" in t for t in titles)


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
        return {"name": name, "title": name, "family": "channel", "seed": seed,
                "best5_acc": acc, "final_acc": acc, "params": 1, "macs": 1, "train_ips": 1.0,
                "epoch_seconds": 1.0, "infer_ips": 1.0, "peak_mb": float("nan")}

    accs = {"none": (0.600, 0.605, 0.595), "big": (0.650, 0.652, 0.648),
            "tiny": (0.602, 0.612, 0.597)}
    runs = [run(n, s, a) for n, seeds in accs.items() for s, a in enumerate(seeds)]
    text = against_baseline(Sweep({"name": "fast"}, {}, "", {}, runs))
    lines = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert lines["big"].endswith("a difference") and lines["tiny"].endswith("within the noise")


def test_two_cpu_workers_share_the_runs(empty_data) -> None:
    tiny = {
        "profile": "smoke",
        "data_dir": empty_data,
        "train_size": 100,
        "test_size": 50,
        "cost_steps": 1,
    }
    result = sweep(["se"], devices="cpu,cpu", **tiny)
    assert sorted(r["name"] for r in result.runs) == ["none", "se"]
    assert result.environment["devices"] == [result.environment["devices"][0]] * 2
    single = sweep(["none"], progress=False, **tiny)
    a, b = result.runs[0], single.runs[0]  # the same data, seed and schedule in another process
    assert a["name"] == b["name"] == "none" and a["dataset"] == b["dataset"]
    assert a["train_loss"][0] == pytest.approx(b["train_loss"][0], rel=1e-3)
