"""Profiles: CI implies smoke, the environment chooses, a CPU shrinks brief and says so."""

from __future__ import annotations

import pytest

from attncv.train import lr_factor
from attncv.train.profiles import RECIPES, SEED_RECIPE, get_profile, recipe_profile, shrink


def test_default_is_brief() -> None:
    assert get_profile(device="cpu").name == "brief"


def test_ci_implies_smoke(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    prof = get_profile(device="cpu")
    assert prof.name == "smoke" and prof.train.epochs == 1 and prof.train_size <= 500


def test_environment_chooses(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("ATTNCV_PROFILE", "brief")
    assert get_profile(device="cpu").name == "brief"


def test_brief_shrinks_on_a_cpu_and_says_so() -> None:
    cpu, gpu = get_profile("brief", "cpu"), get_profile("brief", "cuda")
    assert cpu.width < gpu.width == 64 and cpu.train_size < gpu.train_size
    assert "No GPU" in cpu.note and "No GPU" in str(cpu)
    # a run takes 60-100 s on two cores and chapters train several: no "about a minute" promise
    assert "about a minute" not in cpu.note and "a chapter may train several" in cpu.note


@pytest.mark.parametrize(
    ("name", "device", "expected"),
    [("brief", "cpu", True), ("brief", "cuda", False), ("smoke", "cpu", False)],
)
def test_brief_on_cpu_is_the_shrunk_brief_run_only(name: str, device: str, expected: bool) -> None:
    prof = get_profile(name, device)
    assert prof.brief_on_cpu is expected
    assert (prof.width < 64 and prof.train.epochs == 8) is expected  # what it stands for


def test_full_is_the_seed_recipe() -> None:
    full = get_profile("full", "cuda")
    assert full.train == SEED_RECIPE and full.train_size is None
    assert (SEED_RECIPE.epochs, SEED_RECIPE.batch_size, SEED_RECIPE.lr) == (160, 128, 0.1)
    assert SEED_RECIPE.milestones == (80, 120) and SEED_RECIPE.warmup_epochs == 1


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="smoke, brief, full"):
        get_profile("medium")


def test_seed_recipe_is_the_issues() -> None:
    cfg = RECIPES["seed"].train
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.momentum, cfg.weight_decay) == (
        160,
        128,
        0.1,
        0.9,
        1e-4,
    )
    assert (cfg.schedule, cfg.milestones, cfg.lr_decay, cfg.warmup_epochs) == (
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
    gpu = recipe_profile(RECIPES["fast"], get_profile("brief", "cuda"))
    assert gpu.train_size is None and gpu.width == 64 and gpu.train == RECIPES["fast"].train
    cpu = recipe_profile(RECIPES["fast"], get_profile("brief", "cpu"))
    assert cpu.train_size == 4000 and cpu.width == 16 and "4,000" in cpu.note
