"""The non-local chapter's verdicts (attncv.views.non_local): the use of the block by test-time
ablation, the maps against random projections (one draw or many matched draws), and the
comparison of pairwise functions against seed noise."""

from __future__ import annotations

import pytest
import torch

from attncv.views import evidence_words as ew
from attncv.views import non_local as nlv
from attncv.views.verdicts import MIXED
from tests.views.test_query_maps import _per_image
from tests.views.test_self_attention import _ablation


@pytest.mark.parametrize(
    ("off", "uniform", "holds"),
    [((0.3, 0.2), (0.2, 0.15), True), ((0.0, 0.0), (0.0, 0.0), None)],
)
def test_use_verdict_at_the_largest_wz_scale(off, uniform, holds) -> None:
    scales = {"W_z scale layer2.0.after": 0.065, "W_z scale layer2.1.after": 0.080}
    block = "layer2.1.after"
    w = nlv.use_verdict(
        _ablation(block, *off, ew.SWITCHED_OFF), _ablation(block, *uniform, ew.UNIFORM_MAP), scales
    )
    assert w.holds is holds and "Wang" in w.paper
    assert "layer2.1.after (mean |BN scale| +0.080" in w.finding
    with pytest.raises(ValueError, match="largest"):
        nlv.use_verdict(
            _ablation("layer2.0.after", *off, ew.SWITCHED_OFF),
            _ablation("layer2.0.after", *uniform, ew.UNIFORM_MAP),
            scales,
        )


@pytest.mark.parametrize(
    ("tv", "far", "holds", "words"),
    [
        (0.40, 1.10, True, "more query-specific"),  # beyond the random control on both
        (0.31, 0.99, None, "as query-specific"),  # the committed run's far mass: as random
        # the committed run: TV below its control, far mass above it: the evidence disagrees
        (0.23, 1.00, MIXED, "less query-specific"),
    ],
)
def test_nonlocal_maps_verdict_against_random_projections(tv, far, holds, words) -> None:
    control = _per_image(0.31, 0.99, seed=1)
    w = nlv.nonlocal_maps_verdict(_per_image(tv, far), control, where="layer2.1")
    assert w.holds is holds and "Fig. 3" in w.paper
    draws = {k: torch.stack([v, v + 0.001]) for k, v in control.items()}  # (2, N): two draws
    d = nlv.nonlocal_maps_verdict(_per_image(tv, far), draws, where="layer2.1")
    assert d.evidence[0].control_label == ew.drawn(ew.MATCHED_QUERY_KEY, 2)
    assert d.holds is holds  # the controls barely differ: the same outcome


def test_mean_range_of_normal_draws() -> None:
    assert nlv.mean_range(2) == pytest.approx(1.128, abs=0.01)
    assert nlv.mean_range(4) == pytest.approx(2.059, abs=0.01)
    assert nlv.mean_range(1) == 0.0


@pytest.mark.parametrize(
    ("accuracies", "holds"),
    [
        ({"embedded_gaussian": 0.48, "gaussian": 0.485, "dot_product": 0.47}, None),
        ({"embedded_gaussian": 0.48, "gaussian": 0.60, "dot_product": 0.47}, False),
    ],
)
def test_modes_verdict_against_seed_noise(accuracies, holds) -> None:
    from attncv.train.noise import Noise

    noise = Noise((0.49, 0.46, 0.52), (0, 1, 2))  # sd 3.0 points
    v = nlv.modes_verdict(accuracies, noise, 1000)
    assert v.holds is holds and "Table 2a" in v.paper and "embedded gaussian 48.0%" in v.run
    assert "baseline's seeds" in v.evidence[0].band_how
    assert v.evidence[0].band == pytest.approx(nlv.mean_range(3) * noise.sd)
    two = nlv.modes_verdict({"a": 0.48, "b": 0.47}, noise, 1000)
    assert two.evidence[0].band == pytest.approx(noise.band())  # as accuracy_evidence
    assert two.evidence[0].band_how == noise.how()  # and in its words
    assert two.evidence[0].control_label == v.evidence[0].control_label == ew.NO_DIFFERENCE
    assert ("cannot tell" if holds is None else "mattered") in v.finding


def test_modes_verdict_uses_the_test_error_where_it_is_larger() -> None:
    from attncv.train.noise import Noise

    v = nlv.modes_verdict({"a": 0.5, "b": 0.5}, Noise((0.5, 0.5001), (0, 1)), 8)
    assert v.holds is None and ew.standard_error_how(8, "test images") in v.evidence[0].band_how
