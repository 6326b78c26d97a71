"""What DANet learned, as figures and verdicts, for the DANet chapter.

:func:`danet_scales`, :func:`scale_curves` and :func:`scales_story` (alpha and beta),
:func:`query_maps`, :func:`danet_inputs`, :func:`position_weights` and :func:`query_dependence`
(do PAM's maps depend on the query more than with random query and key weights at the trained
logit scale? :func:`danet_verdict`, with a band over the test images and the random draws
together),
:func:`largest` and :func:`use_verdict` (does the trained network rely on a module? test-time
ablation, paired over the test images), :func:`channel_affinity` (CAM's weights).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..attention.danet import DANet
from ..attention.positions import flatten
from ..train import FitResult
from . import style
from .block_use import loss_use_verdict
from .evidence_words import MATCHED_QUERY_KEY, drawn
from .grids import pooled
from .plots import MAP_CMAP, caption
from .query_maps import map_stats_per_image
from .verdicts import MIXED, Evidence, Verdict, by_outcome, join_names


def danet_scales(model: nn.Module) -> dict[str, float]:
    """Every DANet's alpha and beta, for ``train_model(on_epoch=...)``:
    ``{"layer3.0.alpha": ..., "layer3.0.beta": ...}``."""
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, DANet):
            block = name.removesuffix(".after")
            out[f"{block}.alpha"] = m.alpha.item()
            out[f"{block}.beta"] = m.beta.item()
    return out


def scales_story(scales: Mapping[str, float], *, small: float = 0.1) -> str:
    """What the trained alpha and beta (``{"layer3.0.alpha": ..., ...}``) say, in a sentence:
    how large alpha grew (under ``small``, PAM adds little, and the gradient that reaches its
    query and key convolutions, which alpha multiplies, is small) and where beta grew most, with
    its sign (a negative beta subtracts CAM's mixture of channels). Only what the scales show:
    whether the query and key weights learned anything is the maps' verdict."""
    alphas = {k.removesuffix(".alpha"): v for k, v in scales.items() if k.endswith(".alpha")}
    betas = {k.removesuffix(".beta"): v for k, v in scales.items() if k.endswith(".beta")}
    a_block, b_block = largest(scales, "alpha"), largest(scales, "beta")
    a, b = alphas[a_block], betas[b_block]
    if abs(a) < small:
        pam = (
            f"alpha stays within ±{abs(a):.2f} in every block (largest at {a_block}), so "
            "position attention adds little to the features, and the gradient that reaches its "
            "query and key convolutions, which alpha multiplies, is small"
        )
    else:
        pam = f"alpha reaches {a:+.2f} at {a_block}, so position attention adds to the features"
    if abs(b) < small:
        cam = f"beta stays within ±{abs(b):.2f} too: channel attention adds little either"
    else:
        sign = "subtracts" if b < 0 else "adds"
        cam = (
            f"beta reaches {b:+.2f} at {b_block}: there the network {sign} {abs(b):.2f} times "
            "the channel-attention mixture"
        )
    return f"{pam[0].upper()}{pam[1:]}; {cam}."


def largest(scales: Mapping[str, float], scale: str) -> str:
    """The block whose ``scale`` (``"alpha"`` or ``"beta"``) is largest in size, from
    :func:`danet_scales`' ``{"layer3.0.alpha": ...}``: where switching that part off can matter
    most, chosen from the scales before any ablation is measured."""
    mine = {
        k.removesuffix(f".{scale}"): abs(v) for k, v in scales.items() if k.endswith(f".{scale}")
    }
    if not mine:
        raise ValueError(f"no {scale!r} among the scales {sorted(scales)}.")
    return max(mine, key=mine.__getitem__)


def scale_curves(result: FitResult, *, note: str = "") -> Figure:
    """Alpha (left) and beta (right) of every block per epoch, from 0 at initialisation."""
    fig, axes = plt.subplots(1, 2, figsize=style.figsize(3.0), constrained_layout=True)
    keys = [k for k in result.history[0] if k.endswith((".alpha", ".beta"))]
    epochs = [0, *result.curve("epoch")]
    for key in keys:
        block, which = key.rsplit(".", 1)
        ax = axes[0] if which == "alpha" else axes[1]
        ax.plot(epochs, [0.0, *result.curve(key)], marker=".", label=block)
    axes[0].set(title="alpha (position)", xlabel="epoch", ylabel="value")
    axes[1].set(title="beta (channel)", xlabel="epoch")
    for ax in axes:
        ax.axhline(0, color="0.5", lw=0.8)
        ax.grid(alpha=0.3)
    axes[1].legend()
    return caption(fig, note) if note else fig


def query_maps(attn: Tensor, queries: Mapping[str, tuple[int, int]], h: int, w: int):
    """Rows of the position attention (N, hw, hw) for query cells (y, x): ``{name: (N, h, w)}``."""
    return {name: attn[:, y * w + x].view(-1, h, w) for name, (y, x) in queries.items()}


@torch.no_grad()
def position_weights(module: DANet, x: Tensor) -> Tensor:
    """PAM's weights (N, HW, HW) for the features ``x`` (N, C, H, W) that ``module`` receives:
    row i is query position i's softmax over every key position."""
    q, k = flatten(module.query(x)), flatten(module.key(x))  # (N, HW, C')
    return (q @ k.transpose(1, 2)).softmax(-1)


@torch.no_grad()
def danet_inputs(model: nn.Module, images: Tensor) -> dict[str, Tensor]:
    """What every DANet block of ``model`` receives for normalised ``images``, from one forward
    pass in eval mode (``model`` keeps its mode): ``{block name without ".after": (N, C, h,
    w)}``, e.g. ``"layer3.1"`` (``"1.layer3.1"`` behind the canvas networks' downscale)."""
    seen: dict[str, Tensor] = {}

    def keep(name: str):  # a pre-hook that keeps the block's input under ``name``
        return lambda _m, args: seen.update({name: args[0]})

    hooks = [
        m.register_forward_pre_hook(keep(name.removesuffix(".after")))
        for name, m in model.named_modules()
        if isinstance(m, DANet)
    ]
    if not hooks:
        raise ValueError(f"{type(model).__name__} has no DANet block.")
    was_training = model.training
    try:
        model.eval()
        model(images)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return seen


def query_dependence(attn: Tensor) -> Tensor:
    """How much the position attention depends on the query, per image: the total-variation
    distance ``0.5 * sum_k |S_ik - S_jk|`` between the maps of two different query positions
    i, j, averaged over all pairs (``attn``: (N, hw, hw) on a square map, rows sum to 1): (N,).
    0: every query gathers the same context; 1: their maps share no weight. The spatial
    chapters' statistic (:func:`~.query_maps.map_stats_per_image`, ``query_tv``), the same rule."""
    side = math.isqrt(attn.shape[1])
    if side * side != attn.shape[1]:
        raise ValueError(f"query_dependence needs a square map, got {attn.shape[1]} positions.")
    return map_stats_per_image(attn, (side, side))["query_tv"]


def danet_verdict(
    trained: Mapping[str, Tensor],
    controls: Mapping[str, Tensor],
    *,
    control_label: str | None = None,
) -> Verdict:
    """Do PAM's maps depend on the query position more than with random query and key weights
    at the trained logit scale, on the same features?

    ``trained``: per-image :func:`query_dependence` ``{block: (N,)}``; ``controls``: the same on
    the same test images through each of D random draws
    (:func:`attncv.train.controls.matched_query_key` of the block), ``{block: (D, N)}``
    (:func:`~.where.over_draws`). One :class:`~.verdicts.Evidence` per block, with a 95% band
    over the images and the draws together (:meth:`~.verdicts.Evidence.over_draws`).
    ``control_label`` defaults to :data:`~.evidence_words.MATCHED_QUERY_KEY` with D draws."""
    names = list(trained)
    if set(controls) != set(names):
        raise ValueError(
            f"danet_verdict needs the control's draws for every block: trained {names}, "
            f"controls {sorted(controls)}."
        )
    draws = {controls[b].shape[0] if controls[b].dim() == 2 else 0 for b in names}
    if len(draws) != 1 or 0 in draws:
        raise ValueError(
            "danet_verdict: every control must be (draws, images), with the same draws for "
            f"every block; got shapes {[tuple(controls[b].shape) for b in names]}."
        )
    if control_label is None:
        control_label = drawn(MATCHED_QUERY_KEY, draws.pop())
    evidence = tuple(
        Evidence.over_draws(
            f"query dependence (TV), {b}",
            trained[b],
            controls[b],
            control_label,
            units="test images",
            fmt=".3f",
        )
        for b in names
    )
    side = by_outcome(evidence, names)
    parts = []
    if side[True]:
        parts.append(f"more query-dependent than with {control_label} at {join_names(side[True])}")
    if side[False]:
        parts.append(f"less query-dependent at {join_names(side[False])}")
    if side[None]:
        parts.append(f"as query-dependent as the control at {join_names(side[None])}")
    found = "; ".join(parts)
    return Verdict(
        paper="each position attends to positions of similar features, so different query "
        "positions get different maps (Fu et al. 2019, Fig. 4)",
        run="total-variation distance between the maps of two query positions of one image, "
        "per test image, with the trained query and key weights and with random ones at the "
        "trained logit scale on the same features",
        evidence=evidence,
        words={
            True: f"The trained maps are {found}: the learned query and key weights, not the "
            "features or the maps' sharpness, set the queries' maps apart.",
            False: f"The trained maps are {found}: on the same features and at the same "
            "sharpness, the learned query and key weights give different queries more alike "
            "maps than random ones do.",
            None: f"The trained maps are {found}: this run cannot tell the learned query and "
            "key weights from random ones at the same logit scale.",
            MIXED: f"The trained maps are {found}: the blocks disagree, so the learned weights "
            "did not move the maps one way throughout.",
        },
    )


def use_verdict(evidence: Sequence[Evidence], *, part: str, paper: str) -> Verdict:
    """Does the trained network rely on ``part`` (``"position attention at layer3.1"``)? Its
    test log-loss against test-time ablations of it (:func:`~.block_use.loss_use_verdict`)."""
    return loss_use_verdict(evidence, part=part, paper=paper)


def channel_affinity(
    means: Mapping[str, Tensor], *, percentile: float = 0.99, note: str = ""
) -> Figure:
    """CAM's mean weights x_ji (``{block: (C, C)}``), one panel per block, each on its own scale
    from 0 to its ``percentile`` quantile (brighter weights drawn at the top colour), with its
    own colour bar: the blocks' weights differ in size by their 1/C. A map wider than 32
    channels is drawn pooled to 32x32 blocks (:func:`~.grids.pooled`: each the mean of the
    weights it covers), so that it stays legible on a phone."""
    fig, axes = plt.subplots(
        1, len(means), figsize=style.figsize(3.0), squeeze=False, constrained_layout=True
    )
    for ax, (block, m) in zip(axes[0], means.items(), strict=True):
        shown = pooled(m)  # at most 32x32 blocks
        top = shown.flatten().double().quantile(percentile).item()
        im = ax.imshow(shown.numpy(), cmap=MAP_CMAP, vmin=0, vmax=top, interpolation="nearest")
        per = "" if shown.shape == m.shape else f" (blocks of {m.shape[0] // shown.shape[0]})"
        ax.set(title=block, xlabel=f"channel i{per}", ylabel=f"channel j{per}")
        fig.colorbar(im, ax=ax, shrink=0.8, label="mean x_ji")
    return caption(fig, note) if note else fig
