"""The self-attention chapter's verdicts (attncv.views.self_attention): the use of gamma and
the maps against random projections, all three outcomes."""

from __future__ import annotations

import pytest
import torch

from attncv.views import evidence_words as ew
from attncv.views import self_attention as sav
from attncv.views.verdicts import MIXED
from tests.views.test_query_maps import _per_image, _shares


@pytest.mark.parametrize(
    ("means", "holds", "words"),
    [
        ((0.065, 0.009), True, "used all 2 blocks"),  # both beyond their bands
        ((0.065, 0.0), None, "stayed at the identity"),  # one block never moved
    ],
)
def test_gamma_verdict(means, holds, words) -> None:
    shares = _shares(*means)
    v = sav.gamma_verdict({"gamma layer2.0": 0.1, "gamma layer2.1": 0.2}, shares)
    assert v.holds is holds and words in v.finding and "Zhang" in v.paper
    assert "gamma = 0.100, 0.200" in v.run
    assert "layer2.0 adds most (6.5%" in v.finding  # the words follow the per-block numbers
    assert len(v.evidence) == 2 and v.evidence[0].control == 0.0
    assert {e.control_label for e in v.evidence} == {ew.AT_START}
    n = len(shares["layer2.0"])  # a share against exactly 0: the band of the mean alone
    assert {e.band_how for e in v.evidence} == {ew.band_how(n, "test images", paired=False)}
    assert max(len(line) for line in str(v).splitlines()) <= 90


def test_use_verdict_opposite_and_empty() -> None:
    v = sav.gamma_verdict({"g": 0.1}, {"layer2.0": torch.full((10,), -0.5)})  # impossible share
    assert v.holds is False and "below" in v.finding
    with pytest.raises(ValueError, match="no attention block"):
        sav.gamma_verdict({}, {})


@pytest.mark.parametrize(
    ("tv", "far", "holds", "words"),
    [
        (0.40, 1.10, True, "more query-specific"),  # beyond the random control on both
        (0.31, 0.99, None, "as query-specific"),  # the committed run's far mass: as random
        # the committed run: TV below its control, far mass above it: the evidence disagrees
        (0.23, 1.00, MIXED, "less query-specific"),
    ],
)
def test_sagan_maps_verdict_against_random_projections(tv, far, holds, words) -> None:
    control = _per_image(0.31, 0.99, seed=1)
    v = sav.sagan_maps_verdict(_per_image(tv, far), control, where="layer2.1")
    assert v.holds is holds and words in v.finding and "Fig. 5" in v.paper
    assert v.evidence[0].control == pytest.approx(control["query_tv"].mean().item())
    assert v.evidence[0].band_how == ew.band_how(len(control["query_tv"]), "test images")
    assert v.evidence[0].control_label == ew.RANDOM_QUERY_KEY
