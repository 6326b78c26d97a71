"""The oracle window: thetas from known placements, a crop that holds the whole object where a
centred window loses part of it, and the oracle task's canvases equal the canvas task's."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from attncv import set_seed
from attncv.data import synthetic
from attncv.data.augment import augment, place_on_canvas
from attncv.data.distorted import on_canvas
from attncv.model import FixedWindow, glimpse_resnet18
from attncv.model.stn_classifier import read_windows
from attncv.train.stn_oracle import oracle_resnet18, oracle_task, oracle_thetas, oracle_views


def _white(n_train: int = 8, n_test: int = 64):
    """Bright objects on black canvases: every image is white, the mean colour black (so the
    window reads black past the canvas's edge too)."""
    data = synthetic(num_classes=2, train_per_class=n_train // 2, test_per_class=n_test // 2)
    full = lambda images: torch.full_like(images, 255)  # noqa: E731
    return replace(
        data,
        train_images=full(data.train_images),
        test_images=full(data.test_images),
        mean=(0.0, 0.0, 0.0),
    )


def test_thetas_for_known_placements() -> None:
    placements = torch.tensor([[0.0, 0.0, 0.25], [-0.5, 0.75, 0.3], [0.9, -0.95, 0.2]])
    theta = oracle_thetas(placements, 0.5)
    expected = torch.tensor(
        [
            [[0.5, 0, 0.0], [0, 0.5, 0.0]],
            [[0.5, 0, -0.5], [0, 0.5, 0.75]],
            [[0.5, 0, 0.9], [0, 0.5, -0.95]],
        ]
    )
    assert torch.allclose(theta, expected)
    inside = oracle_thetas(placements, 0.5, inside=True)  # kept on the canvas: |centre| <= 0.5
    assert torch.allclose(inside[:, :, 2], torch.tensor([[0.0, 0.0], [-0.5, 0.5], [0.5, -0.5]]))
    with pytest.raises(ValueError, match="side"):
        oracle_thetas(placements, 0.0)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        oracle_thetas(placements[:, :2], 0.5)


def test_a_window_at_a_known_place_reads_those_pixels() -> None:
    """The window centred on the object at the upper-left quarter's centre reads that quarter,
    pixel for pixel (side 1/2 of a 64-px canvas at 32 px)."""
    canvas = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8)
    views = oracle_views(canvas, torch.tensor([[-0.5, -0.5, 0.25]]), 0.5, view=32)
    assert torch.equal(views, canvas[..., :32, :32])


def test_the_oracle_crop_holds_the_whole_object_and_the_centred_one_does_not() -> None:
    data = _white()
    canvas, placements = on_canvas(data, size=64, object_sizes=(10, 28), seed=0)
    oracle, same = oracle_task(data, side=0.5, object_sizes=(10, 28), seed=0)
    assert torch.equal(placements, same) and oracle.test_images.shape == (64, 3, 32, 32)
    mass = canvas.test_images.double().sum((1, 2, 3))  # the object's, on a black canvas
    held = oracle.test_images.double().sum((1, 2, 3)) / mass
    assert held.min() > 0.99 and held.max() < 1.01  # every object, whole
    centred = FixedWindow(0.5, 32)(canvas.test_images.double()).sum((1, 2, 3)) / mass
    reach = (placements[:, :2].abs().amax(1) + placements[:, 2]) * 32  # px from the centre
    off = reach > 16.5  # the object reaches past the centred window's edge
    assert off.sum() >= 10 and (centred[off] < 0.99).all() and centred[off].mean() < 0.8
    assert (centred[~off] > 0.99).all()


def test_training_batches_are_the_canvas_tasks_cut_at_their_objects() -> None:
    data = synthetic(num_classes=2, train_per_class=8, test_per_class=4)
    canvas, placements = on_canvas(data, size=64, object_sizes=(10, 40), seed=1)
    oracle, _ = oracle_task(data, side=0.4, object_sizes=(10, 40), seed=1)
    assert "10-40 px" in oracle.description and "26-px window" in oracle.description
    pad = torch.tensor(data.mean) * 255
    assert torch.equal(
        oracle.test_images, oracle_views(canvas.test_images, placements, 0.4, pad=pad)
    )

    def batch(d):
        return next(d.batches("train", 16, generator=torch.Generator().manual_seed(5)))[0]

    seen, placed = batch(oracle), batch(canvas)  # normalised (16, 3, 32, 32), (16, 3, 64, 64)
    assert seen.shape == (16, 3, 32, 32) and placed.shape == (16, 3, 64, 64)
    # the same canvases: each oracle view is some window of side 0.4 on its canvas, read from
    # the normalised canvas (zeros outside) up to the uint8 rounding
    gen = torch.Generator().manual_seed(5)
    images = data.train_images[torch.randperm(16, generator=gen)]
    _, where = place_on_canvas(
        augment(images, generator=gen), size=64, object_sizes=(10, 40), generator=gen
    )
    direct = read_windows(placed, oracle_thetas(where, 0.4), 32)
    scale = 1 / (255 * torch.tensor(data.std)).min()
    assert (direct - seen).abs().max() < 0.51 * scale


def test_bad_sizes_and_the_same_resnet() -> None:
    data = synthetic(num_classes=2, train_per_class=2, test_per_class=2)
    with pytest.raises(ValueError, match="object_sizes"):
        oracle_task(data, side=0.5, object_sizes=(30, 20))
    set_seed(0)
    glimpse = glimpse_resnet18(2, width=8)
    set_seed(0)
    oracle = oracle_resnet18(2, width=8)
    assert isinstance(oracle[0], torch.nn.Identity)
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            glimpse[1].state_dict().values(), oracle[1].state_dict().values(), strict=True
        )
    )
