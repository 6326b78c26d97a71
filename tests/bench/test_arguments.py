"""The sweep checks its arguments and its output path before any data loads or training starts;
the command line turns every expected error into one line and exit code 2."""

from __future__ import annotations

import json

import pytest

import attncv.bench.sweep as sweep_module
from attncv.bench.__main__ import main as bench_main
from attncv.bench.sweep import Sweep, sweep

TINY = ["--profile", "smoke", "--names", "se", "--test-size", "50", "--cost-steps", "1"]


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any data is loaded or any run trained."""

    def forbidden(*args, **kwargs):
        raise AssertionError("data was loaded or a run trained before the arguments were checked")

    monkeypatch.setattr(sweep_module, "_load", forbidden)
    monkeypatch.setattr(sweep_module, "run_one", forbidden)
    monkeypatch.setattr(sweep_module, "throughput", forbidden)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    return err


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--epochs", "0"], "--epochs"),  # used to train the default number of epochs
        (["--epochs", "-3"], "--epochs"),
        (["--train-size", "0"], "--train-size"),  # used to die in report.py after training
        (["--train-size", "10"], "batch"),  # smaller than one batch: no training step
        (["--test-size", "0"], "--test-size"),
        (["--width", "0"], "--width"),
        (["--cost-steps", "0"], "--cost-steps"),
        (["--seeds", "-1"], "--seeds"),  # used to fail after the data loaded, numpy's words
        (["--seeds", str(2**32)], "--seeds"),
    ],
)
def test_bad_numbers_fail_before_any_work(flags, says, capsys, no_work, tmp_path) -> None:
    argv = ["sweep", *TINY, "--train-size", "100", *flags, "--out", str(tmp_path / "o.json")]
    assert bench_main(argv) == 2
    assert says in _one_error_line(capsys)


def test_an_unwritable_out_fails_before_training(tmp_path, capsys, no_work) -> None:
    """--out under a file (as root, the one place a permission check cannot be faked) used to
    train the whole sweep, then crash with an OSError traceback at the first save."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert bench_main(["sweep", *TINY, "--out", str(blocker / "bench.json")]) == 2
    assert str(blocker) in _one_error_line(capsys)
    assert bench_main(["sweep", *TINY, "--out", str(tmp_path)]) == 2  # a folder, not a file
    assert "folder" in _one_error_line(capsys)


def test_resume_names_the_file_it_cannot_read(tmp_path, capsys, no_work) -> None:
    truncated, listed = tmp_path / "truncated.json", tmp_path / "list.json"
    truncated.write_text('{"recipe": {"name": "fa')
    listed.write_text("[1, 2]")
    for path in (truncated, listed):
        assert bench_main(["sweep", *TINY, "--resume", "--out", str(path)]) == 2
        assert str(path) in _one_error_line(capsys)
    with pytest.raises(ValueError, match="list.json"):
        Sweep.load(listed)


def test_a_save_that_fails_after_training_keeps_the_result(tmp_path, monkeypatch, capsys) -> None:
    """The target became unwritable during the sweep: the result goes beside it, and the
    message says where."""
    out = tmp_path / "results" / "bench.json"
    real = Sweep.save

    def full_disk(self, path):
        if str(path) == str(out):
            raise OSError(28, "No space left on device")
        return real(self, path)

    monkeypatch.setattr(Sweep, "save", full_disk)
    argv = ["sweep", *TINY, "--names", "none", "--train-size", "100", "--out", str(out)]
    assert bench_main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("warning: ") for line in lines[:-1])  # the checkpoints
    err = lines[-1]
    assert err.startswith("error: ") and "No space left on device" in err and str(out) in err
    kept = [p for p in tmp_path.rglob("*.json") if p != out]
    assert len(kept) == 1 and str(kept[0]) in err
    assert [r["name"] for r in json.loads(kept[0].read_text())["runs"]] == ["none"]


def test_the_library_function_checks_too(no_work) -> None:
    with pytest.raises(ValueError, match="epochs"):
        sweep(["se"], profile="smoke", epochs=0)
    with pytest.raises(ValueError, match="seeds"):
        sweep(["se"], profile="smoke", seeds=[-1])
