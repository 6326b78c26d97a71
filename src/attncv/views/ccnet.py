"""What CCNet learned, as figures, a table and a verdict, for the CCNet chapter.

:func:`attention_costs` and :func:`cost_table` (full attention against two criss-cross passes),
:func:`influence`, :func:`influence_plot` and :func:`off_cross_shares` (how far context travels
in two passes, against uniform weights at the trained gamma: :func:`uniform`,
:func:`ccnet_verdict`, at the block :func:`largest_gamma` picks), :func:`cross_grid` (a pixel's
weights on its row and column), :func:`use_verdict` (does the network rely on the block? a
test-time ablation, paired over the test images).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..attention.ccnet import CCNet
from ..attention.danet import DANet
from ..model import count_macs, saved_bytes
from . import style
from .block_use import loss_use_verdict
from .evidence_words import MATCHED_QUERY_KEY, drawn, uniform_weights
from .plots import MAP_CMAP, caption
from .tables import Table
from .verdicts import Evidence, Verdict, paired_evidence


class _Position(nn.Module):
    """DANet's position module alone, materialising its (HW, HW) weights: full attention."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.danet = DANet(channels, fused=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.danet.position(x)


def attention_costs(sizes: Sequence[int] = (32, 64), channels: int = 64) -> list[dict]:
    """MACs of one forward pass (:func:`attncv.count_macs`) and the bytes autograd keeps for the
    backward pass (:func:`attncv.model.saved_bytes`, parameters left out) of full attention
    (DANet's position module) and two criss-cross passes, for one image of each square size."""
    torch.manual_seed(0)
    modules = {"full": _Position(channels), "rcca": CCNet(channels, recurrence=2)}
    rows = []
    for s in sizes:
        x = torch.randn(1, channels, s, s)
        row = {"size": s}
        for key, m in modules.items():
            row[f"{key}_macs"] = count_macs(m, (1, channels, s, s))
            row[f"{key}_bytes"] = saved_bytes(lambda m=m, x=x: m(x), ignore=m.parameters())
        row["macs_x"] = row["full_macs"] / row["rcca_macs"]
        row["bytes_x"] = row["full_bytes"] / row["rcca_bytes"]
        row["entries_x"] = s * s / (2 * (s + s))  # (HW)^2 against 2 HW (H + W)
        rows.append(row)
    return rows


def cost_table(rows: Sequence[dict]) -> Table:
    """The rows of :func:`attention_costs` as a table."""
    return Table(
        ["map", "full MACs", "RCCA MACs", "×", "full MiB", "RCCA MiB", "×"],
        [
            [
                f"{r['size']}x{r['size']}",
                f"{r['full_macs']:,}",
                f"{r['rcca_macs']:,}",
                f"{r['macs_x']:.1f}",
                f"{r['full_bytes'] / 2**20:.1f}",
                f"{r['rcca_bytes'] / 2**20:.1f}",
                f"{r['bytes_x']:.1f}",
            ]
            for r in rows
        ],
        caption="One image, 64 channels, fp32 on the CPU; MiB: tensors saved for the backward "
        "pass; × is full over RCCA (R = 2).",
    )


def passes(module: CCNet, r: int) -> Callable[[Tensor], Tensor]:
    """The trained module's residual update applied ``r`` times with its shared weights."""

    def run(x: Tensor) -> Tensor:
        for _ in range(r):
            x = x + module.gamma * module.criss_cross(x)
        return x

    return run


def uniform(module: CCNet, *, gamma: float | None = None) -> CCNet:
    """A copy with zero query and key weights, so that every position on the cross gets the
    same weight; its gamma is ``gamma``, or the trained one (``None``): the criss-cross pattern
    itself at the trained scale."""
    m = copy.deepcopy(module)
    with torch.no_grad():
        for conv in (m.query, m.key):
            conv.weight.zero_(), conv.bias.zero_()
        if gamma is not None:
            m.gamma.fill_(gamma)
    return m


def influences(fn: Callable[[Tensor], Tensor], x: Tensor, at: tuple[int, int]) -> Tensor:
    """How strongly each input position moves what ``fn`` adds at pixel ``at``, per image of
    ``x`` (N, C, H, W): the Frobenius norm over channels of the Jacobian of ``fn(x) - x`` at
    ``at`` with respect to every input position, (N, H, W). ``fn`` must treat the images
    independently (no batch statistics), so one backward pass per output channel serves them
    all: the gradient of the sum over the images is each image's own."""
    y, xx = at

    def added(z: Tensor) -> Tensor:
        return (fn(z) - z)[:, :, y, xx].sum(0)  # (C,): each image's output, summed

    jac = torch.autograd.functional.jacobian(added, x.detach(), vectorize=True)  # (C, N, C, H, W)
    return jac.square().sum(dim=(0, 2)).sqrt()  # (N, H, W)


def influence(fn: Callable[[Tensor], Tensor], x: Tensor, at: tuple[int, int]) -> Tensor:
    """:func:`influences` for the first image of ``x`` (1, C, H, W) alone: (H, W)."""
    return influences(fn, x[:1], at)[0]


def cross_mask(h: int, w: int, at: tuple[int, int]) -> Tensor:
    """True on the row and the column of ``at`` in an (h, w) map."""
    m = torch.zeros(h, w, dtype=torch.bool)
    m[at[0], :] = True
    m[:, at[1]] = True
    return m


def off_cross_shares(
    fn: Callable[[Tensor], Tensor], x: Tensor, points: Sequence[tuple[int, int]]
) -> Tensor:
    """Per image of ``x`` (N, C, H, W), the share of the influence on what ``fn`` adds that
    comes from off the pixel's cross: the :func:`influences` summed over the positions off its
    row and column, over the sum over all positions, averaged over ``points``: (N,). The norms
    are summed, not squared first, so that many small contributions count as much as a few
    large ones of the same total. An image whose influence is all zero gives NaN."""
    shares = []
    for at in points:
        g = influences(fn, x, at)  # (N, H, W)
        off = g[:, ~cross_mask(*g.shape[-2:], at)].sum(1)
        shares.append(off.double() / g.flatten(1).sum(1).double())  # NaN where 0 / 0
    return torch.stack(shares).nanmean(0)


def gammas(model: nn.Module) -> dict[str, float]:
    """Every CCNet block's trained gamma, by its name in ``model`` (``"layer2.0.after"``)."""
    return {name: m.gamma.item() for name, m in model.named_modules() if isinstance(m, CCNet)}


def largest_gamma(model: nn.Module) -> str:
    """The CCNet block of ``model`` whose gamma is largest in size: where the learned weights add
    the most to the features, chosen from the gammas before anything is judged."""
    found = gammas(model)
    if not found:
        raise ValueError(f"{type(model).__name__} has no CCNet block.")
    return max(found, key=lambda name: abs(found[name]))


def spread_points(h: int, w: int) -> list[tuple[int, int]]:
    """Four pixels of an (h, w) map, at the same places relative to its size whatever the size
    (on 16x16: (5, 10), (8, 8), (2, 3), (12, 13)), where the off-cross share is measured."""
    if h < 1 or w < 1:
        raise ValueError(f"spread_points needs a map of at least 1x1, got {h}x{w}.")
    fractions = [(5, 10), (8, 8), (2, 3), (12, 13)]  # sixteenths of the height and width
    return [(fy * h // 16, fx * w // 16) for fy, fx in fractions]


def influence_plot(maps: Mapping[str, Tensor], at: tuple[int, int], *, note: str = "") -> Figure:
    """Influence maps (``{title: (H, W)}``) on one log10 scale, the pixel starred."""
    logs = {k: torch.log10(v + 1e-12) for k, v in maps.items()}
    top = max(v.max().item() for v in logs.values())
    fig, axes = plt.subplots(
        1, len(maps), figsize=style.figsize(3.0), squeeze=False, constrained_layout=True
    )
    im = None
    for ax, (name, v) in zip(axes[0], logs.items(), strict=True):
        im = ax.imshow(v.numpy(), cmap=MAP_CMAP, vmin=top - 6, vmax=top)
        ax.plot(at[1], at[0], "*", color="white", mec="black", ms=11)
        ax.set(title=name, xlabel="column", ylabel="row")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="log10 influence")
    return caption(fig, note) if note else fig


def cross_grid(weights: Tensor, at: tuple[int, int]) -> Tensor:
    """A pixel's criss-cross weights (N, H + W) drawn back on the (N, H, W) grid, NaN off the
    cross (drawn blank)."""
    n, hw = weights.shape
    h = w = hw // 2
    grid = torch.zeros(n, h, w)
    grid[:, :, at[1]] += weights[:, :h]
    grid[:, at[0], :] += weights[:, h:]
    grid[:, ~cross_mask(h, w, at)] = float("nan")
    return grid


def ccnet_verdict(
    trained: Tensor,
    controls: Tensor,
    *,
    gamma: float,
    block: str = "the block",
    control_label: str | None = None,
) -> Verdict:
    """Do the trained weights bring context from off the cross, through the second pass, more
    than random query/key weights at the same scale?

    ``trained``: per-image :func:`off_cross_shares` after two passes of the trained module at
    ``block`` (N,). ``controls``: the same for D draws of random query and key at the trained
    logit scale, the trained ``gamma`` and values kept
    (:func:`attncv.train.controls.matched_query_key`), (D, N), judged with a band over images
    and draws together; or (N,) for one fixed control (e.g. :func:`uniform`), a paired band.
    The control keeps gamma because the second pass's off-cross contribution grows with gamma
    squared and the first pass's with gamma. That every position is reached after two passes is
    true by construction; this asks how much of the context the learned weights draw from there.
    """
    label = control_label or (
        drawn(MATCHED_QUERY_KEY, len(controls)) if controls.dim() == 2 else uniform_weights(gamma)
    )
    statistic = f"off-cross share after two passes, {block}"
    fmt = ".3%"  # shares of a few hundredths of a percent: three decimals of a percent
    if controls.dim() == 2:
        e = Evidence.over_draws(statistic, trained, controls, label, units="test images", fmt=fmt)
    else:
        e = paired_evidence(statistic, trained, controls, label, fmt=fmt)
    pair = f"{e.trained:.3%} of a pixel's context from off its cross, against {e.control:.3%}"
    return Verdict(
        paper="the learned criss-cross weights, applied twice, collect context from the whole "
        "image for every position (Huang et al. 2019, Sec. 3.3)",
        run=f"at {block} (gamma {gamma:+.3f}), share of the influence on what the block adds to a "
        "pixel that comes from off its row and column after two passes, per test image (four "
        f"pixels each), trained weights against {label}",
        evidence=(e,),
        words={
            True: f"The trained weights bring {pair} for {label}: they draw on the second "
            "pass's reach more than the control does.",
            False: f"The trained weights bring {pair} for {label}: they keep more to the cross, "
            "and draw on the second pass's reach less than the control does.",
            None: f"The trained weights bring {pair} for {label}: this run cannot tell the "
            "learned weights' use of the reach from the control's.",
        },
    )


def use_verdict(evidence: Sequence[Evidence], *, block: str) -> Verdict:
    """Does the trained network rely on the criss-cross attention at ``block``? Its test
    log-loss against test-time ablations of the block (:func:`~.ablation.ablation_evidence`:
    gamma at 0, a uniform map over each pixel's cross), judged by
    :func:`~.block_use.loss_use_verdict`."""
    return loss_use_verdict(
        evidence,
        part=f"the criss-cross attention at {block}",
        paper="criss-cross attention adds context that the network's predictions use "
        "(Huang et al. 2019, ablation on Cityscapes: RCCA against the baseline)",
    )
