"""What mixed attention learned, as figures, measurements and verdicts, for the mixed chapters.

Every attention map is drawn by :func:`map_grid`: the images in the first row, one row per map,
all panels on one stated scale with one colour bar in :data:`~.plots.MAP_CMAP`.

- CBAM: :func:`centre_border` (is the spatial gate higher on the object?), :func:`class_gates`
  (its channel gates per class), :func:`ablation_bars` and :func:`difference_verdict` (the
  paper's Tables 1-3 on brief runs).
- DANet: :func:`danet_scales` (alpha and beta per epoch), :func:`query_maps` and
  :func:`query_dependence` (do PAM's maps depend on the query?), :func:`channel_affinity`.
- CCNet: :func:`attention_costs` (full against criss-cross attention), :func:`influence` and
  :func:`off_cross_share` (how far context travels in one and two passes).
- Residual and coordinate attention: :func:`variance_parts`, an unbiased two-way decomposition
  of a mask M[c, h, w] into a channel part, a position part and their interaction.
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
from ..train import FitResult
from .plots import MAP_CMAP, caption, module_colour, overlay, to_rgb
from .tables import Table
from .verdicts import Verdict, judge

# --- one figure for every map over images ---------------------------------------------------


def map_grid(
    images: Tensor,
    rows: Mapping[str, Tensor],
    *,
    titles: Sequence[str] = (),
    vmin: float = 0.0,
    vmax: float = 1.0,
    label: str = "gate",
    marks: Mapping[str, tuple[float, float]] | None = None,
    title: str = "",
    note: str = "",
) -> Figure:
    """Uint8 ``images`` (N, 3, H, W) in the first row, then one row per map set
    (``{row label: (N, h, w)}``, upsampled over the images), all on the scale [vmin, vmax] with
    one colour bar labelled ``label``. ``marks`` puts a star at (y, x) image pixels in a row;
    ``note`` (the data, the scale) goes in a caption under the figure."""
    n = len(images)
    fig, axes = plt.subplots(
        len(rows) + 1,
        n,
        figsize=(1.45 * n + 1.4, 1.5 * (len(rows) + 1)),
        squeeze=False,
        constrained_layout=True,
    )
    for i in range(n):
        axes[0, i].imshow(to_rgb(images[i])[0])
        axes[0, i].set(xticks=[], yticks=[])
        if i < len(titles):
            axes[0, i].set_title(titles[i], fontsize=9)
    im = None
    for r, (name, maps) in enumerate(rows.items(), start=1):
        for i in range(n):
            im = overlay(axes[r, i], images[i], maps[i], vmin=vmin, vmax=vmax)
            if marks and name in marks:
                y, x = marks[name]
                axes[r, i].plot(x, y, "*", color="white", mec="black", ms=11)
        axes[r, 0].set_ylabel(name, fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=axes[1:, :].ravel().tolist(), shrink=0.8, label=label)
    if title:
        fig.suptitle(title, fontsize=10)
    return caption(fig, note) if note else fig


# --- CBAM ------------------------------------------------------------------------------------


def centre_mask(h: int, w: int) -> Tensor:
    """True on the centre of an (h, w) map: the middle half of each side (a quarter of the
    area, rounded outwards to whole cells; at least one cell)."""
    rows = torch.zeros(h, dtype=torch.bool)
    cols = torch.zeros(w, dtype=torch.bool)
    rows[h // 4 : h - h // 4] = True
    cols[w // 4 : w - w // 4] = True
    return rows[:, None] & cols[None, :]  # (h, w)


def centre_border(maps: Mapping[str, Tensor]) -> dict[str, float]:
    """Mean gate on the centre minus mean gate on the border, per block, over all images
    (``{block: (N, 1, h, w) or (N, h, w)}``). CIFAR's objects are roughly centred, so a positive
    value means the gate is higher on the object. A map of 1x1 or 2x2 has no border: NaN."""
    out = {}
    for block, m in maps.items():
        m = m.reshape(m.shape[0], *m.shape[-2:])  # (N, h, w)
        centre = centre_mask(*m.shape[-2:])
        if centre.all():
            out[block] = float("nan")
            continue
        out[block] = (m[:, centre].mean() - m[:, ~centre].mean()).item()
    return out


CENTRE_BAND = 0.02  # gate units: a centre-border difference under 2% of the gate's range


def cbam_verdict(contrast: Mapping[str, float], *, band: float = CENTRE_BAND) -> Verdict:
    """Is CBAM's spatial gate higher on the object (the image centre) than around it?

    Statistic: the centre-minus-border difference of the mean gate, averaged over the blocks
    given. Dead band ``band`` (0.02 by default): the difference is in gate units, and a gate that
    is 2% higher on the centre rescales the features there by 2% more, which no figure shows and
    which moves with the seed; the 1,000 test images make the sampling error far smaller
    (about 0.002)."""
    values = {b: v for b, v in contrast.items() if v == v}
    mean = sum(values.values()) / len(values) if values else float("nan")
    per = ", ".join(f"{b} {v:+.3f}" for b, v in values.items())
    return Verdict(
        paper=(
            "the spatial gate learns where to look; Grad-CAM shows CBAM networks covering the "
            "target object better than plain ones (Woo et al. 2018, Sec. 4.3, Fig. 4)"
        ),
        run=(
            f"mean spatial gate on the centre minus the border (CIFAR's objects are roughly "
            f"centred), over the test images: {per}; mean {mean:+.3f} (dead band ±{band:g})"
        ),
        holds=judge(mean, expected="above", neutral=0.0, band=band),
    )


def class_gates(means: Mapping[str, Tensor], classes: Sequence[str], *, note: str = "") -> Figure:
    """Mean channel gate per class (rows) and channel (columns), one panel per block, on the
    gate's whole scale [0, 1] with one colour bar (``means``: ``{block: (K, C)}``)."""
    fig, axes = plt.subplots(
        1,
        len(means),
        figsize=(3 * len(means) + 1.5, 3.4),
        squeeze=False,
        constrained_layout=True,
    )
    for ax, (block, g) in zip(axes[0], means.items(), strict=True):
        im = ax.imshow(
            g.numpy(), aspect="auto", cmap=MAP_CMAP, vmin=0, vmax=1, interpolation="nearest"
        )
        ax.set(title=f"{block} ({g.shape[1]} ch.)", xlabel="channel", yticks=[])
    axes[0, 0].set_yticks(range(len(classes)), classes, fontsize=8)
    fig.colorbar(im, ax=axes[0].tolist(), label="mean channel gate")
    fig.suptitle("Channel gate per class", fontsize=10)
    return caption(fig, note) if note else fig


SPREAD_BAND = 0.5  # a late/early ratio between 0.5 and 1.5: no clear trend


def specificity_verdict(spread: Mapping[str, float], *, band: float = SPREAD_BAND) -> Verdict:
    """Are the late channel gates more class-specific than the early ones?

    Statistic: the class spread (:func:`~.probe.class_spread`) of the last block over that of
    the first. Dead band ±0.5 around 1: the spread is a standard deviation of means over about
    100 images per class, and brief runs on 4,000 images move it by tens of per cent."""
    blocks = list(spread)
    first, last = spread[blocks[0]], spread[blocks[-1]]
    ratio = last / first if first > 0 else float("nan")
    return Verdict(
        paper="early excitations are shared by the classes, late ones class-specific "
        "(Hu et al. 2018, SE, Sec. 7.2)",
        run=f"class spread {blocks[-1]} {last:.3f} against {blocks[0]} {first:.3f}: "
        f"ratio {ratio:.1f} (dead band {1 - band:g} to {1 + band:g})",
        holds=judge(ratio, expected="above", neutral=1.0, band=band),
    )


def ablation_bars(
    results: Mapping[str, FitResult], *, baseline: str = "baseline", note: str = ""
) -> Figure:
    """Final test accuracy of each run, as horizontal bars from 0, the baseline's as a line."""
    labels = list(results)
    acc = [100 * r.final_acc for r in results.values()]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(labels) + 1.2), constrained_layout=True)
    colours = [module_colour("none" if k == baseline else "cbam") for k in labels]
    ax.barh(labels, acc, color=colours)
    for i, a in enumerate(acc):
        ax.text(a + 0.5, i, f"{a:.1f}%", va="center", fontsize=8)
    if baseline in results:
        ax.axvline(100 * results[baseline].final_acc, color="0.3", ls=":", lw=1)
    ax.set(xlabel="final test accuracy (%)", xlim=(0, max(acc) * 1.15), title="CBAM ablation")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return caption(fig, note) if note else fig


RUN_BAND = 3.0  # accuracy points: about 1.5 sd of the difference of two single brief runs


def difference_verdict(
    paper: str,
    winner: tuple[str, FitResult],
    others: Mapping[str, FitResult],
    *,
    band: float = RUN_BAND,
) -> Verdict:
    """Does the paper's winning variant beat every alternative on this run?

    Statistic: the winner's final accuracy minus the best alternative's, in points. Dead band
    ±3 points: the benchmark measured about 1 point of standard deviation between seeds with
    10,000 images; single brief runs on 4,000 images vary more (about 1.5 points), and a
    difference of two such runs about 2, so smaller differences are seed noise."""
    name, result = winner
    best = max(others, key=lambda k: others[k].final_acc)
    diff = 100 * (result.final_acc - others[best].final_acc)
    rest = ", ".join(f"{k} {r.final_acc:.1%}" for k, r in others.items())
    return Verdict(
        paper=paper,
        run=f"{name} {result.final_acc:.1%} against {rest}: {diff:+.1f} points over the best "
        f"alternative (one seed each; dead band ±{band:g} points)",
        holds=judge(diff, expected="above", neutral=0.0, band=band),
    )


CBAM_ABLATION = {  # label: CBAM keywords, the paper's Tables 1-3 (the default is the paper's CBAM)
    "channel gate only": {"spatial": False},
    "spatial gate only": {"channel": False},
    "average pooling only": {"pool_types": ["avg"]},
    "3x3 spatial kernel": {"kernel_size": 3},
    "spatial, then channel": {"order": "spatial_first"},
    "parallel": {"order": "parallel"},
}
CBAM_CLAIMS = {  # the paper's observation: the alternatives that CBAM beat there
    "average and max descriptors beat average pooling alone (Woo et al. 2018, Table 1)": (
        "average pooling only",
    ),
    "a 7x7 spatial kernel beats a 3x3 one (Woo et al. 2018, Table 2)": ("3x3 spatial kernel",),
    "channel, then spatial beats spatial, then channel and the two in parallel "
    "(Woo et al. 2018, Table 3)": ("spatial, then channel", "parallel"),
}


def cbam_ablation_verdicts(
    runs: Mapping[str, FitResult], cbam: str, *, band: float = RUN_BAND
) -> list[Verdict]:
    """One :func:`difference_verdict` per claim of :data:`CBAM_CLAIMS`, from ``runs`` keyed by
    the labels of :data:`CBAM_ABLATION` and ``cbam`` (the default module's run)."""
    return [
        difference_verdict(paper, ("CBAM", runs[cbam]), {k: runs[k] for k in others}, band=band)
        for paper, others in CBAM_CLAIMS.items()
    ]


# --- DANet -----------------------------------------------------------------------------------


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


def scale_curves(result: FitResult, *, note: str = "") -> Figure:
    """Alpha (left) and beta (right) of every block per epoch, from 0 at initialisation."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True, constrained_layout=True)
    keys = [k for k in result.history[0] if k.endswith((".alpha", ".beta"))]
    epochs = [0, *result.curve("epoch")]
    for key in keys:
        block, which = key.rsplit(".", 1)
        ax = axes[0] if which == "alpha" else axes[1]
        ax.plot(epochs, [0.0, *result.curve(key)], marker=".", label=block)
    axes[0].set(title="alpha (position attention)", xlabel="epoch", ylabel="value")
    axes[1].set(title="beta (channel attention)", xlabel="epoch")
    for ax in axes:
        ax.axhline(0, color="0.5", lw=0.8)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    return caption(fig, note) if note else fig


def query_maps(attn: Tensor, queries: Mapping[str, tuple[int, int]], h: int, w: int):
    """Rows of the position attention (N, hw, hw) for query cells (y, x): ``{name: (N, h, w)}``."""
    return {name: attn[:, y * w + x].view(-1, h, w) for name, (y, x) in queries.items()}


def query_dependence(attn: Tensor) -> float:
    """How much the position attention depends on the query: the total-variation distance
    ``0.5 * sum_k |S_ik - S_jk|`` between the maps of two different query positions i, j of the
    same image, averaged over all pairs and images (``attn``: (N, hw, hw), rows sum to 1).
    0: every query gathers the same context; 1: their maps share no weight."""
    n, p, _ = attn.shape
    if p < 2:
        return float("nan")
    total = sum(torch.cdist(a[None], a[None], p=1)[0].sum() for a in attn.double())  # (p, p)
    return (0.5 * total / (n * p * (p - 1))).item()


QUERY_NEUTRAL, QUERY_BAND = 0.2, 0.1


def danet_verdict(tv: Mapping[str, float]) -> Verdict:
    """Do PAM's maps depend on the query position, as the paper's Fig. 4 shows?

    Statistic: :func:`query_dependence` averaged over the blocks. Below 0.1 under a tenth of the
    attention moves between queries: one shared context map, as GCNet found for non-local
    blocks (Cao et al. 2019); above 0.3 different queries look at visibly different places;
    between the two we do not call it (neutral 0.2, band 0.1)."""
    mean = sum(tv.values()) / len(tv)
    per = ", ".join(f"{b} {v:.2f}" for b, v in tv.items())
    return Verdict(
        paper="each position attends to positions of similar features, so different query "
        "positions get different maps (Fu et al. 2019, Fig. 4)",
        run=f"total-variation distance between the maps of two queries of one image: {per}; "
        f"mean {mean:.2f} (0: one map for every query; query-dependent above "
        f"{QUERY_NEUTRAL + QUERY_BAND:g}, query-independent below {QUERY_NEUTRAL - QUERY_BAND:g})",
        holds=judge(mean, expected="above", neutral=QUERY_NEUTRAL, band=QUERY_BAND),
    )


def channel_affinity(means: Mapping[str, Tensor], *, note: str = "") -> Figure:
    """CAM's mean weights x_ji (``{block: (C, C)}``), one panel per block, one shared scale."""
    vmax = max(m.max().item() for m in means.values())
    fig, axes = plt.subplots(
        1, len(means), figsize=(4.3 * len(means) + 1, 4), squeeze=False, constrained_layout=True
    )
    for ax, (block, m) in zip(axes[0], means.items(), strict=True):
        im = ax.imshow(m.numpy(), cmap=MAP_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        ax.set(title=block, xlabel="channel i (source)", ylabel="channel j")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="mean weight x_ji")
    fig.suptitle("DANet channel attention, mean over the test images", fontsize=10)
    return caption(fig, note) if note else fig


# --- CCNet -----------------------------------------------------------------------------------


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


@torch.no_grad()
def module_input(model: nn.Module, module: nn.Module, images: Tensor) -> Tensor:
    """What ``module`` receives inside ``model`` (in eval mode) for normalised ``images``."""
    seen: dict[str, Tensor] = {}
    hook = module.register_forward_pre_hook(lambda _m, inp: seen.update(x=inp[0].detach()))
    was_training = model.training
    try:
        model.eval()
        model(images)
    finally:
        hook.remove()
        model.train(was_training)
    return seen["x"]


def passes(module: CCNet, r: int) -> Callable[[Tensor], Tensor]:
    """The trained module's residual update applied ``r`` times with its shared weights."""

    def run(x: Tensor) -> Tensor:
        for _ in range(r):
            x = x + module.gamma * module.criss_cross(x)
        return x

    return run


def uniform(module: CCNet) -> CCNet:
    """A copy with zero query and key weights (every position on the cross gets the same
    weight) and gamma 1: the reach of the criss-cross pattern itself."""
    m = copy.deepcopy(module)
    with torch.no_grad():
        for conv in (m.query, m.key):
            conv.weight.zero_(), conv.bias.zero_()
        m.gamma.fill_(1.0)
    return m


def influence(fn: Callable[[Tensor], Tensor], x: Tensor, at: tuple[int, int]) -> Tensor:
    """How strongly each input position moves what ``fn`` adds at pixel ``at`` of one image
    (``x``: (1, C, H, W)): the Frobenius norm over channels of the Jacobian of
    ``fn(x) - x`` at ``at`` with respect to every input position, (H, W)."""
    y, xx = at

    def added(z: Tensor) -> Tensor:
        return (fn(z) - z)[0, :, y, xx]  # (C,)

    jac = torch.autograd.functional.jacobian(added, x[:1].detach())  # (C, 1, C, H, W)
    return jac.square().sum(dim=(0, 1, 2)).sqrt()  # (H, W)


def cross_mask(h: int, w: int, at: tuple[int, int]) -> Tensor:
    """True on the row and the column of ``at`` in an (h, w) map."""
    m = torch.zeros(h, w, dtype=torch.bool)
    m[at[0], :] = True
    m[:, at[1]] = True
    return m


def off_cross_share(
    fn: Callable[[Tensor], Tensor], x: Tensor, points: Sequence[tuple[int, int]]
) -> float:
    """Share of the influence on what ``fn`` adds that comes from off the pixel's cross: the
    :func:`influence` summed over the positions off its row and column, over the sum over all
    positions, averaged over ``points`` and the images of ``x`` (N, C, H, W). The norms are
    summed, not squared first, so that many small contributions count as much as a few large
    ones of the same total."""
    shares = []
    for i in range(len(x)):
        for at in points:
            g = influence(fn, x[i : i + 1], at)
            total = g.sum()
            if total > 0:
                shares.append((g[~cross_mask(*g.shape, at)].sum() / total).item())
    return sum(shares) / len(shares) if shares else float("nan")


def influence_plot(maps: Mapping[str, Tensor], at: tuple[int, int], *, note: str = "") -> Figure:
    """Influence maps (``{title: (H, W)}``) on one log10 scale, the pixel starred."""
    logs = {k: torch.log10(v + 1e-12) for k, v in maps.items()}
    top = max(v.max().item() for v in logs.values())
    fig, axes = plt.subplots(
        1, len(maps), figsize=(3.6 * len(maps) + 1, 3.4), squeeze=False, constrained_layout=True
    )
    for ax, (name, v) in zip(axes[0], logs.items(), strict=True):
        im = ax.imshow(v.numpy(), cmap=MAP_CMAP, vmin=top - 6, vmax=top)
        ax.plot(at[1], at[0], "*", color="white", mec="black", ms=12)
        ax.set(title=name, xlabel="column", ylabel="row")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="log10 influence (6 decades)")
    fig.suptitle("Which input positions move the starred pixel", fontsize=10)
    return caption(fig, note) if note else fig


def cross_grid(weights: Tensor, at: tuple[int, int]) -> Tensor:
    """A pixel's criss-cross weights (N, H + W) drawn back on the (N, H, W) grid, 0 elsewhere."""
    n, hw = weights.shape
    h = w = hw // 2
    grid = torch.zeros(n, h, w)
    grid[:, :, at[1]] += weights[:, :h]
    grid[:, at[0], :] += weights[:, h:]
    return grid


OFF_CROSS_NEUTRAL, OFF_CROSS_BAND = 0.3, 0.2


def ccnet_verdict(trained: float, reference: float) -> Verdict:
    """Does the trained module bring context from off the cross, through its second pass?

    Statistic: the :func:`off_cross_share` of the trained module after two passes over the same
    share for the criss-cross pattern itself (``reference``: uniform weights, gamma 1), i.e. how
    much of the pattern's reach the trained weights use. The share has no fixed scale of its own
    (it depends on the value projection and the map size; uniform weights on a 16x16 map give
    about 0.1), hence the ratio. Below 0.1 what the block adds to a pixel comes, in effect, from
    its row and column only: the second pass reaches everything but carries next to nothing (the
    opposite); above 0.5 the trained module carries at least half of the pattern's off-cross
    context (holds); between the two we do not call it."""
    ratio = trained / reference if reference > 0 else float("nan")
    return Verdict(
        paper="two criss-cross passes with shared weights give every position context from the "
        "whole image (Huang et al. 2019, Sec. 3.3)",
        run=f"share of the influence on what the block adds to a pixel that comes from off its "
        f"row and column after two passes: {trained:.3f}, against {reference:.3f} for uniform "
        f"weights with gamma 1, a ratio of {ratio:.2f} (cross only below "
        f"{OFF_CROSS_NEUTRAL - OFF_CROSS_BAND:g}, whole image above "
        f"{OFF_CROSS_NEUTRAL + OFF_CROSS_BAND:g})",
        holds=judge(ratio, expected="above", neutral=OFF_CROSS_NEUTRAL, band=OFF_CROSS_BAND),
    )


# --- masks over channels and positions (residual and coordinate attention) --------------------


def variance_parts(mask: Tensor) -> dict[str, float]:
    """Two-way decomposition of masks M[n, c, h, w] per image: M = m + a_c + b_hw + e_chw, with
    a_c the channel means less the grand mean, b_hw the position means less it, e the rest.
    The three sums of squares add up to the total; returned as fractions of it, pooled over the
    images: ``{"channel": ..., "position": ..., "interaction": ...}``. A pure channel gate gives
    channel 1, a map shared by every channel position 1."""
    m = mask.double().flatten(2)  # (N, C, HW)
    grand = m.mean(dim=(1, 2), keepdim=True)  # (N, 1, 1)
    a = m.mean(dim=2, keepdim=True) - grand  # (N, C, 1)
    b = m.mean(dim=1, keepdim=True) - grand  # (N, 1, HW)
    e = m - grand - a - b  # (N, C, HW)
    ss = {
        "channel": a.square().sum() * m.shape[2],
        "position": b.square().sum() * m.shape[1],
        "interaction": e.square().sum(),
    }
    total = sum(ss.values())
    if total == 0:
        return dict.fromkeys(ss, float("nan"))
    return {k: (v / total).item() for k, v in ss.items()}


def parts_table(parts: Mapping[str, Mapping[str, float]]) -> Table:
    """:func:`variance_parts` per block as a table of percentages."""
    return Table(
        ["block", "channel", "position", "interaction", "position-dependent"],
        [
            [
                b,
                f"{p['channel']:.0%}",
                f"{p['position']:.0%}",
                f"{p['interaction']:.0%}",
                f"{p['position'] + p['interaction']:.0%}",
            ]
            for b, p in parts.items()
        ],
        caption="Shares of each mask's variance over channels and positions, pooled over the "
        "test images; position-dependent = position + interaction.",
    )


MIXED_NEUTRAL, MIXED_BAND = 0.2, 0.1
RESIDUAL_PAPER = (
    "the soft mask weighs every channel at every position (mixed attention, f1), and it beat "
    "channel-only (f2) and spatial-only (f3) masks (Wang et al. 2017, Sec. 3.3, Table 1)"
)
COORDINATE_PAPER = (
    "the gates keep precise positional information along one direction and long-range "
    "dependencies along the other, so they vary with position, unlike SE's (Hou et al. 2021, "
    "Sec. 3.2)"
)


def mixed_verdict(parts: Mapping[str, Mapping[str, float]], *, paper: str) -> Verdict:
    """Does the learned mask weigh positions as well as channels?

    Statistic: the position-dependent share of the mask's variance (position + interaction in
    :func:`variance_parts`), averaged over the blocks. A pure channel gate has exactly 0 (the
    decomposition has no bias towards either part; nothing is averaged away first). Below 0.1 the
    mask acts as a channel gate (the opposite); above 0.3 positions carry a real part of it;
    between the two we do not call it."""
    shares = {b: p["position"] + p["interaction"] for b, p in parts.items()}
    mean = sum(shares.values()) / len(shares)
    per = ", ".join(f"{b} {v:.0%}" for b, v in shares.items())
    return Verdict(
        paper=paper,
        run=f"position-dependent share of the mask's variance: {per}; mean {mean:.0%} "
        f"(a channel gate below {MIXED_NEUTRAL - MIXED_BAND:.0%}, mixed above "
        f"{MIXED_NEUTRAL + MIXED_BAND:.0%})",
        holds=judge(mean, expected="above", neutral=MIXED_NEUTRAL, band=MIXED_BAND),
    )


def coordinate_gates(maps: Mapping[str, Tensor], block: str) -> tuple[Tensor, Tensor, Tensor]:
    """Coordinate attention's height gates (N, C, H), width gates (N, C, W) and the gate they
    make together (N, C, H, W), from captured ``tap_h`` and ``tap_w`` maps of ``block``."""
    a_h = maps[f"{block}.tap_h"][..., 0]  # (N, C, H)
    a_w = maps[f"{block}.tap_w"][:, :, 0]  # (N, C, W)
    return a_h, a_w, a_h[:, :, :, None] * a_w[:, :, None, :]


def profiles(
    images: Tensor,
    a_h: Tensor,
    a_w: Tensor,
    *,
    titles: Sequence[str] = (),
    top: int = 3,
    note: str = "",
) -> Figure:
    """Per image (rows): the height and width gates of the ``top`` channels whose product
    varies most (thin) and their mean over channels (thick), and the product averaged over
    channels drawn over the image on the gate's scale [0, 1] with a colour bar."""
    fig, axes = plt.subplots(
        len(images), 3, figsize=(10, 2.2 * len(images)), squeeze=False, constrained_layout=True
    )
    for i in range(len(images)):
        product = a_h[i][:, :, None] * a_w[i][:, None, :]  # (C, H, W)
        chosen = product.flatten(1).std(1).topk(min(top, len(product))).indices
        for ax, g, axis in ((axes[i, 0], a_h[i], "row"), (axes[i, 1], a_w[i], "column")):
            ax.plot(g[chosen].T.numpy(), lw=1)
            ax.plot(g.mean(0).numpy(), lw=2.5, color="k", label="mean over channels")
            ax.set(xlabel=axis, ylabel="gate", ylim=(0, 1))
            ax.grid(alpha=0.3)
        im = overlay(
            axes[i, 2],
            images[i],
            product.mean(0),
            vmin=0,
            vmax=1,
            title=titles[i] if i < len(titles) else None,
        )
    axes[0, 0].set_title("height gate a_h")
    axes[0, 1].set_title("width gate a_w")
    axes[0, 1].legend(fontsize=7)
    fig.colorbar(im, ax=axes[:, 2].tolist(), shrink=0.6, label="a_h a_w, mean over channels")
    return caption(fig, note) if note else fig
