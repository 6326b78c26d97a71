"""What the self-attention (SAGAN) chapter shows beyond the shared maps
(:mod:`attncv.views.query_maps`): the learned residual scale gamma (:func:`gammas`, recorded
after every epoch), and the paper's observations against their controls: :func:`use_verdict`
(the network uses the block: test-time ablation), :func:`sagan_maps_verdict` (its maps depend
on the query and reach far, against random query/key weights) and :data:`TWIN_PAPER`, the
observation that :func:`attncv.views.where.where_verdict` tests on twin canvases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor, nn

from ..attention.self_attention import SelfAttention
from .block_use import _use_verdict, strongest_block
from .query_maps import _maps_verdict
from .verdicts import Evidence, Verdict

# Zhang et al. 2019, Sec. 5, Fig. 5: what "similar content" means for the twin canvases
TWIN_PAPER = (
    "attention follows similar colour and texture rather than spatial adjacency (Zhang et al. "
    "2019, Sec. 5, Fig. 5): the positions of an object attend to a copy of it more than to "
    "another object as far away"
)


def gammas(model: nn.Module) -> dict[str, float]:
    """The learned residual scale gamma of every :class:`SelfAttention` in ``model``, by module
    name. Pass as ``on_epoch=gammas`` to :func:`attncv.fit` to record them after every epoch."""
    return {
        f"gamma {n}": m.gamma.item()
        for n, m in model.named_modules()
        if isinstance(m, SelfAttention)
    }


def use_verdict(
    off: Sequence[Evidence], uniform: Sequence[Evidence], gammas: Mapping[str, float]
) -> Verdict:
    """SAGAN's gamma starts at 0 and the network learns to give weight to the non-local evidence:
    judged by test-time ablation at the block with the largest |gamma|
    (:func:`~attncv.views.block_use.strongest_block` of ``gammas``). ``off`` and ``uniform``
    are the (log-loss, accuracy) evidence of :func:`attncv.views.ablation.ablation_evidence` at
    that block with ``control="off"`` (gamma = 0) and ``control="uniform"`` (a uniform map at
    the trained gamma), paired 95% bootstrap bands over the test images. Holds when both
    controls do worse than the trained network on both measures."""
    block = strongest_block(gammas)
    value = next(v for k, v in gammas.items() if k.split(" ")[-1] == block)
    return _use_verdict(
        off,
        uniform,
        block=block,
        scale="gamma",
        value=value,
        paper="gamma starts at 0 so the network can first rely on local cues and then learn to "
        "give weight to the non-local evidence (Zhang et al. 2019, Sec. 3)",
    )


def sagan_maps_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    *,
    where: str,
    control_label: str | None = None,
) -> Verdict:
    """SAGAN's attention maps (Fig. 5) against a trained block: per-image
    :func:`~attncv.views.query_maps.map_stats_per_image` of the trained block (``trained``)
    and of the same network with random query and key weights (``control``): (D, N) values of
    D draws at the trained logit scale
    (:func:`~attncv.views.query_maps.map_stats_over_draws` of
    :func:`~attncv.train.controls.matched_query_key`, a band over the images and the draws), or
    (N,) values of one draw (paired band). Random projections of trained features are already
    query-dependent, so query dependence alone is not learning: it holds only above them."""
    return _maps_verdict(
        trained,
        control,
        where,
        "attention follows similar colour and texture rather than spatial adjacency, and "
        "even nearby queries can have very different maps (Zhang et al. 2019, Sec. 5, Fig. 5)",
        control_label,
    )
