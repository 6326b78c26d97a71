"""Did the network use a residual attention block (attncv.views.block_use): the block a test-time
ablation judges, and the words of the four comparisons (the chapters' builders are tested in
test_self_attention.py and test_non_local.py)."""

from __future__ import annotations

import pytest

from attncv.views import block_use
from attncv.views import evidence_words as ew
from attncv.views.verdicts import MIXED
from tests.views.test_self_attention import _ablation


def test_strongest_block_is_the_largest_scale_in_size() -> None:
    scales = {"gamma layer2.0.after": 0.04, "gamma layer3.1.after": -0.097, "gamma x": 0.05}
    assert block_use.strongest_block(scales) == "layer3.1.after"  # a negative gamma: its size
    assert block_use.strongest_block({"W_z scale layer2.1.after": 0.08}) == "layer2.1.after"
    with pytest.raises(ValueError, match="at least one block"):
        block_use.strongest_block({})


@pytest.mark.parametrize(
    ("off", "uniform", "holds"),
    [
        ((0.3, 0.2), (0.2, 0.15), True),
        ((0.3, 0.2), (0.0, 0.0), None),  # used, but the where cannot be told from the context
        ((-0.3, -0.2), (-0.3, -0.2), False),
        ((0.3, 0.2), (-0.3, -0.2), MIXED),
    ],
)
def test_use_verdict_outcome_is_every_comparison_together(off, uniform, holds) -> None:
    b = "layer2.1.after"
    v = block_use._use_verdict(
        _ablation(b, *off, ew.SWITCHED_OFF),
        _ablation(b, *uniform, ew.UNIFORM_MAP),
        block=b,
        scale="gamma",
        value=0.05,
        paper="paper",
    )
    assert v.holds is holds
    assert v.finding.startswith(f"At {b} (gamma +0.050, the largest of the blocks)")
    assert v.words[True] == v.words[MIXED] == v.finding  # one sentence, worded from the evidence
    assert "switched off" in v.run and "uniform map" in v.run


def test_use_verdict_refuses_a_pair_that_is_not_an_ablation() -> None:
    b = "layer2.1.after"
    off = _ablation(b, 0.3, 0.2, ew.SWITCHED_OFF)
    with pytest.raises(ValueError, match="log-loss, accuracy"):
        block_use._use_verdict(off[:1], off, block=b, scale="gamma", value=0.1, paper="p")
