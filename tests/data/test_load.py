"""The data path: official layouts, honest fallbacks, balanced subsets, clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from attncv.data import DataError, DataSubstituteWarning, load_cifar, synthetic
from attncv.data.read import read_cifar10, read_cifar100
from attncv.data.subset import balanced_indices
from tests.conftest import SHARED_DATA


def test_cifar100_layout_is_read_with_fine_and_coarse_labels(cifar100_dir: Path) -> None:
    data = read_cifar100(cifar100_dir / "cifar-100-python")
    assert data.name == "CIFAR-100" and not data.substitute
    assert data.train_images.shape == (24, 3, 32, 32) and data.train_images.dtype == torch.uint8
    assert data.train_labels.tolist() == [c for c in range(4) for _ in range(6)]
    assert data.train_coarse.tolist() == [c // 2 for c in data.train_labels.tolist()]
    assert data.classes[3] == "fine3" and data.coarse_classes[1] == "coarse1"
    assert data.num_classes == 100
    # image i was written as the value 3 * i: order and channel-major reshape kept
    assert data.train_images[5].unique().tolist() == [15]


def test_cifar10_layout_joins_all_training_batches(cifar10_dir: Path) -> None:
    data = read_cifar10(cifar10_dir / "cifar-10-batches-py")
    assert len(data.train_labels) == 50 and len(data.test_labels) == 20
    assert data.classes[3] == "cat"
    assert data.train_labels.bincount().tolist() == [5] * 10


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="the shared CIFAR-10 subset is not here")
def test_real_cifar10_subset_labels_match_the_official_names() -> None:
    data = read_cifar10(SHARED_DATA / "cifar-10-batches-py")
    assert data.classes == [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    assert data.train_labels.bincount().tolist() == [1000] * 10
    assert data.test_labels.bincount().tolist() == [200] * 10
    # real photographs, not noise: neighbouring pixels are strongly correlated
    x = data.train_images[:200].float()
    a, b = x[..., :, :-1].flatten(), x[..., :, 1:].flatten()
    assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.8


def test_cifar100_is_found_first(cifar100_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no substitute, no announcement
        data = load_cifar(cifar100_dir)
    assert data.name == "CIFAR-100" and data.description == "CIFAR-100"


def test_environment_variable_is_a_data_dir(cifar100_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATTNCV_DATA", str(cifar100_dir))
    assert load_cifar().name == "CIFAR-100"


def test_cifar10_substitute_is_announced_and_recorded(cifar10_dir: Path) -> None:
    with pytest.warns(DataSubstituteWarning, match="CIFAR-10"):
        data = load_cifar(cifar10_dir)
    assert data.name == "CIFAR-10" and data.substitute
    assert "substitute" in data.description


def test_synthetic_stand_in_without_any_data_folder() -> None:
    with pytest.warns(DataSubstituteWarning, match="SYNTHETIC"):
        data = load_cifar(train_size=100, test_size=50)
    assert data.name == "synthetic" and "synthetic" in data.description
    assert len(data.train_labels) == 100 and data.train_labels.bincount().tolist() == [10] * 10


def test_strict_refuses_substitutes_and_says_what_was_tried(cifar10_dir: Path) -> None:
    with pytest.raises(DataError, match="strict=True") as err:
        load_cifar(cifar10_dir, strict=True)
    assert "cifar-100-python" in str(err.value) and "ATTNCV_DATA" in str(err.value)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder") as err:
        load_cifar(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(err.value)


def test_missing_env_folder_names_the_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATTNCV_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataError, match=r"\$ATTNCV_DATA"):
        load_cifar()


def test_corrupt_file_is_a_clear_error(cifar100_dir: Path) -> None:
    (cifar100_dir / "cifar-100-python" / "train").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="corrupt") as err:
        load_cifar(cifar100_dir)
    assert "train" in str(err.value) and "delete" in str(err.value)


def test_incomplete_folder_is_a_clear_error(cifar100_dir: Path) -> None:
    (cifar100_dir / "cifar-100-python" / "meta").unlink()
    with pytest.raises(DataError, match="missing"):
        load_cifar(cifar100_dir)


def test_wrong_layout_is_a_clear_error(cifar10_dir: Path) -> None:
    import pickle

    path = cifar10_dir / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(pickle.dumps({b"data": [[1, 2, 3]], b"labels": [0]}))
    with pytest.raises(DataError, match="3072"):
        read_cifar10(cifar10_dir / "cifar-10-batches-py")


def test_subset_is_balanced_and_deterministic(cifar10_dir: Path) -> None:
    with pytest.warns(DataSubstituteWarning):
        a = load_cifar(cifar10_dir, per_class=3, test_per_class=1, seed=1)
    with pytest.warns(DataSubstituteWarning):
        b = load_cifar(cifar10_dir, per_class=3, test_per_class=1, seed=1)
    assert a.train_labels.bincount().tolist() == [3] * 10
    assert a.test_labels.bincount().tolist() == [1] * 10
    assert torch.equal(a.train_images, b.train_images) and torch.equal(
        a.train_labels, b.train_labels
    )
    assert "30 train / 10 test" in a.description


def test_subset_depends_on_the_seed() -> None:
    labels = torch.arange(10).repeat_interleave(100)
    a, b = balanced_indices(labels, 20, seed=0), balanced_indices(labels, 20, seed=1)
    assert set(a.tolist()) != set(b.tolist())
    assert labels[a].bincount().tolist() == [20] * 10


def test_subset_larger_than_a_class_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="per_class"):
        balanced_indices(torch.arange(3).repeat_interleave(4), 5, seed=0)


def test_size_and_per_class_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"), pytest.warns(DataSubstituteWarning):
        load_cifar(per_class=5, train_size=50)


def test_batches_are_normalised_and_cover_the_split() -> None:
    data = synthetic(train_per_class=20, test_per_class=5)
    seen = torch.cat([y for _, y in data.batches("test", 16)])
    assert torch.equal(seen, data.test_labels)  # test batches: in order, not shuffled
    x, _ = next(data.batches("train", 64))
    assert x.dtype == torch.float32 and x.shape == (64, 3, 32, 32)
    assert abs(x.mean().item()) < 0.5 and 0.5 < x.std().item() < 1.5


def test_drop_last_gives_only_full_batches() -> None:
    data = synthetic(train_per_class=10, test_per_class=1)
    sizes = [len(y) for _, y in data.batches("train", 32, drop_last=True)]
    assert sizes == [32, 32, 32]


def test_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="split"):
        synthetic(train_per_class=2, test_per_class=1).split("val")


def test_a_named_folder_without_any_dataset_is_an_error(tmp_path: Path) -> None:
    """The user asked for that folder: it used to become synthetic data without a word."""
    empty = tmp_path / "mydata"
    empty.mkdir()
    with pytest.raises(DataError, match="holds neither cifar-100-python/ nor") as err:
        load_cifar(empty)
    assert str(empty) in str(err.value) and "leave data_dir unset" in str(err.value)


def test_a_named_env_folder_without_any_dataset_names_the_variable(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("ATTNCV_DATA", str(tmp_path))
    with pytest.raises(DataError, match=r"\$ATTNCV_DATA points to .* holds neither"):
        load_cifar()


def test_an_incomplete_named_cifar100_folder_is_an_error_not_a_fallback(
    cifar100_dir: Path,
) -> None:
    (cifar100_dir / "cifar-100-python" / "train").unlink()
    with pytest.raises(DataError, match="train is missing"):
        load_cifar(cifar100_dir)


def test_without_a_named_folder_the_fallback_still_applies() -> None:
    with pytest.warns(DataSubstituteWarning, match="SYNTHETIC"):
        assert load_cifar(train_size=20, test_size=10).name == "synthetic"


@pytest.mark.parametrize(
    ("value", "offline"),
    [("0", False), ("false", False), ("", False), ("1", True), ("yes", True), ("TRUE", True)],
)
def test_attncv_offline_is_a_yes_or_no(monkeypatch, value: str, offline: bool) -> None:
    """ATTNCV_OFFLINE=0 used to mean offline: any non-empty value did."""
    from attncv.data import load

    calls = []

    def fetch(root):
        calls.append(root)
        raise OSError("no network in this test")

    monkeypatch.setattr(load, "fetch_cifar100", fetch)
    monkeypatch.setattr(load, "_DOWNLOAD_FAILED", [])
    monkeypatch.setenv("ATTNCV_OFFLINE", value)
    with pytest.warns(DataSubstituteWarning):
        load_cifar(train_size=20, test_size=10)
    assert bool(calls) is not offline


def test_attncv_offline_with_an_unclear_value_says_what_to_write(monkeypatch) -> None:
    monkeypatch.setenv("ATTNCV_OFFLINE", "maybe")
    with pytest.raises(ValueError, match=r"ATTNCV_OFFLINE='maybe'.*set it to 1"):
        load_cifar(train_size=20, test_size=10)


def test_the_download_failure_is_announced_whole(monkeypatch) -> None:
    """The reason used to be cut at 160 characters, mid-URL, hiding the pyarrow hint."""
    from attncv.data import fetch, load

    def fetch_cifar100(root):
        raise fetch.FetchError(
            "CIFAR-100 could not be downloaded.\n  https://www.cs.toronto.edu/~kriz/"
            "cifar-100-python.tar.gz: URLError: <urlopen error [Errno -3] Temporary failure in "
            "name resolution>\n  https://huggingface.co/datasets/uoft-cs/cifar100/resolve/main/"
            "cifar100/{train,test}-00000-of-00001.parquet: FetchError: reading the mirror's "
            "Parquet files needs pyarrow: pip install pyarrow"
        )

    monkeypatch.setattr(load, "fetch_cifar100", fetch_cifar100)
    monkeypatch.setattr(load, "_DOWNLOAD_FAILED", [])
    monkeypatch.setenv("ATTNCV_OFFLINE", "0")
    with pytest.warns(DataSubstituteWarning) as record:
        load_cifar(train_size=20, test_size=10)
    message = str(record[0].message)
    assert "pip install pyarrow" in message and "name resolution" in message


def test_the_substitute_box_shows_no_machine_paths(monkeypatch, tmp_path) -> None:
    from attncv.data import load as load_module

    data, cache = tmp_path / "lab" / "data", tmp_path / "cache"
    monkeypatch.setenv("ATTNCV_DATA", str(data))
    monkeypatch.setenv("ATTNCV_CACHE", str(cache))
    text = load_module.portable(
        f"tried: {data}/cifar-100-python; {cache}/cifar-100-python; <urlopen error x>"
    )
    assert str(tmp_path) not in text
    assert text == (
        "tried: $ATTNCV_DATA/cifar-100-python; $ATTNCV_CACHE/cifar-100-python; <urlopen error x>"
    )
    shown = []
    monkeypatch.setattr(load_module, "in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    load_module._announce(f"Using {data}/cifar-10-batches-py; <urlopen error x>")
    assert str(tmp_path) not in shown[0] and "&lt;urlopen error x&gt;" in shown[0]


def test_the_substitute_box_escapes_the_failure_reason(monkeypatch) -> None:
    """The download's reason `<urlopen error …>` was read as an HTML tag: the box showed
    "URLError:" and nothing after it."""
    import sys
    import types

    from attncv.data import load

    shown = []
    fake = types.ModuleType("IPython.display")
    fake.HTML = lambda text: text
    fake.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    monkeypatch.setattr(load, "in_kernel", lambda: True)
    load._announce("download failed: URLError: <urlopen error [Errno -3] no network> & more")
    (box,) = shown
    assert "&lt;urlopen error [Errno -3] no network&gt; &amp; more" in box
    assert "<urlopen" not in box


@pytest.mark.slow
def test_a_network_that_never_answers_falls_back_within_seconds(monkeypatch) -> None:
    """Issue 21: on a network that accepts connections and never answers, the fallback took
    61 s (30 s per source without a byte) and did not suggest ATTNCV_OFFLINE=1."""
    import socket
    import threading
    import time

    from attncv.data import fetch, load

    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accept every connection, read nothing, answer nothing
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    sources = (fetch.Archive(url + "/c100.tar.gz"), fetch.Parquet(url + "/{split}.parquet"))
    monkeypatch.setattr(fetch, "SOURCES", sources)
    monkeypatch.setattr(load, "_DOWNLOAD_FAILED", [])
    monkeypatch.setenv("ATTNCV_OFFLINE", "0")
    start = time.monotonic()
    try:
        with pytest.warns(DataSubstituteWarning) as record:
            load_cifar(train_size=20, test_size=10)
    finally:
        stop.set()
        for conn in held:
            conn.close()
        listener.close()
    elapsed = time.monotonic() - start
    # two sources, 5 s each to answer (the probe), and slack for a loaded CI machine
    assert elapsed < 20, f"the fallback took {elapsed:.0f} s"
    assert "ATTNCV_OFFLINE=1" in str(record[0].message)
