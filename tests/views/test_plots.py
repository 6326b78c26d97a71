"""Figures: they draw, label their axes and name the dataset."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from attncv.data import synthetic  # noqa: E402
from attncv.train import FitResult, TrainConfig  # noqa: E402
from attncv.views import plots  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return synthetic(train_per_class=4, test_per_class=2)


def _result(name: str) -> FitResult:
    r = FitResult(name, "synthetic stand-in", "CPU", {})
    r.history = [
        {
            "epoch": e,
            "train_loss": 2 / e,
            "test_loss": 2.2 / e,
            "train_acc": 0.1 * e,
            "test_acc": 0.1 * e,
            "lr": 0.1,
            "seconds": 1.0,
        }
        for e in (1, 2, 3)
    ]
    return r


def test_curves_label_axes_and_name_the_data() -> None:
    fig = plots.curves([_result("baseline"), _result("se")])
    assert "synthetic" in " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel()
    assert len(fig.axes[1].lines) == 2
    assert fig.axes[0].get_yscale() == "log"  # a first-epoch spike must not flatten the curve
    plt.close(fig)


def test_curves_label_the_log_loss_axis_in_plain_decimals() -> None:
    """Losses from 0.67 to 2.2: ticks read 0.7, 1, 1.5, 2 (not "2×10⁰"), and the figure is drawn
    at the book's width."""
    import re

    from attncv.views import style

    fig = plots.curves([_result("baseline")])
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    shown = [
        t.get_text()
        for t in ax.get_yticklabels()
        if t.get_text() and lo <= t.get_position()[1] <= hi
    ]
    assert shown == ["0.7", "1", "1.5", "2"]
    assert all(re.fullmatch(r"\d+(\.\d+)?", t) for t in shown)
    assert fig.get_figwidth() <= style.MAX_WIDTH
    plt.close(fig)


def test_every_module_has_its_own_colour() -> None:
    from attncv import names

    colours = [plots.module_colour(n) for n in names()]
    assert len(set(colours)) == len(colours) >= 12


def test_captions_wrap_to_the_figure() -> None:
    fig, _ = plt.subplots(figsize=(4, 2))
    plots.caption(fig, "word " * 60)
    lines = fig.texts[-1].get_text().splitlines()
    assert len(lines) > 2 and max(map(len, lines)) <= 52
    plt.close(fig)


def test_confusions_count_the_most_frequent_mistakes() -> None:
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    logits = torch.eye(3)[torch.tensor([1, 1, 0, 0, 1, 1])] * 5  # predicted classes
    assert plots.confusions(logits, labels, ["a", "b", "c"], top=3) == [
        (2, "a", "b"),
        (1, "b", "a"),
        (1, "c", "b"),
    ]


def test_image_grid_names_classes(data) -> None:
    fig = plots.image_grid(data, per_class=2, max_classes=4)
    assert [ax.get_title() for ax in fig.axes[:4]] == data.classes[:4]
    assert "synthetic" in " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    plt.close(fig)


def test_augmentations_draw(data) -> None:
    fig = plots.augmentations(data, n=2, views=2)
    assert "synthetic" in " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    plt.close(fig)


def test_per_class_accuracy_with_many_classes_shows_best_and_worst() -> None:
    acc = torch.linspace(0, 1, 100)
    fig = plots.per_class_accuracy({"m": acc}, [f"c{i}" for i in range(100)], max_classes=10)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[:2] == ["c99", "c98"] and labels[-1] == "c0" and len(labels) == 10
    plt.close(fig)


def test_class_accuracy() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    acc = plots.class_accuracy(logits, torch.tensor([0, 0, 1]), 2)
    assert acc.tolist() == [0.5, 0.0]


def test_lr_schedule_plot() -> None:
    fig = plots.lr_schedule(TrainConfig(epochs=4, warmup_epochs=1), 10)
    assert fig.axes[0].get_ylabel() == "learning rate"
    plt.close(fig)
