"""The book's explorers: the maps and gates they pack are the network's own, unpacked as packed;
the page stays small; the static figure and its alt text are there for readers without
JavaScript; every chapter's attention gives the views its explorer offers."""

from __future__ import annotations

import base64
import json
import re
import zlib

import matplotlib
import numpy as np
import pytest
import torch

from attncv import get_profile, resnet18, train_model
from attncv.data import synthetic
from attncv.views import explore
from attncv.views.explore import gate_explorer, query_explorer
from attncv.views.explore_data import (
    _dense_cross,
    class_means,
    explorer_images,
    gate_views,
    query_views,
)

matplotlib.use("Agg")
CONTROL = "a stand-in control"


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=4, train_per_class=16, test_per_class=10)


def _net(attention: str, seed: int = 0):
    torch.manual_seed(seed)
    return resnet18(4, attention=attention, width=16).eval()


def _unpacked(ex) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(ex.spec["data"])), dtype=np.uint8)


def test_explorer_images_span_the_classes_first(data):
    images, labels = explorer_images(data, 6)
    assert images.dtype == torch.uint8 and images.shape == (6, 3, 32, 32)
    assert labels[:4] == list(data.classes[:4])  # one of each class before any second one
    with pytest.raises(ValueError, match="count must be between 1"):
        explorer_images(data, 0)


def test_criss_cross_weights_land_on_the_row_and_column():
    h = w = 4
    weights = torch.rand(1, h, w, h + w).softmax(-1)
    dense = _dense_cross(weights).view(1, h, w, h, w)
    at = dense[0, 1, 2]  # the pixel (1, 2)
    assert torch.allclose(
        at[:, 2], weights[0, 1, 2, :h] + (torch.arange(h) == 1) * weights[0, 1, 2, h + 2]
    )  # its column, itself counted from the row part
    assert torch.allclose(
        at[1, :], weights[0, 1, 2, h:] + (torch.arange(w) == 2) * weights[0, 1, 2, 1]
    )
    off = torch.ones(h, w, dtype=torch.bool)
    off[1, :], off[:, 2] = False, False
    assert at[off].abs().sum() == 0 and torch.isclose(at.sum(), torch.tensor(1.0))


def test_ccnet_offers_one_pass_and_two_and_two_reach_off_the_cross(data):
    images, _ = explorer_images(data, 3)
    views = {v.name: v for v in query_views([_net("ccnet")], data, images)}
    assert {"layer2.0 pass 1", "layer2.0 two passes", "layer4.1 two passes"} <= set(views)
    one, two = views["layer2.0 pass 1"].arrays[0], views["layer2.0 two passes"].arrays[0]
    assert one.shape == two.shape == (3, 256, 256)
    assert torch.allclose(two.sum(-1), torch.ones(3, 256), atol=1e-5)  # still distributions
    cross = _dense_cross(torch.ones(1, 16, 16, 32))[0] > 0  # (L, L): on the query's cross
    assert one[:, ~cross].abs().max() == 0 and two[:, ~cross].min() > 0


def test_query_maps_are_packed_as_computed(data):
    images, labels = explorer_images(data, 4)
    model, control = _net("self_attention"), _net("self_attention", seed=1)
    ex = query_explorer(model, control, data, control_label=CONTROL, images=images, labels=labels)
    spec, raw = ex.spec, _unpacked(ex)
    v = spec["views"][1]
    assert v["name"] == "layer2.1" and v["grid"] == [16, 16] and v["queries"] == [8, 8]
    truth = query_views([model, control], data, images, blocks=["layer2.1"])[0]
    k, i, (qr, qc) = 1, 2, (3, 5)  # the control, the third image, one query
    r, c = v["start"] + qr * v["stride"], v["start"] + qc * v["stride"]
    row = truth.arrays[k][i, r * 16 + c]  # (256,)
    q = qr * 8 + qc
    start = v["offset"] + (k * 4 + i) * v["size"] + q * 256
    assert np.array_equal(raw[start : start + 256], explore._quantise(row / row.max()))
    top = spec["maxima"][v["maxOffset"] + (k * 4 + i) * 64 + q]
    assert top == pytest.approx(row.max().item(), rel=1e-2)
    assert spec["networks"] == ["trained", f"control: {CONTROL}"]


def test_a_page_over_budget_gets_coarser_queries(data):
    images, labels = explorer_images(data, 4)
    model = _net("self_attention")
    kw = dict(control_label=CONTROL, images=images, labels=labels, blocks=["layer2.0"])
    fine = query_explorer(model, model, data, **kw)
    size = len(fine.spec["data"])
    spec = explore._spec(
        "query",
        query_views([model, model], data, images, blocks=["layer2.0"]),
        images,
        labels,
        ["trained", "control"],
        note="",
        scale="",
        max_bytes=size // 2,
    )
    assert spec["views"][0]["queries"][0] < 8 and len(spec["data"]) <= size // 2
    with pytest.raises(ValueError, match="fewer blocks"):
        explore._spec("gate", [], images, labels, ["a", "b"], note="", scale="", max_bytes=0)


@pytest.mark.parametrize(
    ("attention", "views"),
    [
        ("se", {"layer1.0": "bars", "layer4.1": "bars"}),
        ("cbam", {"layer1.0.channel_tap": "bars", "layer1.0.spatial_tap": "map"}),
        ("coordinate_attention", {"layer1.0 gate (channel mean)": "map"}),
        ("residual_attention", {"layer1.0 (channel mean)": "map"}),
    ],
)
def test_every_gate_chapter_has_its_views(data, attention, views):
    images, _ = explorer_images(data, 2)
    found = {v.name: v for v in gate_views([_net(attention)], data, images)}
    assert {n: found[n].type for n in views} == views
    for v in found.values():
        a = v.arrays[0]
        assert a.shape[0] == 2 and 0 <= a.min() and a.max() <= 1  # gates, in (0, 1)
        assert a.shape[1:] == ((v.grid[1],) if v.type == "bars" else tuple(v.grid))


def test_per_class_gates_are_the_class_means(data):
    model, control = _net("se"), _net("se", seed=1)
    ex = gate_explorer(model, control, data, control_label=CONTROL, per_class=True)
    v = ex.spec["views"][2]
    assert ex.spec["classes"] == list(data.classes) and "classOffset" in v
    images, labels = data.split("test")
    gates = gate_views([control], data, images[labels == 3], blocks=[v["name"]])[0].arrays[0]
    at = v["classOffset"] + (1 * 4 + 3) * v["size"]  # the control, class 3
    got = _unpacked(ex)[at : at + v["size"]]
    assert np.array_equal(got, explore._quantise(gates.mean(0)))
    assert torch.allclose(class_means(control, data, [v["name"]])[v["name"]][3], gates.mean(0))
    with pytest.raises(ValueError, match="needs a channel gate"):
        residual = _net("residual_attention")
        gate_explorer(residual, residual, data, control_label="x", per_class=True)
    with pytest.raises(ValueError, match="not the trained network's"):
        gate_explorer(_net("residual_attention"), control, data, control_label="x")


def test_the_output_works_without_javascript_and_loads_no_plotly_itself(data):
    model = _net("cbam")
    ex = gate_explorer(model, model, data, control_label=CONTROL, title="CBAM")
    bundle = ex._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    page = bundle["text/html"]
    assert "data-attncv-explorer" in page and "<script src" not in page  # the book adds plotly
    static = r'<img src="data:image/png;base64,[^"]+" alt="CBAM: the first test image'
    assert re.search(static, page)
    spec = json.loads(re.search(r'type="application/json"[^>]*>(.*?)</script>', page).group(1))
    assert spec["cdn"].startswith("https://cdn.plot.ly/plotly-")  # Jupyter and Colab, online
    assert sum(ex.sizes().values()) < explore.PAGE_BUDGET
    with pytest.raises(ValueError, match="control_label must say"):
        gate_explorer(model, model, data, control_label="")


def test_offline_jupyter_gets_plotly_only_when_asked(data):
    model = _net("se")
    html = gate_explorer(model, model, data, control_label=CONTROL)._repr_mimebundle_()["text/html"]
    bundle = explore.plotly_js().read_text(encoding="utf-8")
    assert len(html) < len(bundle) // 4  # never 4.8 MB of script in an executed notebook
    assert explore.plotly_here().data == f"<script>{bundle}</script>"


@pytest.mark.slow
@pytest.mark.parametrize("attention", ["self_attention", "ccnet", "se"])
def test_a_smoke_trained_network_explores(attention, data):
    """A network trained in the smoke profile, against a re-seeded twin as the control."""
    model, _ = train_model(
        attention, data, get_profile("smoke", "cpu"), cache=False, progress=False
    )
    control = _net(attention, seed=3)
    build = gate_explorer if attention == "se" else query_explorer
    ex = build(model, control, data, control_label=CONTROL, title=attention)
    assert ex.spec["views"] and ex.static_png[:4] == b"\x89PNG"
    raw = _unpacked(ex)
    assert raw.size == sum(
        v["size"] * 2 * len(ex.spec["images"]) for v in ex.spec["views"]
    )  # every view, both networks, every image
