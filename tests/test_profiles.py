"""Profiles: CI implies smoke, the environment chooses, a CPU shrinks brief and says so."""

from __future__ import annotations

import pytest

from attncv.profiles import SEED_RECIPE, get_profile


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


def test_full_is_the_seed_recipe() -> None:
    full = get_profile("full", "cuda")
    assert full.train == SEED_RECIPE and full.train_size is None
    assert (SEED_RECIPE.epochs, SEED_RECIPE.batch_size, SEED_RECIPE.lr) == (160, 128, 0.1)
    assert SEED_RECIPE.milestones == (80, 120) and SEED_RECIPE.warmup_epochs == 1


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="smoke, brief, full"):
        get_profile("medium")
