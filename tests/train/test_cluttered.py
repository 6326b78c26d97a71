"""The canvas tasks where contrast alone cannot win (attncv.train.cluttered)."""

import pytest
import torch

from attncv.data import synthetic
from attncv.train import canvas as cv
from attncv.train import cluttered as tc
from attncv.train import get_profile

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=3, train_per_class=4, test_per_class=4)


def test_cluttered_task_is_the_canvas_runs_geometry_with_distractors(data) -> None:
    canvas, target, distractors = tc.cluttered_task(data, seed=1)
    assert canvas.test_images.shape == (12, 3, cv.CANVAS, cv.CANVAS)
    assert distractors.shape == (12, tc.DISTRACTORS, 4)
    side = target[:, 2] - target[:, 0]
    assert side.min() >= cv.OBJECT_SIZES[0] and side.max() <= cv.OBJECT_SIZES[1]
    net = cv.canvas_network("cbam", canvas, get_profile("smoke", "cpu")).eval()
    x, _ = next(canvas.batches("train", batch_size=2, generator=torch.Generator()))
    with torch.no_grad():
        assert net(x).shape == (2, canvas.num_classes)  # the canvas runs take it as it is


def test_twin_task(data) -> None:
    canvas, target, twin, distractor = tc.twin_task(data, seed=1)
    assert canvas.test_images.shape == (12, 3, cv.CANVAS, cv.CANVAS)
    assert target.shape == twin.shape == distractor.shape == (12, 4)
    assert torch.equal(
        (twin[:, :2] - target[:, :2]).pow(2).sum(1),
        (distractor[:, :2] - target[:, :2]).pow(2).sum(1),
    )
