"""Cluttered and twin canvases: the target among distractors as contrasty as itself
(attncv.data.cluttered)."""

import pytest
import torch

from attncv.data import cluttered as cl
from attncv.data import synthetic

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=5, train_per_class=4, test_per_class=20)  # 100 test images


@pytest.fixture(scope="module")
def clutter(data):
    return cl.on_cluttered_canvas(data, seed=3)


@pytest.fixture(scope="module")
def twins(data):
    return cl.on_twin_canvas(data, seed=3)


def _apart(a: torch.Tensor, b: torch.Tensor, gap: int) -> torch.Tensor:
    """Pixel boxes (..., 4): at least ``gap`` pixels between them along x or y."""
    dx = torch.maximum(a[..., 0], b[..., 0]) - torch.minimum(a[..., 2], b[..., 2])
    dy = torch.maximum(a[..., 1], b[..., 1]) - torch.minimum(a[..., 3], b[..., 3])
    return torch.maximum(dx, dy) >= gap


def test_cluttered_canvases_boxes_and_description(data, clutter) -> None:
    canvas, target, distractors = clutter
    n = len(data.test_labels)
    assert canvas.test_images.shape == (n, 3, 64, 64) and canvas.test_images.dtype == torch.uint8
    assert torch.equal(canvas.test_labels, data.test_labels)  # the target's label
    assert target.shape == (n, 4) and distractors.shape == (n, 3, 4)
    boxes = torch.cat([target[:, None], distractors], 1)  # (N, 4, 4)
    side = boxes[..., 2] - boxes[..., 0]
    assert torch.equal(side, boxes[..., 3] - boxes[..., 1])  # squares
    assert (side == side[:, :1]).all() and side.min() >= 16 and side.max() <= 24  # one side
    assert boxes[..., :2].min() >= 0 and boxes[..., 2:].max() <= 64
    for i in range(4):
        for j in range(i + 1, 4):
            assert _apart(boxes[:, i], boxes[:, j], cl.GAP).all()  # no overlaps, gap kept
    assert "3 distractors" in canvas.description and data.description in canvas.description


def test_background_is_the_mean_colour_and_objects_are_where_the_boxes_say(data, clutter) -> None:
    canvas, target, distractors = clutter
    boxes = torch.cat([target[:, None], distractors], 1)
    px = torch.arange(64)
    inside = torch.zeros(len(boxes), 64, 64, dtype=torch.bool)
    for j in range(boxes.shape[1]):
        b = boxes[:, j]
        xs = (px >= b[:, 0:1]) & (px < b[:, 2:3])
        ys = (px >= b[:, 1:2]) & (px < b[:, 3:4])
        inside |= ys[:, :, None] & xs[:, None, :]
    grey = torch.tensor([round(255 * m) for m in data.mean], dtype=torch.uint8)
    outside = canvas.test_images.permute(0, 2, 3, 1)[~inside]  # (pixels, 3)
    assert (outside == grey).all()  # 0 after normalisation
    assert canvas.normalize(grey.view(1, 3, 1, 1)).abs().max() < 0.05
    on = canvas.test_images.permute(0, 2, 3, 1)[inside].float()
    assert (on - grey.float()).abs().mean() > 5  # the objects differ from the background


def test_distractors_are_of_other_classes() -> None:
    labels = torch.tensor([0, 0, 0, 1, 2, 2])
    idx = cl._other_classes(labels, 4, torch.Generator().manual_seed(0))
    assert idx.shape == (6, 4) and (labels[idx] != labels[:, None]).all()
    with pytest.raises(ValueError, match="one class"):
        cl._other_classes(torch.zeros(5, dtype=torch.long), 1, None)


def test_distractors_have_the_targets_contrast() -> None:
    g = torch.Generator().manual_seed(0)
    target = torch.rand(4, 3, 8, 8, generator=g) * 200
    flat = 90 + torch.rand(4, 3, 8, 8, generator=g) * 80  # about 0.4 of the contrast
    matched = cl._match_contrast(flat, target)
    assert torch.allclose(matched.std((1, 2, 3)), target.std((1, 2, 3)), rtol=0.05)
    assert torch.allclose(matched.mean((1, 2, 3)), flat.mean((1, 2, 3)), rtol=0.05)


def test_seeded_and_deterministic(data, clutter) -> None:
    again = cl.on_cluttered_canvas(data, seed=3)
    assert torch.equal(again[0].test_images, clutter[0].test_images)
    assert torch.equal(again[1], clutter[1]) and torch.equal(again[2], clutter[2])
    other = cl.on_cluttered_canvas(data, seed=4)
    assert not torch.equal(other[1], clutter[1])


def test_training_batches_are_fresh_cluttered_canvases(clutter) -> None:
    canvas, _, _ = clutter
    g = torch.Generator().manual_seed(0)
    x, y = next(canvas.batches("train", batch_size=8, generator=g))
    assert x.shape == (8, 3, 64, 64) and x.dtype == torch.float32 and y.shape == (8,)
    one = canvas.transform(canvas.train_images[:1], g)  # a batch of one: no other image
    assert one.shape == (1, 3, 64, 64)
    mates = cl._batch_mates(6, 3, g, torch.device("cpu"))
    assert (mates != torch.arange(6)[:, None]).all()  # never the image itself
    a = canvas.transform(canvas.train_images[:8], torch.Generator().manual_seed(1))
    b = canvas.transform(canvas.train_images[:8], torch.Generator().manual_seed(2))
    assert not torch.equal(a, b)


def test_twin_canvases_twin_is_a_copy_and_the_distractor_as_far(data, twins) -> None:
    canvas, target, twin, distractor = twins
    n = len(data.test_labels)
    assert canvas.test_images.shape == (n, 3, 64, 64)
    assert target.shape == twin.shape == distractor.shape == (n, 4)
    for a, b in [(target, twin), (target, distractor), (twin, distractor)]:
        assert _apart(a, b, cl.GAP).all()
    to_twin, to_other = twin[:, :2] - target[:, :2], distractor[:, :2] - target[:, :2]
    assert torch.equal(to_twin.pow(2).sum(1), to_other.pow(2).sum(1))  # exactly as far
    assert torch.equal(to_twin.abs().amax(1), to_other.abs().amax(1))  # in every norm
    assert torch.equal(to_twin.abs().sort(1).values, to_other.abs().sort(1).values)
    for i in range(n):
        t, w, d = target[i].tolist(), twin[i].tolist(), distractor[i].tolist()
        img = canvas.test_images[i]
        assert torch.equal(img[:, t[1] : t[3], t[0] : t[2]], img[:, w[1] : w[3], w[0] : w[2]])
        assert not torch.equal(img[:, t[1] : t[3], t[0] : t[2]], img[:, d[1] : d[3], d[0] : d[2]])
    assert "copy of itself" in canvas.description
    x, _ = next(canvas.batches("train", batch_size=4, generator=torch.Generator()))
    assert x.shape == (4, 3, 64, 64)


def test_twin_roles_are_symmetric(twins) -> None:
    """Which of the two equally far boxes is the twin is a coin flip: no place gives it away."""
    _, target, twin, distractor = twins
    for axis in (0, 1):
        twin_side = (twin[:, axis] - target[:, axis]).float().mean()
        other_side = (distractor[:, axis] - target[:, axis]).float().mean()
        assert abs(twin_side - other_side) < 8  # pixels, on 100 canvases


def test_placements_match_on_canvas_convention() -> None:
    boxes = torch.tensor([[0, 0, 32, 32], [40, 8, 56, 24]])
    p = cl.as_placements(boxes, 64)
    assert p.flatten().tolist() == pytest.approx([-0.5, -0.5, 0.5, 0.5, -0.5, 0.25])


def test_crowded_canvases_are_refused(data) -> None:
    with pytest.raises(ValueError, match="do not fit"):
        cl.on_cluttered_canvas(data, size=32, object_sizes=(16, 16), distractors=3)
    with pytest.raises(ValueError, match="object_sizes"):
        cl.on_cluttered_canvas(data, object_sizes=(30, 20))
    with pytest.raises(ValueError, match="at least 1"):
        cl.on_cluttered_canvas(data, distractors=0)
