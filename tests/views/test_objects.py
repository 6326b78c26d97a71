"""Where attention goes on a canvas with the object at a known place (attncv.views.objects)."""

import pytest
import torch

from attncv.views import evidence_words as ew
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


@pytest.mark.parametrize(("trained", "holds"), [(2.0, True), (1.2, None), (0.5, False)])
def test_object_verdict(trained: float, holds) -> None:
    g = torch.Generator().manual_seed(0)
    control = 1.2 + 0.05 * torch.randn(100, generator=g)
    v = objects.object_verdict(
        trained + 0.05 * torch.randn(100, generator=g),
        control,
        where="b",
        paper="p",
        control_label=ew.RANDOM_QUERY_KEY,
    )
    assert v.holds is holds and v.evidence[0].band_how == ew.band_how(100, "test canvases")
    assert {True: "more than", None: "as much as", False: "less than"}[holds] in v.finding
    assert ew.RANDOM_QUERY_KEY in v.finding


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
