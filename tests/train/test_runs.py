"""The run cache: identical runs load, anything different trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from attncv.data import synthetic
from attncv.train import get_profile, runs
from attncv.train.runs import runs_dir, train_model


@pytest.fixture(scope="module")
def data():
    return synthetic(train_per_class=8, test_per_class=2)


def test_second_identical_run_is_loaded(data, capsys) -> None:
    prof = get_profile("smoke", "cpu")
    model, first = train_model("none", data, prof, progress=False)
    assert len(list(runs_dir().glob("none-*.pt"))) == 1
    model2, second = train_model("none", data, prof, progress=False)
    out = capsys.readouterr().out
    assert "loaded from the runs cache" in out
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(len(line) <= 90 for line in lines)  # no file name or hash
    assert lines[1] == "  (same code, data and settings)"
    assert ".pt" not in out and runs_dir().name not in out
    assert second.history == first.history
    for a, b in zip(model.state_dict().values(), model2.state_dict().values(), strict=True):
        assert (a == b).all()


def test_a_different_run_trains(data) -> None:
    prof = get_profile("smoke", "cpu")
    train_model("none", data, prof, progress=False)
    _, other = train_model("none", data, prof, progress=False, label_smoothing=0.0)
    assert other.config["label_smoothing"] == 0.0
    assert len(list(runs_dir().glob("none-*.pt"))) == 2


def test_an_unwritable_cache_warns_and_keeps_the_run_in_memory(data, tmp_path, monkeypatch):
    """A read-only cache used to crash after training, and the result was lost."""
    from attncv.train import runs

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    monkeypatch.setenv("ATTNCV_RUNS", str(blocker / "runs"))
    monkeypatch.setattr(runs, "_MEMORY", {}, raising=False)
    prof = get_profile("smoke", "cpu")
    with pytest.warns(UserWarning, match="kept in memory.*ATTNCV_RUNS") as record:
        model, first = train_model("none", data, prof, progress=False)
    assert first.history  # trained, and the result is returned
    assert record[0].category is runs.CacheWarning
    calls = []
    monkeypatch.setattr(runs, "fit", lambda *a, **k: calls.append(1))
    _, second = train_model("none", data, prof, progress=False)  # from memory: no training
    assert not calls and second.history == first.history


def test_a_corrupt_entry_is_reported_moved_aside_and_retrained(data, capsys):
    """A corrupt .pt used to give torch's zip error on every run, naming no file."""
    from attncv.train.runs import CacheWarning

    prof = get_profile("smoke", "cpu")
    _, first = train_model("none", data, prof, progress=False)
    (path,) = runs_dir().glob("none-*.pt")
    path.write_bytes(path.read_bytes()[:100])  # truncated, as by a crash or a full disk
    with pytest.warns(CacheWarning, match=f"{path.name}.*cannot be used.*moved it to"):
        _, second = train_model("none", data, prof, progress=False)
    assert "loaded from the runs cache" not in capsys.readouterr().out
    assert second.history[0]["train_loss"] == pytest.approx(first.history[0]["train_loss"])
    assert len(list(runs_dir().glob("none-*.pt.corrupt-*"))) == 1
    train_model("none", data, prof, progress=False)  # the retrained entry is good again
    assert "loaded from the runs cache" in capsys.readouterr().out


def test_concurrent_writers_of_one_run_all_succeed(data, monkeypatch):
    """The fixed .tmp name lost a race 2 times out of 8: two kernels finishing the same run."""
    import threading
    import time

    import torch

    from attncv.train import runs

    real_save = torch.save

    def slow_save(obj, f, *args, **kwargs):  # widen the window between writing and renaming
        real_save(obj, f, *args, **kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(torch, "save", slow_save)
    prof = get_profile("smoke", "cpu")
    _, result = train_model("none", data, prof, progress=False, cache=False)
    monkeypatch.setattr(runs, "fit", lambda *a, **k: result)  # no training: only the writes
    errors = []

    def run() -> None:
        try:
            train_model("none", data, prof, progress=False)
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    left = sorted(p.suffix for p in runs_dir().iterdir())
    assert left in ([".pt"], [".lock", ".pt"])  # one entry (and its lock), no .tmp left


def test_the_key_fingerprints_the_data(data) -> None:
    """A folder with every pixel inverted used to get the same key (same description)."""
    from dataclasses import replace

    from attncv.train.runs import run_key

    prof = get_profile("smoke", "cpu")
    inverted = replace(data, train_images=255 - data.train_images)
    assert inverted.description == data.description
    keys = {run_key("none", d, prof, 0, None, None) for d in (data, inverted)}
    assert len(keys) == 2
    assert run_key("none", data, prof, 0, None, None) in keys  # stable for the same data


def test_the_key_depends_on_the_cpu_thread_count(data) -> None:
    import torch

    from attncv.train.runs import run_key

    prof = get_profile("smoke", "cpu")
    threads = torch.get_num_threads()
    first = run_key("none", data, prof, 0, None, None)
    torch.set_num_threads(threads + 1)
    try:
        assert run_key("none", data, prof, 0, None, None) != first
    finally:
        torch.set_num_threads(threads)


def test_the_key_follows_the_training_code_not_the_figures(monkeypatch, tmp_path) -> None:
    """A change in the layers a run depends on (data .. train) retrains; a change in views,
    bench, book or exercises does not."""
    import shutil

    import attncv.train.runs as runs_module

    copy = tmp_path / "attncv"
    shutil.copytree(Path(runs_module.__file__).parents[1], copy)
    monkeypatch.setattr(runs_module, "__file__", str(copy / "train" / "runs.py"))
    before = runs_module._source_hash()
    (copy / "views" / "plots.py").write_text("# a figure changed\n", encoding="utf-8")
    assert runs_module._source_hash() == before
    (copy / "attention" / "se.py").write_text("# the module changed\n", encoding="utf-8")
    assert runs_module._source_hash() != before


def test_entries_are_written_with_the_users_umask(data) -> None:
    """Runs used to be written 0600 (mkstemp): another user of a shared cache could not read
    them. Now a file gets what open() would give: 0644 under umask 022, 0664 under 002."""
    import os

    old = os.umask(0o002)
    try:
        train_model("none", data, get_profile("smoke", "cpu"), progress=False)
    finally:
        os.umask(old)
    (entry,) = runs_dir().glob("none-*.pt")
    assert entry.stat().st_mode & 0o777 == 0o664


def test_an_unreadable_entry_is_reported_and_left_where_it_is(data, monkeypatch) -> None:
    """Another user's entry that this user cannot read used to be called unusable, moved aside
    as .corrupt-… and retrained. Now: reported with its path and owner, never moved or
    overwritten; the run trains and stays in memory."""
    from attncv.train import runs

    prof = get_profile("smoke", "cpu")
    train_model("none", data, prof, progress=False)
    (entry,) = runs_dir().glob("none-*.pt")
    before = entry.read_bytes()
    real_load = runs.torch.load

    def denied(path, *args, **kwargs):
        if str(path) == str(entry):
            raise PermissionError(13, "Permission denied", str(entry))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(runs.torch, "load", denied)
    monkeypatch.setattr(runs, "_MEMORY", {})
    with pytest.warns(runs.CacheWarning, match="cannot be read.*owned by") as record:
        _, result = train_model("none", data, prof, progress=False)
    assert str(entry) in str(record[0].message) and "corrupt" not in str(record[0].message)
    assert result.history
    assert [p.name for p in runs_dir().iterdir() if "corrupt" in p.name] == []
    assert entry.read_bytes() == before  # neither moved aside nor overwritten


def test_a_run_being_trained_elsewhere_is_waited_for_and_loaded(data, monkeypatch) -> None:
    """Two notebooks started together both trained the shared baseline. Now the second waits
    for the first (a lock per run key) and loads its result."""
    import threading
    import time

    from filelock import FileLock

    from attncv.train import runs

    prof = get_profile("smoke", "cpu")
    train_model("none", data, prof, progress=False)  # the first notebook's run, done
    (entry,) = runs_dir().glob("none-*.pt")
    saved = entry.read_bytes()
    entry.unlink()  # ... but still being trained: its lock is held, its entry not yet there
    lock = FileLock(str(runs.lock_path(entry)))
    lock.acquire()
    monkeypatch.setattr(runs, "fit", lambda *a, **k: pytest.fail("trained a run being trained"))
    got = {}
    second = threading.Thread(
        target=lambda: got.update(run=train_model("none", data, prof, progress=False))
    )
    second.start()
    time.sleep(1.0)
    assert second.is_alive()  # waiting for the first
    entry.write_bytes(saved)  # the first finishes
    lock.release()
    second.join(timeout=30)
    assert not second.is_alive() and got["run"][1].history


def test_run_locks_are_group_writable_where_the_cache_is(tmp_path) -> None:
    """Under umask 022 a run's lock used to be rw-r--r--: another member of the group could not
    take it, and trained the same run at the same time without a word."""
    import os

    folder = tmp_path / "shared-runs"
    folder.mkdir()
    folder.chmod(0o2775)
    old = os.umask(0o022)
    try:
        with runs._training(folder / "none-key.pt"):
            mode = runs.lock_path(folder / "none-key.pt").stat().st_mode
    finally:
        os.umask(old)
    assert mode & 0o060 == 0o060


def _locked_out(monkeypatch, lock, *, read: bool) -> None:
    """This user may not write ``lock`` (another user's, rw-r--r--), nor read it unless ``read``
    (faked, since root may open anything)."""
    import os

    real = os.open

    def open_(path, flags, *args, **kwargs):
        if str(path) == str(lock) and lock.exists() and not flags & os.O_EXCL:  # EEXIST first
            if not read or flags & os.O_ACCMODE != os.O_RDONLY:
                raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def test_another_users_run_lock_is_waited_for_not_skipped(tmp_path, monkeypatch, capsys) -> None:
    """A group member who may only read the run's lock file used to skip the lock and train the
    run while its owner trained it too; the lock needs no write access, so it waits."""
    import threading

    from attncv.data.files import SharedLock

    entry = tmp_path / "none-key.pt"
    theirs = SharedLock(runs.lock_path(entry))
    assert theirs.acquire(timeout=0)  # the other user's process, training this run
    _locked_out(monkeypatch, runs.lock_path(entry), read=True)
    threading.Timer(0.5, theirs.release).start()
    with runs._training(entry):
        pass
    assert "Another process is training this run" in capsys.readouterr().out


def test_a_run_lock_that_cannot_be_taken_is_reported(tmp_path, monkeypatch) -> None:
    """A lock file this user may not even read used to be skipped without a word."""
    entry = tmp_path / "none-key.pt"
    runs.lock_path(entry).write_text("")
    _locked_out(monkeypatch, runs.lock_path(entry), read=False)
    with pytest.warns(runs.CacheWarning, match="lock"):
        with runs._training(entry):
            pass
