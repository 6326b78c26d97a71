"""The "where" verdict over training seeds and a control's draws (views/where.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.views.verdicts import MIXED
from attncv.views.where import over_draws, where_verdict

N, D = 200, 10


def _seed(shift: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    control = 1 + 0.1 * torch.randn(D, N, generator=gen, dtype=torch.float64)
    return control[0] + shift, control


def _verdict(*shifts: float):
    pairs = [_seed(s, i) for i, s in enumerate(shifts)]
    return where_verdict(
        [t for t, _ in pairs],
        [c for _, c in pairs],
        statistic="weight on the target over the distractors",
        where="layer2.1",
        paper="the module learns where the object is",
        control_label="the gates re-drawn (10 draws)",
    )


@pytest.mark.parametrize(
    ("shifts", "outcome"),
    [
        ((0.5, 0.5), True),
        ((-0.5, -0.5), False),
        ((0.0, 0.0), None),
        ((0.5, 0.0), None),  # one seed holds, the other cannot tell: not a holding verdict
        ((-0.5, 0.0), None),  # one seed the opposite, the other cannot tell: not a finding
        ((0.5, -0.5), MIXED),  # the seeds disagree
    ],
)
def test_outcome_needs_every_seed(shifts: tuple[float, float], outcome: object) -> None:
    v = _verdict(*shifts)
    assert v.holds is outcome
    assert len(v.evidence) == 2
    assert [e.statistic.endswith(f"seed {i}") for i, e in enumerate(v.evidence)] == [True, True]


def test_words_name_both_seeds_and_the_control() -> None:
    v = _verdict(0.5, 0.5)
    assert "seed 0:" in v.finding and "seed 1:" in v.finding
    assert "the gates re-drawn (10 draws)" in v.finding
    assert v.record()["evidence"][0]["band_how"].endswith("and 10 draws")


def test_seeds_must_pair_with_controls() -> None:
    t, c = _seed(0.5, 0)
    with pytest.raises(ValueError, match="one control per seed"):
        where_verdict([t, t], [c], statistic="s", where="w", paper="p", control_label="c")


def test_over_draws_stacks_a_statistic_over_networks() -> None:
    nets = [nn.Linear(1, 1) for _ in range(3)]
    for i, n in enumerate(nets):
        nn.init.constant_(n.bias, float(i))
    out = over_draws(lambda net: net.bias.detach().expand(4), nets)
    assert out.shape == (3, 4) and out[:, 0].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="at least one network"):
        over_draws(lambda net: net, [])
