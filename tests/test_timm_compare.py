"""Our modules against timm's twins: the swap keeps the network and its placement, and the
comparison runs (timm is a benchmark dependency: skipped where it is not installed)."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

from attncv import resnet18
from attncv.timm_compare import (
    TIMM_TWINS,
    compare,
    first_module,
    format_rows,
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


def test_compare_reports_a_ratio_per_twin(capsys) -> None:
    names = MATCHED[:2]  # two twins keep the test short; the swap test covers every one
    rows = compare(names, batch_size=2, steps=1, repeats=1, width=16, device="cpu", num_classes=10)
    assert [r["name"] for r in rows] == names
    for r in rows:
        assert r["ratio"] == pytest.approx(r["train_ours"] / r["train_timm"]) and r["ratio"] > 0
        assert r["ceiling"] == pytest.approx(r["train_base"] / r["train_timm"])
        assert r["block_ratio"] == pytest.approx(r["block_ms_timm"] / r["block_ms_ours"])
        assert len(r["block_shape"]) == 3 and r["block_ms_ours"] > 0
    assert format_rows(rows).count("\n") == len(rows) + 2
    assert "ours vs timm" in capsys.readouterr().out
