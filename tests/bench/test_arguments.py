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


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--devices", "gpu"], "--devices"),  # used to end in torch's RuntimeError traceback
        (["--devices", ""], "--devices"),
        (["--devices", "cpu,,cpu"], "empty entry"),
        (["--retries", "-1"], "--retries"),  # Ray reads -1 as "retry forever"
        (["--resume"], "--resume needs --out"),  # used to be ignored without a word
    ],
)
def test_bad_places_fail_before_any_work(flags, says, capsys, no_work) -> None:
    assert bench_main(["sweep", *TINY, "--train-size", "100", *flags]) == 2
    assert says in _one_error_line(capsys)


def test_a_missing_data_folder_fails_before_any_work(
    tmp_path, monkeypatch, capsys, no_work
) -> None:
    """--data-dir or $ATTNCV_DATA naming no folder used to end in a DataError traceback."""
    missing = tmp_path / "no-such-folder"
    assert bench_main(["sweep", *TINY, "--train-size", "100", "--data-dir", str(missing)]) == 2
    assert "--data-dir" in (line := _one_error_line(capsys)) and str(missing) in line
    monkeypatch.setenv("ATTNCV_DATA", str(missing))
    assert bench_main(["sweep", *TINY, "--train-size", "100"]) == 2
    assert "$ATTNCV_DATA" in _one_error_line(capsys)


def _saved(**parts) -> dict:
    """A saved sweep's JSON, whole but for ``parts``."""
    run = {"name": "none", "title": "Baseline", "family": "none", "seed": 0, "dataset": "d"}
    run |= {"device": "CPU", "best5_acc": 0.1, "final_acc": 0.1, "test_acc": [0.1]}
    run |= {"params": 1, "train_ips": 1.0}
    raw = {"recipe": {"name": "fast", "train": {}}, "scale": {}, "data": "d"}
    raw |= {"environment": {}, "runs": [run], "schema": 1, "failed": []}
    return raw | parts


@pytest.mark.parametrize(
    ("parts", "says"),
    [
        ({"recipe": {"name": "fast"}}, "recipe has no"),  # used to be a KeyError traceback
        ({"scale": []}, "scale is not"),  # an AttributeError traceback
        ({"runs": [{"name": "none"}]}, "runs[0].title"),  # a KeyError, after training
        ({"runs": "none"}, "runs is not"),  # a TypeError
        ({"failed": [{"seed": 0}]}, "failed[0].name"),
    ],
)
def test_a_resume_file_with_a_bad_inner_structure_is_named(
    parts, says, tmp_path, capsys, no_work
) -> None:
    out = tmp_path / "bad.json"
    out.write_text(json.dumps(_saved(**parts)))
    assert bench_main(["sweep", *TINY, "--train-size", "100", "--resume", "--out", str(out)]) == 2
    line = _one_error_line(capsys)
    assert str(out) in line and says in line


def test_resume_onto_other_data_is_refused_before_any_run_trains(
    tmp_path, monkeypatch, capsys
) -> None:
    """The kept runs used other data than this sweep loads: it used to train the missing run,
    then throw it away at its checkpoint (one table, one dataset) and save it nowhere."""
    out = tmp_path / "other-data.json"
    argv = ["sweep", *TINY, "--names", "none", "--train-size", "100", "--out", str(out)]
    assert bench_main(argv) == 0
    raw = json.loads(out.read_text())
    raw["runs"][0]["dataset"] = raw["data"] = "CIFAR-100 (elsewhere)"
    out.write_text(json.dumps(raw))
    capsys.readouterr()

    def forbidden(*args, **kwargs):
        raise AssertionError("a run trained on other data than the runs it resumes")

    monkeypatch.setattr(sweep_module, "run_one", forbidden)
    assert bench_main([*argv, "--seeds", "0", "1", "--resume"]) == 2
    line = _one_error_line(capsys)
    assert "other data" in line and "CIFAR-100 (elsewhere)" in line
    assert json.loads(out.read_text()) == raw  # the file is left as it was
