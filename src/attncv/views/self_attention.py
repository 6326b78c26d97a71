"""What the self-attention (SAGAN) chapter shows beyond the shared maps
(:mod:`attncv.views.query_maps`): the learned residual scale gamma (:func:`gammas`, recorded
after every epoch), and the paper's observations against their controls: :func:`gamma_verdict`
(the network learns to use the attention) and :func:`sagan_maps_verdict` (its maps follow
colour and texture, not adjacency).
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from ..attention.self_attention import SelfAttention
from .query_maps import _maps_verdict, _use_verdict
from .verdicts import Verdict


def gammas(model: nn.Module) -> dict[str, float]:
    """The learned residual scale gamma of every :class:`SelfAttention` in ``model``, by module
    name. Pass as ``on_epoch=gammas`` to :func:`attncv.fit` to record them after every epoch."""
    return {
        f"gamma {n}": m.gamma.item()
        for n, m in model.named_modules()
        if isinstance(m, SelfAttention)
    }


def gamma_verdict(gammas: Mapping[str, float], shares: Mapping[str, Tensor]) -> Verdict:
    """SAGAN's gamma, which starts at 0, against the claim that the network learns to use the
    attention. The statistic is each block's per-image
    :func:`~attncv.views.query_maps.residual_share_per_image` (gamma
    alone is not comparable: the value convolution's scale trades against it), the control the
    block at its start (a share of 0), the band a 95% bootstrap over the images."""
    return _use_verdict(
        shares,
        gammas,
        scale="gamma",
        paper="gamma starts at 0 so the network can first rely on local cues and then learn to "
        "give weight to the non-local evidence (Zhang et al. 2019, Sec. 3)",
    )


def sagan_maps_verdict(
    trained: Mapping[str, Tensor], control: Mapping[str, Tensor], *, where: str
) -> Verdict:
    """SAGAN's attention maps (Fig. 5) against a trained block: per-image
    :func:`~attncv.views.query_maps.map_stats_per_image` of the trained block (``trained``)
    and of the same network with random query and key weights (``control``, from
    :func:`~attncv.train.controls.random_projections`), paired bootstrap bands
    (:func:`~attncv.views.query_maps.maps_evidence`). Random projections of trained features
    are already query-dependent, so query dependence alone is not learning: it holds only above
    them."""
    return _maps_verdict(
        trained,
        control,
        where,
        "attention follows similar colour and texture rather than spatial adjacency, and "
        "even nearby queries can have very different maps (Zhang et al. 2019, Sec. 5, Fig. 5)",
    )
