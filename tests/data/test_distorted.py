"""The canvas task's object sizes: any range within the canvas, a clear error otherwise."""

from __future__ import annotations

import pytest
import torch

from attncv.data import synthetic
from attncv.data.distorted import check_object_sizes, on_canvas


def test_a_wide_size_range_gives_objects_across_it() -> None:
    data = synthetic(num_classes=2, train_per_class=4, test_per_class=100)
    canvas, placements = on_canvas(data, size=64, object_sizes=(10, 40), seed=0)
    sides = (placements[:, 2] * 64).round()
    assert sides.min() == 10 and sides.max() == 40 and len(sides.unique()) > 20
    assert "10-40 px" in canvas.description
    batch = next(canvas.batches("train", 8, generator=torch.Generator().manual_seed(0)))[0]
    assert batch.shape == (8, 3, 64, 64)
    _, whole = on_canvas(data, size=32, object_sizes=(32, 32), seed=0)  # the canvas itself
    assert torch.equal(whole, torch.tensor([[0.0, 0.0, 1.0]]).expand(200, 3))


@pytest.mark.parametrize(
    ("object_sizes", "size", "words"),
    [
        ((30, 20), 64, "low <= high"),
        ((0, 20), 64, "low <= high"),
        ((10, 80), 64, "do not fit on the 64x64 canvas"),
        ((10.5, 20), 64, "whole pixels"),
        ((10,), 64, "pair"),
        (None, 64, "pair"),
        ((10, 20), 0, "size"),
    ],
)
def test_sizes_outside_the_canvas_are_clear_errors(object_sizes, size, words) -> None:
    with pytest.raises(ValueError, match="on_canvas") as caught:
        check_object_sizes(object_sizes, size)
    assert words in str(caught.value)
    data = synthetic(num_classes=2, train_per_class=2, test_per_class=2)
    with pytest.raises(ValueError, match="on_canvas"):
        on_canvas(data, size=size, object_sizes=object_sizes)
