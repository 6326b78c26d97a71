"""views.masks: the two-way decomposition of a mask over channels and positions, and the
mixed verdict."""

from __future__ import annotations

import pytest
import torch

from attncv.views import masks


def test_variance_parts_separate_channel_position_and_interaction() -> None:
    torch.manual_seed(0)
    channel = torch.rand(4, 8, 1, 1).expand(4, 8, 5, 5)
    position = torch.rand(4, 1, 5, 5).expand(4, 8, 5, 5)
    assert masks.variance_parts(channel)["channel"] == pytest.approx(1.0)
    assert masks.variance_parts(position)["position"] == pytest.approx(1.0)
    mixture = masks.variance_parts(channel + position + 0.1 * torch.randn(4, 8, 5, 5))
    assert sum(mixture.values()) == pytest.approx(1.0)
    assert all(0 < v < 1 for v in mixture.values())
    flat = masks.variance_parts(torch.full((2, 3, 4, 4), 0.5))
    assert all(v != v for v in flat.values())
    per = masks.variance_parts(torch.cat([channel, position]), per_image=True)
    assert per["channel"].shape == (8,) and per["channel"][:4].tolist() == pytest.approx([1] * 4)
    assert per["position"][4:].tolist() == pytest.approx([1] * 4)


def test_variance_parts_do_not_favour_channels_like_a_spread_of_channel_means() -> None:
    """The old test (spread of channel means against spread of the channel-averaged map)
    calls a mask whose maps differ per channel "a channel gate"; the decomposition does not."""
    torch.manual_seed(0)
    per_channel_maps = torch.rand(2, 16, 8, 8)  # each channel its own spatial map
    parts = masks.variance_parts(per_channel_maps)
    assert parts["interaction"] > 0.8


def test_position_dependent_averages_the_blocks_per_image() -> None:
    torch.manual_seed(0)
    channel = torch.rand(3, 8, 1, 1).expand(3, 8, 4, 4)
    position = torch.rand(3, 1, 4, 4).expand(3, 8, 4, 4)
    share = masks.position_dependent({"a": channel, "b": position})
    assert share.tolist() == pytest.approx([0.5] * 3)
    one_at_a_time = masks.position_dependent(m for m in (channel, position))
    assert one_at_a_time.tolist() == pytest.approx([0.5] * 3)
