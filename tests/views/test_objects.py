"""Where attention goes on a canvas with the object at a known place (attncv.views.objects)."""

import pytest
import torch

from attncv.views import objects


def test_box_mask_and_object_mass() -> None:
    placements = torch.tensor([[-0.5, -0.5, 0.5], [0.75, 0.75, 0.2]])  # a quarter; one cell
    mask = objects.box_mask(placements, (4, 4))
    assert mask.sum(-1).tolist() == [4.0, 1.0]  # the upper-left 2x2 cells; one cell
    assert mask[0].view(4, 4)[:2, :2].all()
    uniform = torch.full((2, 16, 16), 1 / 16)
    uniform_mass = objects.object_mass_per_image(uniform, placements, (4, 4))
    assert uniform_mass.tolist() == pytest.approx([1, 1])
    on_object = mask[:, None, :].expand(2, 16, 16) / mask.sum(-1)[:, None, None]
    mass = objects.object_mass_per_image(on_object, placements)
    assert mass.tolist() == pytest.approx([4.0, 16.0])  # all the mass on a quarter; a 16th
    with pytest.raises(ValueError, match="grid"):
        objects.object_mass_per_image(uniform, placements, (8, 8))


def test_gate_on_object_is_one_for_a_blind_gate_and_above_for_one_on_the_object() -> None:
    placements = torch.tensor([[-0.5, -0.5, 0.5], [0.75, 0.75, 0.2]])  # a quarter; one cell
    flat = torch.full((2, 3, 4, 4), 0.5)  # three channels, the same everywhere
    assert objects.gate_on_object_per_image(flat, placements).tolist() == pytest.approx([1, 1])
    on = 0.1 + 0.8 * objects.box_mask(placements, (4, 4)).view(2, 1, 4, 4).expand(2, 3, 4, 4)
    ratio = objects.gate_on_object_per_image(on, placements)
    assert ratio[0] == pytest.approx(0.9 / ((4 * 0.9 + 12 * 0.1) / 16))  # 3.0
    assert ratio[1] == pytest.approx(0.9 / ((0.9 + 15 * 0.1) / 16))
    off = 1 - on  # high everywhere but the object
    assert (objects.gate_on_object_per_image(off, placements) < 1).all()
    three = objects.gate_on_object_per_image(on[:, 0], placements)  # (N, h, w) works too
    assert torch.allclose(three, ratio)
    with pytest.raises(ValueError, match="gates must be"):
        objects.gate_on_object_per_image(torch.ones(2, 16), placements)


# -- Cluttered canvases: the statistics, validated both ways ----------------------------------


@pytest.fixture(scope="module")
def clutter_data(one_thread):
    from attncv.data import synthetic

    return synthetic(num_classes=10, train_per_class=2, test_per_class=20)  # 200 test images


@pytest.fixture(scope="module")
def clutter(clutter_data):
    from attncv.data.cluttered import on_cluttered_canvas

    return on_cluttered_canvas(clutter_data, seed=0)


@pytest.fixture(scope="module")
def twins(clutter_data):
    from attncv.data.cluttered import on_twin_canvas

    return on_twin_canvas(clutter_data, seed=0)


def test_box_cover_counts_a_boxs_pixels_in_each_cell() -> None:
    boxes = torch.tensor([[0, 0, 16, 16], [4, 6, 20, 22], [60, 60, 64, 64]])
    cover = objects.box_cover(boxes, (8, 8), 64)
    assert cover.sum((1, 2)).tolist() == [256, 256, 16]  # every pixel once
    assert cover[0, :2, :2].eq(64).all() and cover[0].count_nonzero() == 4
    assert cover[1, 0, :3].tolist() == [2 * 4, 2 * 8, 2 * 4]  # rows 6-8: 2 px high
    coarse = objects.box_cover(boxes, (3, 5), 64)  # cells of fractional pixels
    assert coarse.sum((1, 2)).tolist() == pytest.approx([256, 256, 16])


def test_target_over_distractors_uniform_one_hand_set_above_channels_averaged() -> None:
    target = torch.tensor([[0, 0, 16, 16]])
    distractors = torch.tensor([[[32, 32, 48, 48], [0, 40, 16, 56]]])
    uniform = torch.full((1, 8, 8), 0.3)
    stat = objects.target_over_distractors_per_image
    assert stat(uniform, target, distractors).item() == pytest.approx(1.0)
    hand = objects.box_map(target, (8, 8))  # 1.1 on the target, 0.1 elsewhere
    assert stat(hand, target, distractors).item() == pytest.approx(11.0)
    channels = torch.stack([hand, hand * 3], 1)  # (N, C, h, w): the channels averaged
    assert stat(channels, target, distractors).item() == pytest.approx(11.0)
    on_distractor = objects.box_map(distractors[:, 0], (8, 8))
    assert stat(on_distractor, target, distractors).item() == pytest.approx(0.1 / 0.6)
    one = stat(on_distractor, target, distractors[:, 0])  # one distractor box (N, 4)
    assert one.item() == pytest.approx(0.1 / 1.1)
    with pytest.raises(ValueError, match="attention=True"):
        stat(torch.ones(1, 64), target, distractors)


def test_attention_maps_are_read_from_the_queries_on_the_target() -> None:
    target = torch.tensor([[0, 0, 16, 16]])  # the upper-left 2x2 cells of an 8x8 grid
    distractors = torch.tensor([[[32, 32, 48, 48]]])
    key_on = objects.box_cover(target, (8, 8)).flatten(1)  # (1, 64)
    rows = torch.full((1, 64, 64), 1 / 64, dtype=torch.float64)
    queries = key_on[0] > 0
    rows[0, queries] = key_on[0] / key_on[0].sum()  # the target's queries look at the target
    seen = objects.seen_from_target(rows, target)
    assert seen.shape == (1, 8, 8) and seen.sum().item() == pytest.approx(1.0)
    stat = objects.target_over_distractors_per_image(rows, target, distractors, attention=True)
    assert stat.item() > 100  # nothing on the distractor from the target's queries
    uniform = objects.target_over_distractors_per_image(
        torch.full((1, 64, 64), 1 / 64), target, distractors, attention=True
    )
    assert uniform.item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="square grid"):
        objects.seen_from_target(torch.ones(1, 60, 60), target)


def test_validated_on_cluttered_canvases_contrast_and_uniform_one_hand_set_far_above(
    clutter,
) -> None:
    canvas, target, distractors = clutter
    v = objects.validate_statistic(canvas.test_images, target, distractors)
    m = v.means()
    assert 0.8 < m["contrast only"] < 1.25  # distractors as contrasty as the target
    assert v.negatives["uniform"].tolist() == pytest.approx([1.0] * 200)  # exactly 1
    assert m["hand-set on the target"] > 3
    assert v.passes and "tells them apart" in v.summary() and "200 canvases" in str(v)
    # the black canvases' statistic rewards contrast on these canvases too: it cannot tell
    assert m["contrast only, black canvases' statistic"] > 1.5


def test_regression_on_black_canvases_the_old_statistic_lets_contrast_win(clutter_data) -> None:
    """The defect the cluttered canvases fix: on the black canvases a map that knows nothing but
    contrast scores far above 1 with the object statistic (reviewers: 6.9-9.5x)."""
    from attncv.data.distorted import on_canvas

    canvas, placements = on_canvas(clutter_data, seed=0)
    contrast = objects.contrast_map(canvas.test_images, (8, 8))
    old = objects.gate_on_object_per_image(contrast, placements)
    assert old.mean() > 2
    # and the same map, as attention from the object's queries (a row per query), too
    rows = contrast.flatten(1)[:, None, :].expand(-1, 64, -1)
    rows = rows / rows.sum(-1, keepdim=True)
    assert objects.object_mass_per_image(rows, placements).mean() > 2


def test_validated_on_twin_canvases(twins) -> None:
    canvas, target, twin, distractor = twins
    v = objects.validate_twin_statistic(canvas.test_images, target, twin, distractor)
    m = v.means()
    assert 0.8 < m["contrast only"] < 1.25 and 0.8 < m["distance only"] < 1.25
    assert v.negatives["uniform"].tolist() == pytest.approx([1.0] * 200)
    assert m["hand-set on the twin"] > 3 and v.passes
    # the cluttered statistic on the same distance-only map is not blind: hence the twin task
    near = objects.distance_map(target, (8, 8))
    assert objects.target_over_distractors_per_image(near, target, distractor).mean() > 1.5


def test_twin_share_is_bounded_and_validated(twins) -> None:
    canvas, target, twin, distractor = twins
    v = objects.validate_twin_share(canvas.test_images, target, twin, distractor)
    m = v.means()
    assert 0.45 < m["contrast only"] < 0.55 and 0.45 < m["distance only"] < 0.55
    assert v.negatives["uniform"].tolist() == pytest.approx([0.5] * 200)
    assert m["hand-set on the twin"] > 0.75 and v.passes
    assert "(no preference: 0.5)" in v.summary() and "x" not in v.summary().split(":")[-1][:6]
    # a map with (almost) nothing on the distractor: a ratio explodes, the share stays <= 1
    key_on_twin = objects.box_cover(twin, (8, 8))  # (N, 8, 8): weight only on the twin
    ratio = objects.twin_over_distractor_per_image(key_on_twin, target, twin, distractor)
    share = objects.twin_share_per_image(key_on_twin, target, twin, distractor)
    assert ratio.max() > 1e6 and share.max() <= 1 and share.mean() > 0.99
    # the share is blind where the ratio is: a negative control must not pass as positive
    flat = objects.validate_twin_share(canvas.test_images, target, twin, twin)
    assert not flat.passes


def test_twin_statistic_reads_attention_from_the_targets_queries(twins) -> None:
    canvas, target, twin, distractor = twins
    key_on_twin = objects.box_cover(twin, (8, 8)).flatten(1)  # (N, 64)
    rows = (0.01 + key_on_twin / key_on_twin.sum(1, keepdim=True))[:, None, :].expand(-1, 64, -1)
    stat = objects.twin_over_distractor_per_image(rows, target, twin, distractor, attention=True)
    assert stat.mean() > 3
    with pytest.raises(ValueError, match="one per canvas"):
        objects.twin_over_distractor_per_image(rows, target, twin[:3], distractor, attention=True)
