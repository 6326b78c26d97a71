"""The pickle readers validate every file: a damaged or foreign file is a DataError that names
the file and what is wrong with it, never a silent loss of images or a failure later on."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from attncv.data import DataError, load_cifar
from attncv.data.read import read_cifar10, read_cifar100


def _load(path: Path) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f, encoding="bytes")


def _dump(path: Path, obj: object) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


def _edit(path: Path, **changes: object) -> None:
    """Rewrite the pickle at ``path`` with some keys replaced (``None`` removes the key)."""
    batch = _load(path)
    for key, value in changes.items():
        if value is None:
            batch.pop(key.encode())
        else:
            batch[key.encode()] = value
    _dump(path, batch)


def test_more_images_than_labels_is_refused(cifar100_dir: Path) -> None:
    """12 images and 10 labels used to load, and batches silently dropped 2 images."""
    train = cifar100_dir / "cifar-100-python" / "train"
    batch = _load(train)
    _edit(
        train,
        data=batch[b"data"][:12],
        fine_labels=batch[b"fine_labels"][:10],
        coarse_labels=batch[b"coarse_labels"][:12],
    )
    with pytest.raises(DataError, match="12 images but 10 fine_labels") as err:
        read_cifar100(cifar100_dir / "cifar-100-python")
    assert str(train) in str(err.value) and "To fix it" in str(err.value)


def test_a_fine_label_out_of_range_is_refused(cifar100_dir: Path) -> None:
    """A fine label of 150 used to load and then fail inside cross-entropy."""
    train = cifar100_dir / "cifar-100-python" / "train"
    labels = _load(train)[b"fine_labels"]
    _edit(train, fine_labels=[150, *labels[1:]])
    with pytest.raises(DataError, match=r"fine_labels must lie in 0-99.*for example 150"):
        read_cifar100(cifar100_dir / "cifar-100-python")


def test_a_coarse_label_out_of_range_is_refused(cifar100_dir: Path) -> None:
    test = cifar100_dir / "cifar-100-python" / "test"
    labels = _load(test)[b"coarse_labels"]
    _edit(test, coarse_labels=[-1, *labels[1:]])
    with pytest.raises(DataError, match="coarse_labels must lie in 0-19"):
        read_cifar100(cifar100_dir / "cifar-100-python")


def test_a_meta_file_with_90_names_is_refused(cifar100_dir: Path) -> None:
    """90 names used to load as "CIFAR-100" with 90 classes."""
    meta = cifar100_dir / "cifar-100-python" / "meta"
    _edit(meta, fine_label_names=[f"c{i}".encode() for i in range(90)])
    with pytest.raises(DataError, match="names 90 classes.*CIFAR-100 has 100") as err:
        read_cifar100(cifar100_dir / "cifar-100-python")
    assert str(meta) in str(err.value)


def test_a_missing_key_names_the_file_and_the_key(cifar100_dir: Path) -> None:
    """A pickle without b'fine_labels' used to raise a raw KeyError."""
    train = cifar100_dir / "cifar-100-python" / "train"
    _edit(train, fine_labels=None)
    with pytest.raises(DataError, match="fine_labels") as err:
        read_cifar100(cifar100_dir / "cifar-100-python")
    assert str(train) in str(err.value) and "delete" in str(err.value)


def test_a_pickle_holding_a_list_is_refused(cifar100_dir: Path) -> None:
    """A pickle of a list used to raise a raw TypeError."""
    test = cifar100_dir / "cifar-100-python" / "test"
    _dump(test, [1, 2, 3])
    with pytest.raises(DataError, match="holds a list, not the dict") as err:
        read_cifar100(cifar100_dir / "cifar-100-python")
    assert str(test) in str(err.value)


def test_labels_that_are_not_integers_are_refused(cifar10_dir: Path) -> None:
    batch = cifar10_dir / "cifar-10-batches-py" / "data_batch_1"
    _edit(batch, labels={"not": "a list"})
    with pytest.raises(DataError, match="list of integer labels"):
        read_cifar10(cifar10_dir / "cifar-10-batches-py")


def test_cifar10_labels_out_of_range_are_refused(cifar10_dir: Path) -> None:
    batch = cifar10_dir / "cifar-10-batches-py" / "test_batch"
    labels = _load(batch)[b"labels"]
    _edit(batch, labels=[10, *labels[1:]])
    with pytest.raises(DataError, match="labels must lie in 0-9"):
        read_cifar10(cifar10_dir / "cifar-10-batches-py")


def test_cifar10_meta_with_the_wrong_number_of_names_is_refused(cifar10_dir: Path) -> None:
    meta = cifar10_dir / "cifar-10-batches-py" / "batches.meta"
    _edit(meta, label_names=[b"a", b"b"])
    with pytest.raises(DataError, match="names 2 classes.*CIFAR-10 has 10"):
        read_cifar10(cifar10_dir / "cifar-10-batches-py")


def test_only_data_batch_numbers_are_training_batches(cifar10_dir: Path) -> None:
    """data_batch_* used to match .part files and copies too, doubling the training set."""
    root = cifar10_dir / "cifar-10-batches-py"
    for extra in ("data_batch_1.part", "data_batch_1 copy", "data_batch_2.bak"):
        (root / extra).write_bytes((root / "data_batch_1").read_bytes())
    data = read_cifar10(root)
    assert len(data.train_labels) == 50  # 25 + 25, as the fixture wrote them


def test_training_batches_are_read_in_numeric_order(cifar10_dir: Path) -> None:
    root = cifar10_dir / "cifar-10-batches-py"
    first, second = _load(root / "data_batch_1"), _load(root / "data_batch_2")
    (root / "data_batch_2").rename(root / "data_batch_10")
    data = read_cifar10(root)
    expected = np.concatenate([first[b"labels"], second[b"labels"]])
    assert data.train_labels.tolist() == expected.tolist()


def test_a_truncated_cifar10_batch_does_not_promise_a_download(cifar10_dir: Path) -> None:
    """attncv downloads only CIFAR-100: a broken CIFAR-10 file says where to get it instead."""
    batch = cifar10_dir / "cifar-10-batches-py" / "data_batch_1"
    batch.write_bytes(batch.read_bytes()[:500])
    with pytest.raises(DataError, match="truncated") as err:
        read_cifar10(cifar10_dir / "cifar-10-batches-py")
    message = str(err.value)
    assert "download again" not in message and "download CIFAR-100 again" not in message
    assert "cifar-10-python.tar.gz" in message and "downloads only CIFAR-100" in message


def test_a_missing_cifar10_file_does_not_promise_a_download(cifar10_dir: Path) -> None:
    (cifar10_dir / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DataError, match="missing") as err:
        read_cifar10(cifar10_dir / "cifar-10-batches-py")
    assert "downloads only CIFAR-100" in str(err.value)


def test_load_cifar_reports_a_broken_substitute_instead_of_falling_through(
    cifar10_dir: Path,
) -> None:
    batch = cifar10_dir / "cifar-10-batches-py" / "data_batch_2"
    _edit(batch, labels=None)
    with pytest.raises(DataError, match="data_batch_2"):
        load_cifar(cifar10_dir)


def test_an_unreadable_batch_is_reported_as_unreadable(cifar10_dir: Path, monkeypatch) -> None:
    """A chmod-000 batch used to be called "truncated, corrupt", with the advice to copy it
    again. (Faked: the tests may run as root, who reads any file.)"""
    import builtins

    batch = cifar10_dir / "cifar-10-batches-py" / "data_batch_1"
    real_open = builtins.open

    def no_permission(file, *args, **kwargs):
        if str(file) == str(batch):
            raise PermissionError(13, "Permission denied", str(batch))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_permission)
    with pytest.raises(DataError, match="cannot be read: permission denied") as err:
        read_cifar10(cifar10_dir / "cifar-10-batches-py")
    message = str(err.value)
    assert str(batch) in message and "owned by" in message
    assert "truncated" not in message and "corrupt" not in message and "again" not in message
