"""Helpers shared by the views' tests (not a test module)."""

from __future__ import annotations

import torch

from attncv.views import style


def shifted(base: torch.Tensor, by: float) -> torch.Tensor:
    """``base`` plus ``by`` and a little paired noise of mean zero: a trained value against a
    control whose mean difference is exactly ``by``."""
    noise = torch.randn(base.shape, generator=torch.Generator().manual_seed(1))
    return base + by + 0.01 * (noise - noise.mean())


def widths_ok(fig) -> bool:
    """The figure is drawn no wider than the book's column (style.MAX_WIDTH)."""
    return fig.get_figwidth() <= style.MAX_WIDTH + 1e-9
