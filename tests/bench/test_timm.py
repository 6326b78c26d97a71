"""Our modules against timm's twins: the swap keeps the network and its placement, and the
comparison runs (timm is a benchmark dependency: skipped where it is not installed)."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

from attncv import resnet18
from attncv.bench.timm import (
    TIMM_TWINS,
    compare,
    first_module,
    timm_module,
    twins,
    with_timm,
)

timm = pytest.importorskip("timm")
MATCHED = twins()


def _attention(model: nn.Module) -> list[nn.Module]:
    return [
        m
        for b in model.modules()
        for m in (getattr(b, "attention", None), getattr(b, "after", None))
        if isinstance(m, nn.Module) and not isinstance(m, nn.Identity)
    ]


def test_every_twin_names_a_timm_layer() -> None:
    for name, (path, _) in TIMM_TWINS.items():
        file, cls = path.rsplit(".", 1)
        assert hasattr(importlib.import_module(f"timm.layers.{file}"), cls), f"{name}: no {path}"


@pytest.mark.parametrize("name", MATCHED)
def test_swap_replaces_every_module_in_place(name: str) -> None:
    ours = resnet18(10, attention=name, width=16)
    theirs = with_timm(resnet18(10, attention=name, width=16), name)
    mine, swapped = _attention(ours), _attention(theirs)
    assert len(mine) == len(swapped) > 0
    assert all(type(m).__module__.startswith("timm.") for m in swapped)
    x = torch.randn(2, 3, 32, 32)
    assert theirs(x).shape == ours(x).shape == (2, 10)


@pytest.mark.parametrize("name", MATCHED)
def test_twin_keeps_the_shape(name: str) -> None:
    x = torch.randn(2, 64, 8, 8)
    assert timm_module(name, 64)(x).shape == x.shape


@pytest.mark.parametrize("name", MATCHED)
def test_twin_is_configured_like_ours(name: str) -> None:
    from attncv.attention import build

    for c in (64, 256):  # same hidden widths, groups and biases: the same parameter count
        ours = sum(p.numel() for p in build(name, c).parameters())
        assert ours == sum(p.numel() for p in timm_module(name, c).parameters())
    if name == "se":
        assert ours == 2 * c * c // 16 + c // 16 + c


def test_first_module_finds_where_the_registry_puts_it() -> None:
    """Non-local goes after the blocks of stage 2 (16x16 maps, twice the width in channels)."""
    module, shape = first_module(resnet18(10, attention="non_local", width=16))
    assert type(module).__name__ == "NonLocal" and shape == (1, 32, 16, 16)
    module, shape = first_module(resnet18(10, attention="se", width=16))
    assert type(module).__name__ == "SE" and shape == (1, 16, 32, 32)
    with pytest.raises(ValueError, match="no attention"):
        first_module(resnet18(10, width=16))


def test_compare_pairs_the_right_runs_and_keeps_the_best(monkeypatch) -> None:
    """With the timings faked (ours 300 then 330 images/s, timm 200 then 220, the baseline 400
    then 440; blocks 2 ms ours, 3 ms timm), the rows must say: ours/timm = 330/220 = 1.5 from
    the best of the repeats, ceiling 440/220 = 2.0, block ratio 3/2 = 1.5."""
    from attncv.bench import timm as bench_timm
    from attncv.train.speed import Throughput

    speeds = {"SE": [300.0, 330.0], "SEModule": [200.0, 220.0], "Identity": [400.0, 440.0]}

    def fake_throughput(model, **_kwargs):
        kind = type(model.layer1[0].attention).__name__
        return Throughput(speeds[kind].pop(0), 1.0, float("nan"), "fake", 2, False)

    def fake_block(module, shape, **_kwargs):
        return 0.002 if type(module).__name__ == "SE" else 0.003

    monkeypatch.setattr(bench_timm, "throughput", fake_throughput)
    monkeypatch.setattr(bench_timm, "block_seconds", fake_block)
    (row,) = bench_timm.compare(["se"], repeats=2, width=16, device="cpu", show=False)
    assert row["train_ours"] == 330 and row["train_timm"] == 220 and row["train_base"] == 440
    assert row["ratio"] == pytest.approx(1.5) and row["ceiling"] == pytest.approx(2.0)
    assert row["block_ratio"] == pytest.approx(1.5)
    table = str(bench_timm.timm_table([row]))
    assert "1.50" in table and "2.00" in table and "SEModule" in table


def test_compare_runs_for_real_on_a_cpu() -> None:
    names = MATCHED[:2]  # two twins keep the test short; the swap test covers every one
    rows = compare(
        names, batch_size=2, steps=1, repeats=1, width=16, device="cpu", num_classes=10, show=False
    )
    assert [r["name"] for r in rows] == names
    assert all(r["ratio"] > 0 and r["block_ms_ours"] > 0 for r in rows)
