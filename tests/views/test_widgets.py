"""The explorers: costs that follow the papers' formulas, a static figure first, working widgets."""

from __future__ import annotations

import matplotlib
import pytest
import torch
from torch import nn

from attncv import count_macs, names, resnet18
from attncv.attention import AttentionMap
from attncv.data import synthetic
from attncv.views import style
from attncv.views.widgets import (
    attention_explorer,
    attention_figure,
    cost_explorer,
    describe,
    module_cost,
    stage_of,
)

matplotlib.use("Agg")
WIDTHS = (64, 128, 256, 512)  # ResNet-18's stages, two blocks each


def test_se_cost_follows_the_papers_formula():
    for r in (4, 16):
        row = module_cost("se", reduction=r)
        formula = sum(2 * (2 * c * c // r + c // r + c) for c in WIDTHS)  # two FCs with biases
        assert row["extra_params"] == formula
        assert 0 < row["macs_pct"] < row["params_pct"]  # SE is cheap in MACs, not in parameters


def test_a_smaller_reduction_costs_more():
    assert (
        module_cost("se", reduction=4)["extra_params"]
        > module_cost("se", reduction=16)["extra_params"]
        > module_cost("se", reduction=64)["extra_params"]
    )


def test_cost_explorer_draws_first_and_leaves_out_unregistered(monkeypatch, capsys):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    monkeypatch.setenv("ATTNCV_PROGRESS", "log")
    rows = cost_explorer({"se": {"reduction": (8, 16)}, "nonexistent": {"x": (1,)}})
    out = capsys.readouterr().out
    assert "left out: nonexistent" in out and "Run this notebook to move the sliders" in out
    assert [r["name"] for r in rows] == ["se"] and rows[0]["kwargs"] == {"reduction": 16}
    assert len(shown) == 1 and isinstance(shown[0], matplotlib.figure.Figure)  # no widget


def test_cost_widgets_follow_the_slider(capsys):
    pytest.importorskip("ipywidgets")
    from attncv.views import widgets

    box = widgets._cost_widgets({"se": {"reduction": (8, 16)}}, {"se": {"reduction": 16}})
    capsys.readouterr()
    box.children[0].children[0].value = 8  # outside a kernel the Output area prints to stdout
    text = capsys.readouterr().out
    assert (
        "SE(reduction=8)" in text and f"{module_cost('se', reduction=8)['extra_params']:,}" in text
    )


@pytest.mark.parametrize("name", [n for n in names() if n != "none"])
def test_macs_of_the_modules_alone_match_the_whole_network(name: str) -> None:
    """The explorer counts each module alone on its block's output shape; that must add up to
    what the whole network counts (attention at its own widths: the fused path's padding of
    narrow queries once over-counted self-attention by 39%)."""
    whole = count_macs(resnet18(100, attention=name)) - count_macs(resnet18(100))
    assert module_cost(name)["extra_macs"] == whole


class SpatialGate(nn.Module):
    """A stand-in spatial attention: a sigmoid of the channel mean, through a tap."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.tap = AttentionMap("spatial")
        self.fc = nn.Linear(4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv(x)  # (N, 4, H, W)
        f = f * self.tap(torch.sigmoid(f.mean(1, keepdim=True)))  # gate (N, 1, H, W)
        return self.fc(f.mean((2, 3)))


@pytest.fixture
def data():
    return synthetic(num_classes=10, train_per_class=2, test_per_class=2)


def test_attention_figure_shows_channel_gates_as_bars(data):
    model = resnet18(10, attention="se", width=16)
    fig = attention_figure(model, data, 3, "layer2.1.attention.tap", label="se")
    image_ax, weights_ax = fig.axes
    assert len(weights_ax.patches) == 32  # one bar per channel of stage 2 at width 16
    assert data.classes[int(data.test_labels[3])] in image_ax.get_title()
    assert data.description in " ".join(t.get_text() for t in fig.texts).replace("\n", " ")


def test_attention_figure_shows_spatial_maps_beside_the_photo(data):
    fig = attention_figure(SpatialGate(), data, 0, "tap")
    assert len(fig.axes[1].images) == 1  # the map alone, not blended over the photo
    assert len(fig.axes) == 3  # the photo, the map and the map's colour bar
    assert fig.get_figwidth() <= style.MAX_WIDTH


def test_attention_figure_has_a_readable_title(data):
    model = resnet18(10, attention="se", width=16)
    fig = attention_figure(model, data, 3, "layer3.1.attention.tap", label="SE")
    assert fig._suptitle.get_text() == "SE, stage 3, block 2: a weight per channel (64)"
    assert fig.get_figwidth() <= style.MAX_WIDTH


def test_describe_names_stage_block_and_kind():
    assert describe("layer2.0.attention.tap", "spatial", (1, 16, 16)) == (
        "stage 2, block 1: a weight per position (16x16)"
    )
    assert describe("tap", "affine", (2, 3)) == "A predicted transform"
    assert "tap" not in describe("layer4.1.attention.tap", "position", (16, 16), "SAGAN")


def test_attention_explorer_needs_taps(data):
    with pytest.raises(ValueError, match="attention taps"):
        attention_explorer({"plain": resnet18(10, width=16)}, data)


def test_attention_widgets_switch_model_and_stage(data):
    pytest.importorskip("ipywidgets")
    from attncv.views import widgets

    models = {"se": resnet18(10, attention="se", width=16), "gate": SpatialGate()}
    box = widgets._attention_widgets(models, data, [0, 1], "test")
    (_, model), (stage, tap) = box.children[0].children, box.children[1].children
    assert stage.options == ("stage 1", "stage 2", "stage 3", "stage 4")
    stage.value = "stage 3"
    assert tap.options == ("layer3.0.attention.tap", "layer3.1.attention.tap")
    model.value = "gate"
    assert (stage.value, tap.value) == ("other", "tap")


def test_stage_names():
    assert stage_of("layer4.0.attention.tap") == "stage 4" and stage_of("tap") == "other"


def test_a_tiny_share_is_never_printed_as_zero() -> None:
    """ECA's 36 extra weights are 0.0003% of ResNet-18: "+0.00%" read as no cost at all."""
    from attncv.views.widgets import _share

    assert _share(0.00032) == "+0.00032%"
    assert _share(1.234) == "+1.23%"
    assert _share(0) == "+0%"
