""" "Where" and "similar content" on canvases, judged against a control made of random draws, on
two training seeds.

One verdict shape for every chapter that asks where a module looks: the trained network's
per-canvas statistic (:func:`~.objects.target_over_distractors_per_image` on cluttered canvases,
:func:`~.objects.twin_over_distractor_per_image` on twin canvases) against the same statistic
through D random draws of the chapter's control (:func:`attncv.train.controls.redrawn_gates` for
gates and masks, :func:`~attncv.train.controls.matched_query_key` for query/key maps), with a
band over canvases and draws together (:meth:`~.evidence.Evidence.over_draws`). The canvas run
is trained on two seeds, each judged on its own, and the seeds are repeats
(:func:`~.evidence.agree`): the verdict holds, or shows the opposite, only when both seeds do,
and is mixed when they point in opposite directions, so the design's own repeat is in the
evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from .evidence import Evidence, Verdict


def over_draws(statistic: Callable[[nn.Module], Tensor], networks: Sequence[nn.Module]) -> Tensor:
    """(D, N): ``statistic`` (a network -> per-canvas values (N,)) through each of D networks
    (the draws of a control)."""
    if not networks:
        raise ValueError("over_draws needs at least one network (a control's draws).")
    return torch.stack([torch.as_tensor(statistic(net), dtype=torch.float64) for net in networks])


def where_verdict(
    trained: Sequence[Tensor],
    controls: Sequence[Tensor],
    *,
    statistic: str,
    where: str,
    paper: str,
    control_label: str,
    subject: str = "the trained block",
    units: str = "test canvases",
    fmt: str = ".2f",
) -> Verdict:
    """The trained networks of several seeds, each against its control's draws.

    Args:
        trained: per seed, the statistic per canvas (N,) of the trained network.
        controls: per seed, the statistic per canvas and draw (D, N) of the control built on
            that seed's network (:func:`over_draws`).
        statistic: what is measured, with its null: ``"weight on the target over the
            distractors (1: none preferred)"``.
        where: the block, ``"layer2.1"``.
        paper: the paper's observation this tests.
        control_label: the control, with its number of draws
            (:func:`~.evidence_words.drawn`).
        subject: what is judged, as it reads mid-sentence.
    """
    if len(trained) != len(controls) or not trained:
        raise ValueError(
            f"where_verdict needs one control per seed: {len(trained)} trained, "
            f"{len(controls)} controls."
        )
    evidence = tuple(
        Evidence.over_draws(
            f"{statistic}, {where}, seed {seed}",
            t,
            c,
            control_label,
            units=units,
            fmt=fmt,
        )
        for seed, (t, c) in enumerate(zip(trained, controls, strict=True))
    )
    seeds = len(evidence)
    pairs = "; ".join(
        f"seed {i}: {e.trained:{fmt}} against {e.control:{fmt}}" for i, e in enumerate(evidence)
    )
    every = "both seeds" if seeds == 2 else f"all {seeds} seeds"
    return Verdict(
        paper=paper,
        run=f"at {where}, {statistic}: {pairs} for {control_label}.",
        evidence=evidence,
        repeats=True,  # the seeds are repeats: an outcome only where they agree
        words={
            True: f"On {every}, {subject} scores above {control_label} beyond the band ({pairs}): "
            "training, not the block's form, put the preference there.",
            False: f"On {every}, {subject} scores below {control_label} beyond the band "
            f"({pairs}): training moved the preference the other way.",
            None: f"{subject[:1].upper()}{subject[1:]} does not score beyond the band of "
            f"{control_label} on {every} alike ({pairs}): this run cannot tell a learned "
            "preference from what the block gives without training.",
        },
    )
