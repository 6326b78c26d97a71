"""End to end on CIFAR-100 with all 100 classes, in the official layout, built here: ``train``,
``test`` and ``meta`` pickles with fine and coarse labels and names. It goes through load_cifar
(found as real CIFAR-100, no substitute), train_model (the runs cache included) and the code the
chapters run on it (image grids, curves, per-class accuracy and confusions over 100 classes, the
SE chapter's per-class gates), in the smoke profile: the path a reader with real data takes, which
the offline CIFAR-10 substitute never exercises."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

import attncv
from attncv.views import plots
from attncv.views import se as sev
from attncv.views.probe import class_means, class_spread

matplotlib.use("Agg")
pytestmark = pytest.mark.usefixtures("one_thread")
FINE = [f"fine_{i}" for i in range(100)]
COARSE = [f"coarse_{i}" for i in range(20)]


@pytest.fixture(scope="module")
def cifar100(tmp_path_factory) -> Path:
    """All 100 classes, 4 training and 2 test images each (what the smoke profile takes), each
    class a colour of its own plus noise; superclass = fine // 5, as an official-like mapping."""
    root = tmp_path_factory.mktemp("c100")
    folder = root / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (100, 3))
    for split, per_class in (("train", 4), ("test", 2)):
        fine = [c for c in range(100) for _ in range(per_class)]
        rng.shuffle(fine)
        pixels = np.repeat(colours[fine], 1024, axis=1)  # (N, 3072), channel-major planes
        noise = rng.integers(-20, 21, pixels.shape)
        batch = {
            b"data": np.clip(pixels + noise, 0, 255).astype(np.uint8),
            b"fine_labels": list(fine),
            b"coarse_labels": [f // 5 for f in fine],
            b"filenames": [f"{split}_{i}.png".encode() for i in range(len(fine))],
            b"batch_label": f"{split} batch".encode(),
        }
        with open(folder / split, "wb") as f:
            pickle.dump(batch, f, protocol=4)
    meta = {
        b"fine_label_names": [n.encode() for n in FINE],
        b"coarse_label_names": [n.encode() for n in COARSE],
    }
    with open(folder / "meta", "wb") as f:
        pickle.dump(meta, f, protocol=4)
    return root


@pytest.mark.slow
def test_cifar100_from_load_to_the_chapters_views(cifar100: Path, capsys) -> None:
    prof = attncv.get_profile("smoke", "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # real CIFAR-100: no substitute, no announcement
        data = attncv.load_cifar(cifar100, **prof.data_kwargs())
    assert data.name == "CIFAR-100" and not data.substitute
    assert data.num_classes == 100 and data.classes == FINE and data.coarse_classes == COARSE
    assert data.train_labels.bincount(minlength=100).tolist() == [4] * 100
    assert data.test_labels.bincount(minlength=100).tolist() == [2] * 100
    assert torch.equal(data.train_coarse, data.train_labels // 5)  # kept aligned by the subset

    figures = [
        plots.image_grid(data, per_class=2, max_classes=10),  # the baseline chapter's cells
        plots.augmentations(data, n=4, views=4),
    ]
    model, result = attncv.train_model("se", data, prof, progress=False)
    assert model.fc.out_features == 100
    assert result.dataset == data.description and "CIFAR-100" in result.dataset
    assert all(np.isfinite(result.curve("train_loss")))
    figures.append(plots.curves(result))

    logits, labels = attncv.predict(model, data)
    assert logits.shape == (200, 100) and logits.dtype == torch.float32
    per_class = plots.class_accuracy(logits, labels, data.num_classes)
    assert per_class.shape == (100,)
    figures.append(
        plots.per_class_accuracy({"SE": per_class}, data.classes, dataset=data.description)
    )
    confusion = torch.zeros(100, 100, dtype=torch.long)  # the baseline chapter's confusions
    confusion.index_put_((labels, logits.argmax(1)), torch.ones_like(labels), accumulate=True)
    assert confusion.sum() == 200
    coarse_hits = (logits.argmax(1) // 5 == labels // 5).float().mean()
    assert 0 <= coarse_hits <= 1

    means = class_means(model, data)  # the SE chapter's per-class gates, 100 classes
    assert means["layer2.0"].shape[0] == 100
    figures.append(sev.excitations(means, data.classes, ["layer2.0", "layer4.0"]))
    assert all(np.isfinite(v) for v in class_spread(means).values())

    _, again = attncv.train_model("se", data, prof, progress=False)  # the runs cache
    assert "loaded from the runs cache" in capsys.readouterr().out
    assert again.history == result.history
    for fig in figures:
        matplotlib.pyplot.close(fig)
