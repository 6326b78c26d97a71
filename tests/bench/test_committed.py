"""The benchmark chapter shows the committed results by default (the device's, else the CPU's,
beside the notebook or from the book's repository) and trains only when asked, or in smoke."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from attncv.bench import committed
from attncv.bench.sweep import Sweep

CHAPTERS = Path(__file__).resolve().parents[2] / "chapters"
CPU_RESULTS = CHAPTERS / "results" / "benchmark-fast-cpu.json"


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if anything starts a sweep; record the calls of a permitted one."""
    calls = []

    def sweep(**kwargs):
        calls.append(kwargs)
        return "trained"

    monkeypatch.setattr(committed, "sweep", sweep)
    return calls


def test_the_committed_results_are_shown_by_default(no_training, capsys) -> None:
    """The notebook used to start a 12-network sweep on full CIFAR-100 whenever no results file
    for the device existed (always, in Colab)."""
    result = committed.benchmark("fast", "brief", device="cpu", root=CHAPTERS, url=None)
    assert isinstance(result, Sweep) and not no_training
    assert result.runs == Sweep.load(CPU_RESULTS).runs
    out = capsys.readouterr().out
    assert str(CPU_RESULTS) in out and "ATTNCV_TRAIN_BENCHMARK=1" in out


def test_a_gpu_without_its_own_results_is_shown_the_cpus_and_told_so(
    no_training, tmp_path, capsys
) -> None:
    (tmp_path / "results").mkdir()
    shutil.copy(CPU_RESULTS, tmp_path / "results")
    result = committed.benchmark("fast", "brief", device="cuda", root=tmp_path, url=None)
    assert isinstance(result, Sweep) and not no_training
    assert "no committed cuda results yet, so these are the CPU's" in capsys.readouterr().out


def test_the_devices_own_results_come_first(no_training, tmp_path, capsys) -> None:
    (tmp_path / "results").mkdir()
    shutil.copy(CPU_RESULTS, tmp_path / "results")
    raw = json.loads(CPU_RESULTS.read_text())
    raw["environment"]["command"] = "the cuda sweep"
    (tmp_path / "results" / "benchmark-fast-cuda.json").write_text(json.dumps(raw))
    result = committed.benchmark("fast", "full", device="cuda", root=tmp_path, url=None)
    assert result.environment["command"] == "the cuda sweep"
    assert "the CPU's" not in capsys.readouterr().out


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_training_only_when_asked(no_training, monkeypatch, how: str) -> None:
    if how == "environment":
        monkeypatch.setenv("ATTNCV_TRAIN_BENCHMARK", "1")
    train = True if how == "argument" else None
    result = committed.benchmark("fast", "brief", device="cpu", root=CHAPTERS, train=train)
    assert result == "trained" and no_training == [{"recipe": "fast", "profile": "brief"}]


def test_the_smoke_profile_trains_its_tiny_sweep(no_training) -> None:
    assert committed.benchmark("fast", "smoke", device="cpu", root=CHAPTERS) == "trained"


def test_in_colab_the_results_come_from_the_repository(no_training, tmp_path, monkeypatch):
    """Colab opens the notebook alone: no results/ folder beside it."""
    from tests.data.test_fetch import Server

    monkeypatch.setenv("ATTNCV_OFFLINE", "0")
    s = Server({"/results/benchmark-fast-cpu.json": CPU_RESULTS.read_bytes()})
    try:
        url = s.url + "/results/{name}"
        result = committed.benchmark("fast", "brief", device="cuda", root=tmp_path, url=url)
    finally:
        s.close()
    assert result.runs == Sweep.load(CPU_RESULTS).runs
    assert s.requests == ["/results/benchmark-fast-cuda.json", "/results/benchmark-fast-cpu.json"]
    # offline later: the copy kept in the cache still serves
    result = committed.benchmark("fast", "brief", device="cpu", root=tmp_path, url=url)
    assert result.runs == Sweep.load(CPU_RESULTS).runs


def test_nothing_found_says_what_to_do(no_training, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="ATTNCV_TRAIN_BENCHMARK=1") as err:
        committed.benchmark("seed", "brief", device="cpu", root=tmp_path, url=None)
    assert "benchmark-seed-cpu.json" in str(err.value) and not no_training


class _Page:
    """What a captive portal or login wall answers: an HTML page, with status 200."""

    status = 200

    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self) -> bytes:
        return self.body

    def __enter__(self):
        return self

    def __exit__(self, *args: object) -> None:
        pass


def test_an_html_page_served_with_200_is_not_cached(no_training, tmp_path, monkeypatch) -> None:
    """Issue 21: a login page served with status 200 used to be saved as the JSON; every later
    call then failed with a bare JSONDecodeError naming no file."""
    monkeypatch.setenv("ATTNCV_OFFLINE", "0")
    monkeypatch.setenv("ATTNCV_CACHE", str(tmp_path / "cache"))
    page = b"<!DOCTYPE html><html><body>Please log in</body></html>"
    monkeypatch.setattr(committed.urllib.request, "urlopen", lambda *a, **k: _Page(page))
    url = "https://example.invalid/results/{name}"
    with pytest.raises(FileNotFoundError) as err:
        committed.benchmark("fast", "brief", device="cpu", root=tmp_path / "nb", url=url)
    message = str(err.value)
    assert "https://example.invalid/results/benchmark-fast-cpu.json" in message
    assert "discarded, not cached" in message and "not valid JSON" in message
    assert not list((tmp_path / "cache").rglob("*.json"))  # nothing cached


def test_a_cached_invalid_file_is_named_and_replaced(no_training, tmp_path, monkeypatch) -> None:
    """A bad copy already in the cache (from the old code) is named, and a good download
    replaces it; offline, the error names the file instead of a bare JSONDecodeError."""
    monkeypatch.setenv("ATTNCV_OFFLINE", "0")
    monkeypatch.setenv("ATTNCV_CACHE", str(tmp_path / "cache"))
    kept = tmp_path / "cache" / "results" / "benchmark-fast-cpu.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("<html>login</html>")

    def offline(*args: object, **kwargs: object):
        raise OSError("no network")

    monkeypatch.setattr(committed.urllib.request, "urlopen", offline)
    url = "https://example.invalid/results/{name}"
    with pytest.raises(FileNotFoundError) as err:
        committed.benchmark("fast", "brief", device="cpu", root=tmp_path / "nb", url=url)
    assert str(kept) in str(err.value)
    good = CPU_RESULTS.read_bytes()
    monkeypatch.setattr(committed.urllib.request, "urlopen", lambda *a, **k: _Page(good))
    result = committed.benchmark("fast", "brief", device="cpu", root=tmp_path / "nb", url=url)
    assert result.runs == Sweep.load(CPU_RESULTS).runs
    assert Sweep.load(kept).runs == result.runs


def test_a_sweep_of_another_recipe_is_refused(no_training, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ATTNCV_OFFLINE", "0")
    monkeypatch.setenv("ATTNCV_CACHE", str(tmp_path / "cache"))
    raw = json.loads(CPU_RESULTS.read_text())
    raw["recipe"]["name"] = "seed"
    body = json.dumps(raw).encode()
    monkeypatch.setattr(committed.urllib.request, "urlopen", lambda *a, **k: _Page(body))
    url = "https://example.invalid/results/{name}"
    with pytest.raises(FileNotFoundError, match="recipe"):
        committed.benchmark("fast", "brief", device="cpu", root=tmp_path / "nb", url=url)
    assert not list((tmp_path / "cache").rglob("*.json"))
