"""Did the network use a residual attention block? A test-time ablation, never a share
compared with 0.

The residual-scaled blocks (self-attention's and CCNet's gamma, the non-local block's BN after
W_z) start as the identity, so what a block adds (its share of the input,
:func:`~.query_maps.residual_share_per_image`) cannot fall below the 0 it started at: a control
that cannot fail. The test instead takes the trained network at the block whose learned scale is
largest in size (:func:`strongest_block`) and compares it on the same test images with two
controls of :func:`~.ablation.ablation_evidence`: the block switched off (the identity, as
before training) and a uniform map (the trained scale kept, every query weighing its keys
evenly: the *where* removed, the context kept), on the test log-loss and accuracy with paired
95% bootstrap bands. ``_use_verdict`` words the four comparisons for the chapters' builders
(:func:`attncv.views.self_attention.use_verdict`, :func:`attncv.views.non_local.use_verdict`);
:func:`loss_use_verdict` judges the log-loss alone, for a part with one or more ablations
(DANet's position and channel attention, CCNet's cross).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .evidence_words import SWITCHED_OFF, UNIFORM_MAP
from .verdicts import MIXED, SHORT, Evidence, Verdict, both


def strongest_block(scales: Mapping[str, float]) -> str:
    """The module name of the block whose learned scale is largest in size, from ``scales`` as
    :func:`~attncv.views.self_attention.gammas` or :func:`~attncv.train.modes.wz_scales` give
    them (``{"gamma layer2.1.after": -0.097}`` -> ``"layer2.1.after"``): the block a test-time
    ablation (:func:`attncv.views.ablation.ablation_evidence`) switches off."""
    if not scales:
        raise ValueError(
            "strongest_block needs the learned scales of at least one block (gammas(model) or "
            "wz_scales(model)); got none: does the network have a residual attention block?"
        )
    key = max(scales, key=lambda k: abs(scales[k]))
    return key.split(" ")[-1]


_OFF_WORDS = {
    True: "the trained network relies on what the block adds",
    None: "not both measures move beyond their bands, so this test cannot show that the network "
    "relies on the block",
    False: "the network does better on these test images without the block",
    MIXED: "the test loss and the accuracy disagree on whether the network relies on the block",
}
_UNIFORM_WORDS = {
    True: "and on where its maps look: an even average of the same values does worse",
    None: "with a uniform map, not both measures move beyond their bands, so this test cannot "
    "tell the maps' where from the context they carry",
    False: "an even average of the same values does better than the trained maps",
    MIXED: "the test loss and the accuracy disagree on whether the maps' where matters",
}


def _moved(loss: Evidence, accuracy: Evidence, control: str) -> str:
    """What one control did to both measures, each with its own outcome."""
    return (
        f"{control}: log-loss {loss.control:.3f} ({SHORT[loss.holds]}), accuracy "
        f"{accuracy.control:.1%} ({SHORT[accuracy.holds]})"
    )


def _use_verdict(
    off: Sequence[Evidence],
    uniform: Sequence[Evidence],
    *,
    block: str,
    scale: str,
    value: float,
    paper: str,
) -> Verdict:
    """Did the network use the block at ``block`` (its learned ``scale`` is ``value``)? Test-time
    ablation, two controls on the same test images (:func:`attncv.views.ablation.ablation_evidence`:
    ``off``, the block switched off; ``uniform``, its map replaced by a uniform one, the *where*
    removed and the context kept), each a (log-loss, accuracy) pair with a paired 95% bootstrap
    band over the images. Holds when every comparison favours the trained network beyond its
    band; the words say what each control showed."""
    for name, pair, label in (("off", off, SWITCHED_OFF), ("uniform", uniform, UNIFORM_MAP)):
        if len(pair) != 2 or any(e.control_label != label for e in pair):
            raise ValueError(
                f"use verdict: {name!r} must be the (log-loss, accuracy) pair of "
                f"ablation_evidence(..., control={name!r}) against {label!r}; got "
                f"{[e.control_label for e in pair]}."
            )
        if any(block not in e.statistic for e in pair):
            raise ValueError(
                f"use verdict: the ablation ran at {pair[0].statistic.split(', ', 1)[-1]!r}, "
                f"but the block to judge is {block!r} (the largest |{scale}|): pass "
                "block=strongest_block(...) to ablation_evidence."
            )
    (loss_off, acc_off), (loss_uni, acc_uni) = off, uniform
    o_off, o_uni = both(loss_off.holds, acc_off.holds), both(loss_uni.holds, acc_uni.holds)
    first = _OFF_WORDS[o_off][:1].upper() + _OFF_WORDS[o_off][1:]
    words = (
        f"At {block} ({scale} {value:+.3f}, the largest of the blocks), trained: log-loss "
        f"{loss_off.trained:.3f}, accuracy {acc_off.trained:.1%}; "
        f"{_moved(loss_off, acc_off, 'switched off')}; "
        f"{_moved(loss_uni, acc_uni, 'a uniform map')}. {first}; {_UNIFORM_WORDS[o_uni]}."
    )
    return Verdict(
        paper=paper,
        run=f"at {block} ({scale} {value:+.3f}): test log-loss {loss_off.trained:.3f} trained, "
        f"{loss_off.control:.3f} with {SWITCHED_OFF}, {loss_uni.control:.3f} with "
        f"{UNIFORM_MAP}; accuracy {acc_off.trained:.1%}, {acc_off.control:.1%} and "
        f"{acc_uni.control:.1%}.",
        evidence=(loss_off, acc_off, loss_uni, acc_uni),
        words=dict.fromkeys((True, False, None, MIXED), words),
    )


def loss_use_verdict(evidence: Sequence[Evidence], *, part: str, paper: str) -> Verdict:
    """Does the trained network rely on ``part`` (``"position attention at layer3.1"``)? Its
    test log-loss against test-time ablations of it, each an :class:`~.verdicts.Evidence` from
    :func:`~.ablation.ablation_evidence` (the part switched off, its map made uniform; a 95%
    paired bootstrap over the test images, the trained network's loss expected below)."""
    if not evidence:
        raise ValueError(f"use_verdict: no ablation of {part} to judge.")
    pairs = "; ".join(
        f"{e.trained:{e.fmt}} trained against {e.control:{e.fmt}} with {e.control_label}"
        for e in evidence
    )
    return Verdict(
        paper=paper,
        run=f"test log-loss of the trained network against the same network with {part} "
        "ablated at test time, paired over the test images",
        evidence=tuple(evidence),
        words={
            True: f"Ablating {part} at test time raises the test log-loss beyond the band "
            f"({pairs}): the trained network relies on it.",
            False: f"Ablating {part} at test time lowers the test log-loss beyond the band "
            f"({pairs}): the trained network does better without it.",
            None: f"Ablating {part} at test time leaves the test log-loss within the band "
            f"({pairs}): this run cannot tell whether the network relies on it.",
            MIXED: f"The ablations of {part} disagree ({pairs}): the network relies on what one "
            "removes and does better without what the other removes.",
        },
    )
