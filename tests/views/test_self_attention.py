"""The self-attention chapter's verdicts (attncv.views.self_attention): the use of the block by
test-time ablation, and the maps against random query/key (one draw, or many at the trained
logit scale), every outcome."""

from __future__ import annotations

import pytest
import torch

from attncv.attention.self_attention import SelfAttention
from attncv.views import evidence_words as ew
from attncv.views import self_attention as sav
from attncv.views.block_use import strongest_block
from attncv.views.verdicts import MIXED, Evidence
from tests.views.test_query_maps import _per_image


def _ablation(block: str, loss: float, acc: float, label: str, n: int = 200):
    """(log-loss, accuracy) evidence of a test-time ablation at ``block`` against ``label``:
    the control's per-image loss raised by ``loss`` and its correctness lowered by ``acc``
    on average (synthetic, as ablation_evidence returns them)."""
    g = torch.Generator().manual_seed(0)
    trained_loss = 1.2 + 0.3 * torch.rand(n, generator=g, dtype=torch.float64)
    control_loss = trained_loss + loss + 0.02 * torch.randn(n, generator=g, dtype=torch.float64)
    correct = (torch.rand(n, generator=g) < 0.5).double()
    flip = (torch.rand(n, generator=g) < abs(acc)).double()
    control_correct = correct * (1 - flip) if acc >= 0 else torch.maximum(correct, flip)
    part = f"{block}, position attention (gamma)"
    return (
        Evidence.paired(
            f"test log-loss, {part}", trained_loss, control_loss, label, expected="below", fmt=".3f"
        ),
        Evidence.paired(f"test accuracy, {part}", correct, control_correct, label, fmt=".1%"),
    )


GAMMAS = {"gamma layer2.0.after": 0.043, "gamma layer3.1.after": -0.097}


@pytest.mark.parametrize(
    ("off", "uniform", "holds", "words"),
    [
        ((0.3, 0.2), (0.2, 0.15), True, "relies on what the block adds; and on where"),
        ((0.3, 0.2), (0.0, 0.0), None, "cannot tell the maps' where"),  # context, not where
        ((0.0, 0.0), (0.0, 0.0), None, "cannot show that the network relies on the block"),
        # the log-loss beyond its band, the accuracy within it: each measure said as it moved
        ((0.3, 0.0), (0.0, 0.0), None, "(holds), accuracy"),
        ((-0.3, -0.2), (0.0, 0.0), False, "does better on these test images without"),
        ((0.3, 0.2), (-0.3, -0.2), MIXED, "does better than the trained maps"),
    ],
)
def test_use_verdict_by_test_time_ablation(off, uniform, holds, words) -> None:
    block = "layer3.1.after"  # the largest |gamma|, whatever its sign
    v = sav.use_verdict(
        _ablation(block, *off, ew.SWITCHED_OFF), _ablation(block, *uniform, ew.UNIFORM_MAP), GAMMAS
    )
    assert v.holds is holds and words in v.finding and "Zhang" in v.paper
    assert "layer3.1.after (gamma -0.097" in v.finding and "gamma -0.097" in v.run
    assert [e.control_label for e in v.evidence] == [ew.SWITCHED_OFF] * 2 + [ew.UNIFORM_MAP] * 2
    assert [e.expected for e in v.evidence] == ["below", "above"] * 2
    assert {e.band_how for e in v.evidence} == {ew.band_how(200, "test images")}
    assert max(len(line) for line in str(v).splitlines()) <= 90


def test_use_verdict_refuses_the_wrong_block_or_control() -> None:
    off = _ablation("layer3.1.after", 0.3, 0.2, ew.SWITCHED_OFF)
    uniform = _ablation("layer3.1.after", 0.3, 0.2, ew.UNIFORM_MAP)
    with pytest.raises(ValueError, match="largest"):  # ran at another block than the largest
        sav.use_verdict(_ablation("layer2.0.after", 0.3, 0.2, ew.SWITCHED_OFF), uniform, GAMMAS)
    with pytest.raises(ValueError, match="control='uniform'"):  # the controls swapped
        sav.use_verdict(off, off, GAMMAS)
    with pytest.raises(ValueError, match="at least one block"):
        sav.use_verdict(off, uniform, {})


def test_use_verdict_on_a_real_ablation() -> None:
    """The builder reads ablation_evidence's own output (statistic names, labels, order)."""
    from attncv.data import synthetic
    from attncv.model import resnet18
    from attncv.views.ablation import ablation_evidence

    data = synthetic(num_classes=3, train_per_class=2, test_per_class=6)
    torch.manual_seed(0)
    model = resnet18(3, attention="self_attention", width=16).eval()
    with torch.no_grad():
        for i, m in enumerate(model.modules()):
            if isinstance(m, SelfAttention):
                m.gamma.fill_(0.1 * i)
    scales = sav.gammas(model)
    block = strongest_block(scales)
    x, y = data.split("test")
    kw = {"block": block, "prepare": data.normalize}
    v = sav.use_verdict(
        ablation_evidence(model, x, y, control="off", **kw),
        ablation_evidence(model, x, y, control="uniform", **kw),
        scales,
    )
    assert block == "layer3.1.after" and block in v.finding
    assert len(v.evidence) == 4 and v.evidence[0].band_how == ew.band_how(18, "test images")


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


def test_sagan_maps_verdict_against_matched_draws() -> None:
    trained = _per_image(0.31, 0.99)
    rows = [_per_image(0.31, 0.99, seed=s) for s in range(1, 11)]
    control = {k: torch.stack([r[k] for r in rows]) for k in trained}  # (10, 100)
    v = sav.sagan_maps_verdict(trained, control, where="layer2.1")
    assert v.holds is None and "as query-specific as" in v.finding
    label = ew.drawn(ew.MATCHED_QUERY_KEY, 10)
    assert {e.control_label for e in v.evidence} == {label} and label in v.run
    assert v.evidence[0].band_how == ew.draws_band_how(100, "test images", 10)
    above = sav.sagan_maps_verdict(_per_image(0.40, 1.10), control, where="layer2.1")
    assert above.holds is True and "more query-specific" in above.finding
