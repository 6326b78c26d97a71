"""What residual attention's mask is worth to the network, tested at test time.

The soft mask M of residual attention (Wang et al. 2017, "Residual Attention Network for Image
Classification", CVPR, arXiv:1704.06904) weighs every channel at every position. That it varies
with position is true by construction (the chapter shows it with
:func:`attncv.views.masks.variance_parts`, and does not judge it). What training could change is
whether the network *uses* the positions: :func:`as_channel_gate` replaces every mask, at test
time, by its mean over the positions, per image and channel (a channel gate with the same
channel weights: the paper's mixed mask turned into a channel-only one, the trained network
otherwise untouched), and :func:`mask_use_verdict` compares the trained network with it, paired
over the same test images, in log-loss and accuracy (95% bootstrap bands, as
:func:`attncv.views.ablation.ablation_evidence`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from torch import Tensor, nn

from ..attention.residual_attention import ResidualAttention
from .ablation import per_image
from .evidence_words import CHANNEL_GATE
from .verdicts import MIXED, Evidence, Verdict

RESIDUAL_PAPER = (
    "the mixed soft mask, one weight per channel and position (f1), beats a channel-only mask "
    "(f2) and a spatial-only one (Wang et al. 2017, Sec. 3.3, Table 1: Attention-56 on "
    "CIFAR-10); tested here at test time, not by training f2"
)


def _spatial_mean(_module: nn.Module, _inputs: tuple[Tensor, ...], mask: Tensor) -> Tensor:
    """A forward hook for a mask's tap: the mask (N, C, H, W) replaced by its mean over the
    positions, per image and channel."""
    return mask.mean(dim=(2, 3), keepdim=True).expand_as(mask)  # (N, C, 1, 1) -> (N, C, H, W)


def as_channel_gate(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode whose every residual attention mask is replaced, at
    test time, by its mean over the positions (per image and channel): the trunk, the units and
    the channel weights as trained, the *where* removed. ``model`` is never touched; a clear
    error for a network without residual attention."""
    twin = copy.deepcopy(model).eval()
    modules = [m for m in twin.modules() if isinstance(m, ResidualAttention)]
    if not modules:
        raise ValueError(
            f"as_channel_gate: {type(model).__name__} has no residual attention module; it takes "
            "a network trained with attention='residual_attention'."
        )
    for m in modules:
        m.tap.register_forward_hook(_spatial_mean)
    return twin


def mask_use_evidence(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    prepare: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Evidence, Evidence]:
    """The trained network against :func:`as_channel_gate` on the same test images: the
    per-image log-loss (the paper's direction: the trained network's lower) and accuracy
    (higher), each with a 95% paired bootstrap band over the images. For CIFAR:
    ``images, labels = data.split("test")``, ``prepare=data.normalize``."""
    loss, correct = per_image(model, images, labels, prepare=prepare)
    loss0, correct0 = per_image(as_channel_gate(model), images, labels, prepare=prepare)
    return (
        Evidence.paired("test log-loss", loss, loss0, CHANNEL_GATE, expected="below", fmt=".3f"),
        Evidence.paired(
            "test accuracy", correct, correct0, CHANNEL_GATE, expected="above", fmt=".1%"
        ),
    )


def mask_use_verdict(evidence: tuple[Evidence, Evidence]) -> Verdict:
    """Does the trained network use where its masks point? :func:`mask_use_evidence`'s
    log-loss and accuracy, judged together (both must hold; opposite directions are mixed)."""
    loss, acc = evidence
    pair = (
        f"log-loss {loss.trained:.3f} against {loss.control:.3f}, accuracy "
        f"{acc.trained:.1%} against {acc.control:.1%}"
    )
    return Verdict(
        paper=RESIDUAL_PAPER,
        run=f"every mask replaced at test time by its mean over positions (a channel gate): "
        f"{pair}, paired over the test images",
        evidence=(loss, acc),
        words={
            True: f"The network does worse with its masks flattened into channel gates ({pair}): "
            "it uses where the masks point, not only their channel weights.",
            False: f"The network does better with its masks flattened into channel gates "
            f"({pair}): what the masks add over positions costs this run's network.",
            None: f"Flattening the masks into channel gates changes neither the log-loss nor "
            f"the accuracy beyond the band ({pair}): this run's network does not measurably "
            "use where its masks point.",
            MIXED: f"The log-loss and the accuracy disagree when the masks are flattened into "
            f"channel gates ({pair}): no clear use of where the masks point.",
        },
    )
