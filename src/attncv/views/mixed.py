"""What mixed attention learned, as figures, measurements and verdicts, for the mixed chapters.

Every attention map is drawn by :func:`map_grid`: the photos in the first row, then one row per
map set drawn on its own (never blended over the photo), each row on a stated scale with its own
colour bar. Every verdict compares the trained network with a control measured the same way on
the same test images, with a band from a paired bootstrap over the images
(:func:`~.verdicts.bootstrap_band`), or, for accuracies, from the baseline's seeds
(:func:`accuracy_verdict`).

- CBAM: :func:`centre_border` (is the spatial gate higher on the centre?) against the network
  before training (:func:`~.controls.untrained`), :func:`class_gates` and
  :func:`specificity_verdict` (are the late channel gates more class-specific?).
- DANet: :func:`danet_scales` and :func:`scales_story` (alpha and beta), :func:`query_maps`,
  :func:`position_weights` and :func:`query_dependence` (do PAM's maps depend on the query,
  more than with random query and key projections?), :func:`channel_affinity`.
- CCNet: :func:`attention_costs`, :func:`influence` and :func:`off_cross_shares` (how far context
  travels in two passes, against uniform weights at the trained gamma), :func:`cross_passes`.
- Residual and coordinate attention: :func:`variance_parts`, an unbiased two-way decomposition
  of a mask M[c, h, w] into a channel part, a position part and their interaction, and
  :func:`mixed_verdict` against the network before training.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..attention.ccnet import CCNet
from ..attention.danet import DANet
from ..attention.positions import flatten
from ..model import count_macs, saved_bytes
from ..train import FitResult, Noise
from . import style
from .plots import MAP_CMAP, caption, to_rgb
from .probe import spread_resamples
from .spatial import map_stats_per_image
from .tables import Table
from .verdicts import Evidence, Verdict, gain_verdict, half_interval

DIVERGING = "RdBu_r"  # signed differences: blue below zero, red above, white at zero

# --- shared: one figure for maps beside the photos, paired evidence --------------------------


def map_grid(
    images: Tensor,
    rows: Mapping[str, Tensor],
    *,
    titles: Sequence[str] = (),
    vmin: float = 0.0,
    vmax: float = 1.0,
    label: str = "gate",
    scales: Mapping[str, tuple[float, float, str, str]] | None = None,
    marks: Mapping[str, tuple[float, float]] | None = None,
    title: str = "",
    note: str = "",
) -> Figure:
    """Uint8 ``images`` (N, 3, H, W) in the first row, then one row per map set
    (``{row label: (N, h, w)}``), each map drawn on its own panel under its photo, cell by cell
    (nearest), aligned with the photo's pixels. Every row is on the scale [vmin, vmax] with
    one colour bar labelled ``label``, unless ``scales`` gives a row its own
    ``(vmin, vmax, label, cmap)`` and colour bar. ``marks`` puts a star at (y, x) image pixels
    in a row (and on the photos); ``note`` (the data, the scales) goes under the figure."""
    n = len(images)
    scales = dict(scales or {})
    fig, axes = plt.subplots(
        len(rows) + 1,
        n,
        figsize=style.figsize(1.05 * (len(rows) + 1) + 0.5, 0.95 * n + 1.3),
        squeeze=False,
        constrained_layout=True,
    )
    size = images.shape[-2:]
    extent = (-0.5, size[1] - 0.5, size[0] - 0.5, -0.5)  # a map's cells over the photo's pixels
    for i in range(n):
        axes[0, i].imshow(to_rgb(images[i])[0])
        axes[0, i].set(xticks=[], yticks=[])
        if i < len(titles):
            axes[0, i].set_title(titles[i])
    shared = None
    for r, (name, maps) in enumerate(rows.items(), start=1):
        lo, hi, row_label, cmap = scales.get(name, (vmin, vmax, label, MAP_CMAP))
        im = None
        for i in range(n):
            ax = axes[r, i]
            im = ax.imshow(
                maps[i].detach().float().cpu().numpy(),
                cmap=cmap,
                vmin=lo,
                vmax=hi,
                interpolation="nearest",
                extent=extent,
            )
            ax.set(xticks=[], yticks=[])
            if marks and name in marks:
                y, x = marks[name]
                ax.plot(x, y, "*", color="white", mec="black", ms=10)
                axes[0, i].plot(x, y, "*", color="white", mec="black", ms=10)
        axes[r, 0].set_ylabel(name)
        if name in scales:
            fig.colorbar(im, ax=axes[r, :].tolist(), shrink=0.9, label=row_label)
        else:
            shared = im
    plain = [r for r, name in enumerate(rows, start=1) if name not in scales]
    if shared is not None:
        fig.colorbar(shared, ax=[a for r in plain for a in axes[r]], shrink=0.8, label=label)
    if title:
        fig.suptitle(title)
    return caption(fig, note) if note else fig


def paired_evidence(
    statistic: str,
    trained: Tensor,
    control: Tensor,
    control_label: str,
    *,
    expected: str = "above",
    fmt: str = ".3f",
    units: str = "test images",
) -> Evidence:
    """One :class:`~.verdicts.Evidence` from per-unit values of a statistic on the trained
    network and on its control, on the same units: the means, and the half-width of the 95%
    paired bootstrap interval of their difference as the band."""
    n = torch.as_tensor(trained).numel()
    how = f"95% paired bootstrap over {n:,} {units}"
    return Evidence.paired(
        statistic, trained, control, control_label, how=how, expected=expected, fmt=fmt
    )


def _sides(evidence: Sequence[Evidence], names: Sequence[str]) -> dict[bool | None, list[str]]:
    """The names of the evidence rows by outcome: ``{True: [...], False: [...], None: [...]}``."""
    out: dict[bool | None, list[str]] = {True: [], False: [], None: []}
    for e, name in zip(evidence, names, strict=True):
        out[e.holds].append(name)
    return out


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def accuracy_verdict(
    paper: str, name: str, result: FitResult, baseline: FitResult, noise: Noise
) -> Verdict:
    """Does ``result`` beat the baseline, beyond the noise of two single runs? The book's one
    single-run accuracy verdict (:func:`~.verdicts.gain_verdict`), read from two runs."""
    return gain_verdict(name, result.final_acc, baseline.final_acc, noise, paper=paper)


# --- CBAM ------------------------------------------------------------------------------------


def centre_mask(h: int, w: int) -> Tensor:
    """True on the centre of an (h, w) map: the middle half of each side (a quarter of the
    area, rounded outwards to whole cells; at least one cell)."""
    rows = torch.zeros(h, dtype=torch.bool)
    cols = torch.zeros(w, dtype=torch.bool)
    rows[h // 4 : h - h // 4] = True
    cols[w // 4 : w - w // 4] = True
    return rows[:, None] & cols[None, :]  # (h, w)


MIN_SIDE = 8  # cells: smaller maps have no centre and border that a 7x7 convolution tells apart


def centre_border(maps: Tensor) -> Tensor:
    """Per image, the mean gate on the centre minus the mean gate on the border
    (``maps``: (N, 1, h, w) or (N, h, w)): (N,). CIFAR's objects are roughly centred, so a
    positive value means the gate is higher where the object usually is. A map with no border
    (1x1, 2x2) gives NaN."""
    m = maps.reshape(maps.shape[0], *maps.shape[-2:]).double()  # (N, h, w)
    centre = centre_mask(*m.shape[-2:])
    if centre.all():
        return torch.full((m.shape[0],), float("nan"), dtype=torch.float64)
    return m[:, centre].mean(1) - m[:, ~centre].mean(1)  # (N,)


CBAM_PAPER = (
    "CBAM networks attend to the target object: Grad-CAM of the whole network covers the "
    "object better than a plain ResNet's (Woo et al. 2018, Sec. 4.3, Fig. 4); this run tests "
    "a proxy on the spatial gate itself, not Grad-CAM"
)


def cbam_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    *,
    control_label: str = "the same network before training",
) -> Verdict:
    """Is CBAM's spatial gate higher on the image centre than around it, more than in its
    control?

    ``trained`` and ``control``: ``{stage: (N, 1, h, w) or (N, h, w)}`` gates on the same test
    images. One :class:`~.verdicts.Evidence` per stage whose map is at least :data:`MIN_SIDE`
    cells a side: on a 4x4 map the "centre" is 2x2 cells, and the zero-padded 7x7 convolution
    sees the whole map, padding included, from every cell, so centre and border are not
    different places to it. The control matters because the zero padding alone makes a gate
    differ between border and centre, trained or not."""
    names, evidence = [], []
    for stage, t in trained.items():
        if min(t.shape[-2:]) < MIN_SIDE:
            continue
        names.append(stage)
        evidence.append(
            paired_evidence(
                f"centre minus border, {stage} ({t.shape[-2]}x{t.shape[-1]})",
                centre_border(t),
                centre_border(control[stage]),
                control_label,
            )
        )
    if not evidence:
        raise ValueError(f"cbam_verdict needs a map of at least {MIN_SIDE}x{MIN_SIDE} cells.")
    side = _sides(evidence, names)
    up = f"higher on the centre than {control_label} on {_join(side[True])}" if side[True] else ""
    down = f"lower on the centre on {_join(side[False])}" if side[False] else ""
    same = f"within the band on {_join(side[None])}" if side[None] else ""
    found = "; ".join(p for p in (up, down, same) if p)
    return Verdict(
        paper=CBAM_PAPER,
        run="the spatial gate's mean on the centre of its map (the middle half of each side) "
        "minus its mean on the border, per test image, at the last block of each stage of "
        f"{MIN_SIDE}x{MIN_SIDE} cells or more",
        evidence=tuple(evidence),
        words={
            True: f"The trained gate is {found}: at every stage it turns up the middle of "
            "the frame, where CIFAR's objects usually are.",
            False: f"The trained gate is {found}: "
            + (
                "the stages disagree, so the gate as a whole does not single out the middle "
                "of the frame, where CIFAR's objects usually are."
                if side[True]
                else "training turned the middle of the frame, where CIFAR's objects usually "
                "are, down relative to the border."
            ),
            None: f"The trained gate is {found}: no stage prefers the middle of the frame "
            "beyond the noise.",
        },
    )


def class_gates(means: Mapping[str, Tensor], classes: Sequence[str], *, note: str = "") -> Figure:
    """Mean channel gate per class (rows) and channel (columns), one panel per block in two
    columns, on the gate's whole scale [0, 1] with one colour bar (``{block: (K, C)}``)."""
    cols = min(2, len(means))
    nrows = -(-len(means) // cols)
    fig, axes = plt.subplots(
        nrows,
        cols,
        figsize=style.figsize(2.6 * nrows + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    im = None
    for ax, (block, g) in zip(axes.ravel(), means.items(), strict=False):
        im = ax.imshow(
            g.numpy(), aspect="auto", cmap=MAP_CMAP, vmin=0, vmax=1, interpolation="nearest"
        )
        ax.set(title=f"{block} ({g.shape[1]} ch.)", xlabel="channel", yticks=[])
    for ax in axes[:, 0]:
        ax.set_yticks(range(len(classes)), classes)
    for ax in axes.ravel()[len(means) :]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="mean channel gate")
    return caption(fig, note) if note else fig


def specificity_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    labels: Tensor,
    num_classes: int,
    *,
    control_label: str = "the same network before training",
    resamples: int = 500,
    seed: int = 0,
) -> Verdict:
    """Are the late channel gates more class-specific than the early ones, more so than in the
    control?

    ``trained`` and ``control``: per-image channel gates ``{block: (N, C, ...)}`` on the same
    test images (``labels``: (N,)), first and last block in order. Statistic: the class spread
    of the last block over that of the first (:func:`~.probe.spread_resamples`, as SE's
    :func:`~.channel.se_verdict`). A ratio is not a mean over images, so the band is the
    half-width of the 95% interval of the difference of the two ratios over ``resamples``
    paired bootstrap resamples of the images."""
    blocks = list(trained)
    first, last = blocks[0], blocks[-1]
    pairs = {"t1": trained[first], "tn": trained[last], "c1": control[first], "cn": control[last]}
    sp = spread_resamples(pairs, labels, num_classes, resamples=resamples, seed=seed)
    ratio, ratio0 = sp["tn"] / sp["t1"], sp["cn"] / sp["c1"]  # resamples, then all images
    t, c = ratio[-1].item(), ratio0[-1].item()
    e = Evidence(
        statistic=f"class spread of {last} over {first}",
        trained=t,
        control=c,
        control_label=control_label,
        band=half_interval((ratio - ratio0)[:-1]),
        band_how=f"95% paired bootstrap over {len(labels):,} test images",
        fmt=".2f",
    )
    return Verdict(
        paper="early excitations are shared by the classes, late ones class-specific "
        "(Hu et al. 2018, SE, Sec. 7.2)",
        run=f"the spread across classes of the mean channel gate, {last} over {first}, "
        "trained and before training",
        evidence=(e,),
        words={
            True: f"The late gates are {t:.1f} times as class-specific as the early ones, "
            f"against {c:.1f} times before training: training made the late gates the more "
            "class-specific ones, as SE's paper found.",
            False: f"The late gates are {t:.1f} times as class-specific as the early ones, "
            f"against {c:.1f} times before training: training made the early gates the more "
            "class-specific ones relative to the late, against SE's finding.",
            None: f"The late gates are {t:.1f} times as class-specific as the early ones, "
            f"against {c:.1f} times before training: within the noise, so the ratio may come "
            "from the architecture and the images rather than from training.",
        },
    )


CBAM_ABLATION = {  # the paper's Tables 1-3 as the module's keywords (the default is its CBAM)
    "channel gate only": {"spatial": False},
    "spatial gate only": {"channel": False},
    "average pooling only": {"pool_types": ["avg"]},
    "3x3 spatial kernel": {"kernel_size": 3},
    "spatial, then channel": {"order": "spatial_first"},
    "parallel": {"order": "parallel"},
}


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


def scales_story(scales: Mapping[str, float], *, small: float = 0.1) -> str:
    """What the trained alpha and beta (``{"layer3.0.alpha": ..., ...}``) say, in a sentence:
    how large alpha grew (under ``small``, PAM adds next to nothing, and its query and key
    convolutions, whose gradient alpha scales, hardly train) and where beta grew most, with its
    sign (a negative beta subtracts CAM's mixture of channels)."""
    alphas = {k.removesuffix(".alpha"): v for k, v in scales.items() if k.endswith(".alpha")}
    betas = {k.removesuffix(".beta"): v for k, v in scales.items() if k.endswith(".beta")}
    a_block = max(alphas, key=lambda b: abs(alphas[b]))
    b_block = max(betas, key=lambda b: abs(betas[b]))
    a, b = alphas[a_block], betas[b_block]
    if abs(a) < small:
        pam = (
            f"alpha stays within ±{abs(a):.2f} in every block (largest at {a_block}), so "
            "position attention adds next to nothing, and its query and key convolutions, "
            "whose gradient alpha scales, hardly train"
        )
    else:
        pam = f"alpha reaches {a:+.2f} at {a_block}, so position attention adds to the features"
    if abs(b) < small:
        cam = f"beta stays within ±{abs(b):.2f} too: channel attention is barely used either"
    else:
        sign = "subtracts" if b < 0 else "adds"
        cam = (
            f"beta reaches {b:+.2f} at {b_block}: there the network {sign} {abs(b):.2f} times "
            "the channel-attention mixture"
        )
    return f"{pam[0].upper()}{pam[1:]}; {cam}."


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


def query_dependence(attn: Tensor) -> Tensor:
    """How much the position attention depends on the query, per image: the total-variation
    distance ``0.5 * sum_k |S_ik - S_jk|`` between the maps of two different query positions
    i, j, averaged over all pairs (``attn``: (N, hw, hw) on a square map, rows sum to 1): (N,).
    0: every query gathers the same context; 1: their maps share no weight. The spatial
    chapters' statistic (:func:`~.spatial.map_stats_per_image`, ``query_tv``), the same rule."""
    side = math.isqrt(attn.shape[1])
    if side * side != attn.shape[1]:
        raise ValueError(f"query_dependence needs a square map, got {attn.shape[1]} positions.")
    return map_stats_per_image(attn, (side, side))["query_tv"]


def danet_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    *,
    control_label: str = "random query and key weights",
) -> Verdict:
    """Do PAM's maps depend on the query position more than with random query and key
    projections of the same trained features?

    ``trained`` and ``control``: per-image :func:`query_dependence` ``{block: (N,)}`` on the
    same test images. One :class:`~.verdicts.Evidence` per block, with a paired bootstrap band
    over the images."""
    names = list(trained)
    evidence = tuple(
        paired_evidence(f"query dependence (TV), {b}", trained[b], control[b], control_label)
        for b in names
    )
    side = _sides(evidence, names)
    parts = []
    if side[True]:
        parts.append(f"more query-dependent than with {control_label} at {_join(side[True])}")
    if side[False]:
        parts.append(f"less query-dependent at {_join(side[False])}")
    if side[None]:
        parts.append(f"as query-dependent as the control at {_join(side[None])}")
    found = "; ".join(parts)
    return Verdict(
        paper="each position attends to positions of similar features, so different query "
        "positions get different maps (Fu et al. 2019, Fig. 4)",
        run="total-variation distance between the maps of two query positions of one image, "
        "per test image, with the trained query and key weights and with random ones on the "
        "same features",
        evidence=evidence,
        words={
            True: f"The trained maps are {found}: training made the queries look at different "
            "places.",
            False: f"The trained maps are {found}: "
            + (
                "the blocks disagree, so training did not make the queries look at different "
                "places throughout."
                if side[True]
                else "training made the maps more alike across queries than random "
                "projections leave them."
            ),
            None: f"The trained maps are {found}: how much they depend on the query is what "
            "random projections of these features already give, not something training added.",
        },
    )


def channel_affinity(
    means: Mapping[str, Tensor], *, percentile: float = 0.99, note: str = ""
) -> Figure:
    """CAM's mean weights x_ji (``{block: (C, C)}``), one panel per block, each on its own scale
    from 0 to its ``percentile`` quantile (brighter weights drawn at the top colour), with its
    own colour bar: the blocks' weights differ in size by their 1/C."""
    fig, axes = plt.subplots(
        1, len(means), figsize=style.figsize(3.0), squeeze=False, constrained_layout=True
    )
    for ax, (block, m) in zip(axes[0], means.items(), strict=True):
        top = m.flatten().double().quantile(percentile).item()
        im = ax.imshow(m.numpy(), cmap=MAP_CMAP, vmin=0, vmax=top, interpolation="nearest")
        ax.set(title=block, xlabel="channel i", ylabel="channel j")
        fig.colorbar(im, ax=ax, shrink=0.8, label="mean x_ji")
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


def ccnet_verdict(trained: Tensor, reference: Tensor, *, gamma: float) -> Verdict:
    """Does the trained module bring context from off the cross, through its second pass, more
    than the criss-cross pattern itself at the same scale?

    ``trained`` and ``reference``: per-image :func:`off_cross_shares` after two passes of the
    trained module and of :func:`uniform` (uniform weights on the cross, the trained ``gamma``)
    on the same features. The reference keeps gamma because the second pass's off-cross
    contribution grows with gamma squared and the first pass's with gamma: a reference at
    gamma 1 would measure gamma, not what the weights do with the reach."""
    e = paired_evidence(
        "off-cross share after two passes",
        trained,
        reference,
        f"uniform weights at the trained gamma {gamma:+.3f}",
        fmt=".3%",  # shares of a few hundredths of a percent: three decimals of a percent
    )
    return Verdict(
        paper="two criss-cross passes with shared weights give every position context from the "
        "whole image (Huang et al. 2019, Sec. 3.3)",
        run="share of the influence on what the block adds to a pixel that comes from off its "
        "row and column after two passes, per test image (four pixels each), trained weights "
        "against uniform ones at the same gamma",
        evidence=(e,),
        words={
            True: f"The trained weights bring {e.trained:.3%} of a pixel's context from off its "
            f"cross, against {e.control:.3%} for uniform weights at the same gamma: they use "
            "the second pass's reach more than the pattern alone does.",
            False: f"The trained weights bring {e.trained:.3%} of a pixel's context from off its "
            f"cross, against {e.control:.3%} for uniform weights at the same gamma: they "
            "concentrate on the cross, and use the second pass's reach less than the pattern "
            "alone does.",
            None: f"The trained weights bring {e.trained:.3%} of a pixel's context from off its "
            f"cross, against {e.control:.3%} for uniform weights at the same gamma: the "
            "learned weights neither add to nor take from the pattern's reach beyond the noise.",
        },
    )


# --- masks over channels and positions (residual and coordinate attention) --------------------


def variance_parts(mask: Tensor, *, per_image: bool = False) -> dict[str, float | Tensor]:
    """Two-way decomposition of masks M[n, c, h, w] per image: M = m + a_c + b_hw + e_chw, with
    a_c the channel means less the grand mean, b_hw the position means less it, e the rest.
    The three sums of squares add up to the image's total; each image's three shares of it,
    ``{"channel": ..., "position": ..., "interaction": ...}``, as (N,) tensors
    (``per_image``) or averaged over the images (an image with a constant mask is left out). A
    pure channel gate gives channel 1, a map shared by every channel position 1."""
    m = mask.double().flatten(2)  # (N, C, HW)
    grand = m.mean(dim=(1, 2), keepdim=True)  # (N, 1, 1)
    a = m.mean(dim=2, keepdim=True) - grand  # (N, C, 1)
    b = m.mean(dim=1, keepdim=True) - grand  # (N, 1, HW)
    e = m - grand - a - b  # (N, C, HW)
    ss = {
        "channel": a.square().sum(dim=(1, 2)) * m.shape[2],
        "position": b.square().sum(dim=(1, 2)) * m.shape[1],
        "interaction": e.square().sum(dim=(1, 2)),
    }  # (N,) each
    total = sum(ss.values())
    shares = {k: v / total for k, v in ss.items()}  # NaN where an image's mask is constant
    if per_image:
        return shares
    return {k: v.nanmean().item() for k, v in shares.items()}


def position_dependent(masks: Mapping[str, Tensor] | Iterable[Tensor]) -> Tensor:
    """Per image, the position-dependent share of the mask's variance (position + interaction
    in :func:`variance_parts`), averaged over the blocks (``{block: (N, C, H, W)}``, or the masks
    one at a time, e.g. from a generator, to keep one block's masks in memory at a time): (N,)."""
    shares = []
    for m in masks.values() if isinstance(masks, Mapping) else masks:
        p = variance_parts(m, per_image=True)
        shares.append(p["position"] + p["interaction"])
    return torch.stack(shares).mean(0)


def parts_table(parts: Mapping[str, Mapping[str, float]]) -> Table:
    """:func:`variance_parts` per block as a table of percentages."""
    return Table(
        ["block", "channel", "position", "inter.", "pos.-dep."],
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
        caption="Shares of each mask's variance over channels and positions, per image, "
        "averaged over the test images; inter.: interaction; pos.-dep.: position-dependent, "
        "position + interaction.",
    )


RESIDUAL_PAPER = (
    "the soft mask weighs every channel at every position: mixed attention, f1 "
    "(Wang et al. 2017, Sec. 3.3); its Table 1, where f1 beats channel-only and "
    "spatial-only masks, is not tested here"
)
COORDINATE_PAPER = (
    "the gates keep precise positional information along one direction and long-range "
    "dependencies along the other, so they vary with position, unlike SE's (Hou et al. 2021, "
    "Sec. 3.2)"
)


def mixed_verdict(
    trained: Tensor,
    control: Tensor,
    *,
    paper: str,
    control_label: str = "the same network before training",
) -> Verdict:
    """Does the learned mask weigh positions more than the untrained one does?

    ``trained`` and ``control``: per-image :func:`position_dependent` shares on the same test
    images. A pure channel gate has exactly 0 (the decomposition has no bias towards either
    part); an untrained mask already varies with position, which is why it is the control."""
    e = paired_evidence(
        "position-dependent share of the mask's variance",
        trained,
        control,
        control_label,
        fmt=".1%",
    )
    t, c = f"{e.trained:.0%}", f"{e.control:.0%}"
    return Verdict(
        paper=paper,
        run="the share of the mask's variance that depends on position (a map shared by the "
        "channels, and channel-specific maps), per test image, averaged over the blocks, "
        "trained and before training",
        evidence=(e,),
        words={
            True: f"{t} of the trained mask's variance depends on position, against {c} before "
            "training: training made the mask weigh positions as well as channels.",
            False: f"{t} of the trained mask's variance depends on position, against {c} before "
            "training: training moved the mask towards a channel gate; the variation over "
            "positions it keeps is less than the untrained network already had.",
            None: f"{t} of the trained mask's variance depends on position, against {c} before "
            "training: within the noise, so the mask's variation over positions is what the "
            "architecture gives untrained, not something training added.",
        },
    )


def coordinate_gates(maps: Mapping[str, Tensor], block: str) -> tuple[Tensor, Tensor, Tensor]:
    """Coordinate attention's height gates (N, C, H), width gates (N, C, W) and the gate they
    make together (N, C, H, W), from the captured ``tap_h`` and ``tap_w`` weights of ``block``."""
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
    """Per image (rows): the photo; beside it the product a_h a_w averaged over channels, on
    the gate's scale [0, 1] with a colour bar; then the height and width gates of the ``top``
    channels whose product varies most (thin) and their mean over channels (thick)."""
    fig, axes = plt.subplots(
        len(images),
        4,
        figsize=style.figsize(1.5 * len(images) + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    im = None
    for i in range(len(images)):
        product = a_h[i][:, :, None] * a_w[i][:, None, :]  # (C, H, W)
        chosen = product.flatten(1).std(1).topk(min(top, len(product))).indices
        axes[i, 0].imshow(to_rgb(images[i])[0])
        axes[i, 0].set(xticks=[], yticks=[])
        if i < len(titles):
            axes[i, 0].set_ylabel(titles[i])
        im = axes[i, 1].imshow(
            product.mean(0).numpy(), cmap=MAP_CMAP, vmin=0, vmax=1, interpolation="nearest"
        )
        axes[i, 1].set(xticks=[], yticks=[])
        for ax, g in ((axes[i, 2], a_h[i]), (axes[i, 3], a_w[i])):
            ax.plot(g[chosen].T.numpy(), lw=1)
            ax.plot(g.mean(0).numpy(), lw=2.5, color="k", label="mean")
            ax.set(ylim=(0, 1), yticks=[0, 1])
            ax.grid(alpha=0.3)
    axes[0, 1].set_title("a_h a_w")
    axes[0, 2].set_title("a_h")
    axes[0, 3].set_title("a_w")
    axes[-1, 2].set_xlabel("row")
    axes[-1, 3].set_xlabel("column")
    fig.colorbar(im, ax=axes[:, 1].tolist(), location="bottom", label="mean gate")
    return caption(fig, note) if note else fig
