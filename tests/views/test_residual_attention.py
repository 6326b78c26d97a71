"""views.residual_attention: the paper's claim that the chapter's mask verdict tests."""

from __future__ import annotations

import torch

from attncv.views import masks
from attncv.views.residual_attention import RESIDUAL_PAPER


def test_the_mask_verdict_states_the_papers_claim() -> None:
    base = 0.3 + 0.1 * torch.rand(80, generator=torch.Generator().manual_seed(0))
    v = masks.mixed_verdict(base + 0.2, base, paper=RESIDUAL_PAPER)
    assert "Wang et al. 2017" in v.paper and v.holds is True
