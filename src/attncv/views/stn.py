"""What a spatial transformer learned: where its window goes, against where the object was.

The spatial-transformer chapter puts every image at a random place (and size) on a larger canvas
(:func:`attncv.data.distorted.on_canvas`, which returns each test image's placement) and lets a
transformer choose a glimpse of it. :func:`transforms` reads the transforms theta it chose for the
test images; :func:`recovery` correlates them with the placements (does the window's centre follow
the object's? its side the object's size?); :func:`glimpses` shows canvas, window and glimpse side
by side (:func:`to_uint8` turns a normalised glimpse back into an image), :func:`warps` rows of
images and their warps; :func:`recovery_plot` plots predicted against true. The verdicts, on two
training seeds each, judge the learned window against its localisation network re-drawn at the
trained scales (:func:`attncv.train.stn_controls.redrawn_locators`): :func:`where_verdict` (the
distance from the window's centre to the object's) and :func:`scale_verdict` (the slope of the
window's side on the object's, :func:`slopes`); :func:`window_checks` shows both statistics on
hand-set windows first. The accuracy comparisons are in :mod:`attncv.views.stn_accuracy`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import Tensor, nn

from ..attention import capture
from ..data import CifarData
from ..model import count_macs, count_params
from ..train import FitResult
from ..train.speed import throughput
from . import style
from .bands import half_interval
from .evidence_words import REDRAWN_LOCATOR, WINDOW_AT_START, count_of, drawn, draws_band_how
from .plots import caption, provenance, to_rgb
from .tables import Table
from .verdicts import MIXED, Evidence, Verdict

PARAMETERS = ("x", "y", "scale")  # what a placement holds: centre x, centre y, side


@torch.no_grad()
def transforms(
    model: nn.Module, data: CifarData, *, batch_size: int = 500, images: int | None = None
) -> Tensor:
    """The transforms theta (N, 2, 3) that ``model``'s spatial transformer chose for every test
    image of ``data`` (or the first ``images`` of them), in order (the model is put in eval mode
    for the pass)."""
    if images is not None and images < 1:
        raise ValueError(f"images must be at least 1, got {images}.")
    was_training = model.training
    model.eval()
    seen = 0
    with capture(model, "affine") as maps:
        for x, _ in data.batches("test", batch_size, shuffle=False, augmented=False):
            if images is not None and seen >= images:
                break
            model(x if images is None else x[: images - seen])
            seen += len(x)
    model.train(was_training)
    (theta,) = maps.values()
    return theta


def _pearson(a: Tensor, b: Tensor) -> float:
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    denominator = (a.norm() * b.norm()).item()
    return float((a * b).sum().item() / denominator) if denominator > 0 else float("nan")


def recovery(theta: Tensor, placements: Tensor) -> dict[str, float]:
    """Pearson's r between each distortion parameter and the transformer's correction for it,
    over the test images: the window's centre (tx, ty) against the object's centre, and the
    window's side (sqrt |det A|) against the object's side. 1 = the window follows the object
    exactly (up to a linear map), 0 = it ignores it."""
    theta, placements = theta.detach().cpu(), placements.detach().cpu()
    side = torch.linalg.det(theta[:, :, :2]).abs().sqrt()
    ours = {"x": theta[:, 0, 2], "y": theta[:, 1, 2], "scale": side}
    return {p: _pearson(ours[p], placements[:, i]) for i, p in enumerate(PARAMETERS)}


def recovery_lines(rec: dict[str, float]) -> str:
    """One line per distortion parameter: ``<parameter> recovery: r = <value>``."""
    return "\n".join(f"{p} recovery: r = {rec[p]:.2f}" for p in PARAMETERS if p in rec)


def window_sides(theta: Tensor) -> Tensor:
    """The windows' sides (N,), as fractions of the canvas: sqrt |det A|."""
    return torch.linalg.det(theta.detach().cpu().double()[:, :, :2]).abs().sqrt()


def centred(n: int, side: float) -> Tensor:
    """``n`` transforms (n, 2, 3) of a window of ``side`` fixed at the canvas centre."""
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = theta[:, 1, 1] = side
    return theta


def centre_distances(theta: Tensor, placements: Tensor, canvas: int) -> Tensor:
    """Per test canvas (N,): the distance from the window's centre to the object's, in canvas
    pixels (normalised coordinates span ``canvas / 2`` pixels per unit)."""
    theta, placements = theta.detach().cpu().double(), placements.detach().cpu().double()
    dx, dy = theta[:, 0, 2] - placements[:, 0], theta[:, 1, 2] - placements[:, 1]
    return torch.hypot(dx, dy) * canvas / 2


PAPER = "Jaderberg et al. 2015, Sec. 4.1, Fig. 3"
# the control of train.stn_controls.redrawn_locators (the STN chapter's own: no gate, no query/key)


def slopes(sides: Tensor, objects: Tensor) -> Tensor:
    """The least-squares slope of the window's side on the object's side over the N test
    canvases: sides (..., N), objects (N,) -> (...). 1: the window grows pixel for pixel with
    the object; 0: its side does not follow the object."""
    x = objects.detach().cpu().double()
    y = sides.detach().cpu().double()
    x = x - x.mean()
    return (y * x).sum(-1) / (x * x).sum()


def slope_band(
    trained: Tensor, controls: Tensor, objects: Tensor, *, resamples: int = 2000, seed: int = 0
) -> float:
    """Half the width of the central 95% bootstrap interval of ``slope(trained) - mean over
    draws of slope(control)``: trained sides (N,), the control's (D, N), objects' sides (N,);
    each resample draws the N canvases (the same for both sides) and the D draws with
    replacement, as :func:`~.bands.draws_band` does for means."""
    t, c = trained.detach().cpu().double(), controls.detach().cpu().double()
    x = objects.detach().cpu().double()
    (d, n), gen = c.shape, torch.Generator().manual_seed(seed)
    units = torch.zeros(resamples, n, dtype=torch.float64)
    units.scatter_add_(
        1,
        torch.randint(n, (resamples, n), generator=gen),
        torch.ones(resamples, n, dtype=torch.float64),
    )
    draws = torch.zeros(resamples, d, dtype=torch.float64)
    draws.scatter_add_(
        1,
        torch.randint(d, (resamples, d), generator=gen),
        torch.ones(resamples, d, dtype=torch.float64),
    )
    u = units / n  # (R, N): each canvas's weight in a resample
    mx = u @ x  # (R,)
    var = u @ (x * x) - mx**2

    def slope(y: Tensor) -> Tensor:  # y (K, N) -> (R, K)
        return (u @ (y * x).T - mx[:, None] * (u @ y.T)) / var[:, None]

    stats = slope(t[None])[:, 0] - (slope(c) * draws).sum(1) / d
    return half_interval(stats)


def _per_seed(values: Sequence[float], fmt: str) -> str:
    return "; ".join(f"seed {i}: {v:{fmt}}" for i, v in enumerate(values))


def where_verdict(
    trained: Sequence[Tensor],
    controls: Sequence[Sequence[Tensor]],
    placements: Tensor,
    *,
    canvas: int,
    start: float,
) -> Verdict:
    """Does the learned window find the object? Per training seed, the distance from the
    window's centre to the object's on every test canvas (:func:`centre_distances`): the trained
    windows ``trained`` (one theta (N, 2, 3) per seed) against the same seed's control, the
    localisation network re-drawn at the trained scales (``controls``: per seed, one theta per
    draw; :func:`attncv.train.stn_controls.redrawn_locators`), with a 95% band over canvases and
    draws (:meth:`~.evidence.Evidence.over_draws`). Holds only if every seed holds; mixed if
    seeds point opposite ways. The window at its ``start`` (centred) is the second line, in the
    run's words."""
    if len(trained) != len(controls) or not trained:
        raise ValueError(
            f"where_verdict needs one control per seed: {len(trained)} trained, "
            f"{len(controls)} controls."
        )
    label = drawn(REDRAWN_LOCATOR, len(controls[0]))
    evidence = tuple(
        Evidence.over_draws(
            f"distance from window centre to object centre (px), seed {i}",
            centre_distances(t, placements, canvas),
            torch.stack([centre_distances(th, placements, canvas) for th in c]),
            label,
            expected="below",
            fmt=".1f",
        )
        for i, (t, c) in enumerate(zip(trained, controls, strict=True))
    )
    at_start = centre_distances(centred(len(placements), start), placements, canvas).mean()
    pairs = "; ".join(
        f"seed {i}: {e.trained:.1f} px against {e.control:.1f} px" for i, e in enumerate(evidence)
    )
    every = "both seeds" if len(evidence) == 2 else f"all {len(evidence)} seeds"
    second = f"{WINDOW_AT_START}, centred, lies {at_start:.1f} px from the objects"
    return Verdict(
        paper="a transformer learns from the classification loss alone to find the object on "
        f"a canvas and centre its window on it ({PAPER})",
        run=f"the window's centre lies {pairs} for {label}; {second}.",
        evidence=evidence,
        words={
            True: f"On {every}, training placed the window nearer the objects than {label} "
            f"beyond the band ({pairs}).",
            None: f"The window does not lie nearer the objects than {label} beyond the band "
            f"on {every} alike ({pairs}).",
            False: f"On {every}, the window ended farther from the objects than {label} "
            f"beyond the band ({pairs}).",
            MIXED: f"The seeds disagree: one window ended nearer the objects than {label}, "
            f"another farther ({pairs}).",
        },
    )


def scale_verdict(
    trained: Sequence[Tensor],
    controls: Sequence[Sequence[Tensor]],
    placements: Tensor,
    *,
    canvas: int,
) -> Verdict:
    """Does the window's side follow the object's (the attention transform's scale)? Per
    training seed, the slope of the window's side on the object's side over the test canvases
    (:func:`slopes`: 1 pixel for pixel, 0 not at all), trained against the same seed's
    re-drawn localisation networks (as :func:`where_verdict`), whose sides vary as much around
    the same size but follow nothing they were taught; band :func:`slope_band`."""
    if len(trained) != len(controls) or not trained:
        raise ValueError(
            f"scale_verdict needs one control per seed: {len(trained)} trained, "
            f"{len(controls)} controls."
        )
    obj = placements.detach().cpu().double()[:, 2] * canvas  # px
    draws = len(controls[0])
    label = drawn(REDRAWN_LOCATOR, draws)
    evidence, spreads = [], []
    for i, (t, c) in enumerate(zip(trained, controls, strict=True)):
        side = window_sides(t) * canvas  # (N,) px
        sides = torch.stack([window_sides(th) for th in c]) * canvas  # (D, N) px
        spreads.append(f"{side.mean():.1f} ± {side.std():.1f} px")
        evidence.append(
            Evidence(
                statistic=f"slope of the window's side on the object's side, seed {i}",
                trained=slopes(side, obj).item(),
                control=slopes(sides, obj).mean().item(),
                control_label=label,
                band=slope_band(side, sides, obj),
                band_how=draws_band_how(len(obj), "test canvases", draws),
            )
        )
    pairs = "; ".join(
        f"seed {i}: {e.trained:.3f} against {e.control:.3f}" for i, e in enumerate(evidence)
    )
    sizes = (
        f"the window's side is {' and '.join(spreads)} (mean ± sd, by seed) for objects of "
        f"{obj.min():.0f}-{obj.max():.0f} px"
    )
    every = "both seeds" if len(evidence) == 2 else f"all {len(evidence)} seeds"
    return Verdict(
        paper="the attention transform also scales: the window's side can follow the object's "
        f"size and present it enlarged ({PAPER})",
        run=f"slope of the window's side on the object's: {pairs} for {label}; {sizes}.",
        evidence=tuple(evidence),
        words={
            True: f"On {every}, the window's side follows the object's more than {label} "
            f"beyond the band (slopes {pairs}).",
            None: f"The window's side does not follow the object's beyond the band of {label} "
            f"on {every} alike (slopes {pairs}; {sizes}).",
            False: f"On {every}, the window's side follows the object's less than {label} "
            f"beyond the band (slopes {pairs}).",
            MIXED: f"The seeds disagree: one window's side follows the object's more than "
            f"{label}, another less (slopes {pairs}).",
        },
    )


def window_checks(canvases: Tensor, placements: Tensor, *, canvas: int, side: float) -> Table:
    """Both window statistics on hand-set windows over the test canvases (uint8 (N, 3, S, S)),
    before they judge a learned one: the distance to the object's centre (px, mean) and the
    slope of the side on the object's. A window centred on the object and sized to it (the
    positive control: 0 px, slope 1); the window at its start (centred, of ``side``: the null);
    a window of ``side`` at the canvas's centre of brightness (contrast only: on a black canvas
    the object is all the brightness, so contrast alone finds it, which is what the re-drawn
    control's heat map may follow too)."""
    n = len(placements)
    p = placements.detach().cpu().double()
    oracle = centred(n, 0.0)
    oracle[:, 0, 0] = oracle[:, 1, 1] = p[:, 2]
    oracle[:, :, 2] = p[:, :2]
    grey = canvases.detach().cpu().double().sum(1)  # (N, S, S)
    coords = (torch.arange(grey.shape[-1], dtype=torch.float64) + 0.5) / grey.shape[-1] * 2 - 1
    mass = grey.sum((1, 2)).clamp_min(1e-9)
    bright = centred(n, side)
    bright[:, 0, 2] = (grey.sum(1) * coords).sum(1) / mass  # x: over columns
    bright[:, 1, 2] = (grey.sum(2) * coords).sum(1) / mass  # y: over rows
    rows = []
    for name, theta in (
        ("centred on the object, sized to it (positive control)", oracle),
        (f"{WINDOW_AT_START}, centred (null)", centred(n, side)),
        ("at the canvas's centre of brightness (contrast only)", bright),
    ):
        distance = centre_distances(theta, placements, canvas).mean().item()
        slope = slopes(window_sides(theta), p[:, 2]).item()
        rows.append([name, f"{distance:.1f}", f"{slope:.2f}"])
    return Table(
        ["window", "distance to object centre (px)", "slope of side on object side"],
        rows,
        caption=f"{count_of(n, 'test canvas', 'test canvases')}; windows of {side * canvas:.0f} "
        "px where not sized to the object.",
    )


def canvas_curves(results: Sequence[FitResult], *, note: str = "") -> Figure:
    """Test accuracy (solid) and train accuracy (dashed) per epoch of the canvas runs, with
    ``note`` (what the curves show) and their provenance in the caption."""
    fig, ax = plt.subplots(figsize=style.figsize(3.4), constrained_layout=True)
    for r in results:
        epochs = r.curve("epoch")
        (line,) = ax.plot(
            epochs, [100 * a for a in r.curve("test_acc")], marker=".", label=f"{r.name}"
        )
        ax.plot(epochs, [100 * a for a in r.curve("train_acc")], ls="--", color=line.get_color())
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Test (solid) and train (dashed)")
    ax.grid(alpha=0.3)
    ax.legend()
    text = f"{note} {provenance(results)}" if note else provenance(results)
    return caption(fig, text)


def glimpses(
    canvases: Tensor,
    glimpsed: Tensor,
    originals: Tensor,
    theta: Tensor,
    *,
    labels: list[str] | None = None,
    source: str = "",
) -> Figure:
    """One column per test image: the canvas with the transformer's window drawn on it, the
    glimpse the classifier sees, and the original image. uint8 images; theta (n, 2, 3)."""
    n, size = len(canvases), canvases.shape[-1]
    side = min(1.2, (style.MAX_WIDTH - 0.6) / n)
    fig, axes = plt.subplots(
        3,
        n,
        figsize=style.figsize(3 * side + 1.0, side * n + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    for i in range(n):
        s, tx, ty = theta[i, 0, 0].item(), theta[i, 0, 2].item(), theta[i, 1, 2].item()
        left, top = (tx - s + 1) * size / 2 - 0.5, (ty - s + 1) * size / 2 - 0.5  # pixels
        axes[0, i].imshow(to_rgb(canvases[i])[0])
        axes[0, i].add_patch(
            Rectangle((left, top), s * size, s * size, fill=False, color="#ff3b30", lw=1.8)
        )
        axes[1, i].imshow(to_rgb(glimpsed[i])[0])
        axes[2, i].imshow(to_rgb(originals[i])[0])
        if labels:
            axes[0, i].set_title(labels[i])
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    for row, text in enumerate(("canvas", "glimpse", "image")):
        axes[row, 0].set_ylabel(text)
    return caption(fig, source) if source else fig


def recovery_plot(theta: Tensor, placements: Tensor, *, source: str = "") -> Figure:
    """Predicted against true, one point per test image: the window's centre x and y against the
    object's, and the window's side against the object's (all as fractions of the canvas)."""
    theta, placements = theta.detach().cpu(), placements.detach().cpu()
    rec = recovery(theta, placements)
    side = torch.linalg.det(theta[:, :, :2]).abs().sqrt()
    pairs = {
        "x": (placements[:, 0], theta[:, 0, 2], "object x", "window x"),
        "y": (placements[:, 1], theta[:, 1, 2], "object y", "window y"),
        "scale": (placements[:, 2], side, "object side", "window side"),
    }
    fig, axes = plt.subplots(1, 3, figsize=style.figsize(2.9), constrained_layout=True)
    for ax, (name, (true, predicted, xlabel, ylabel)) in zip(axes, pairs.items(), strict=True):
        ax.scatter(true.numpy(), predicted.numpy(), s=4, alpha=0.35)
        lo = min(true.min().item(), predicted.min().item())
        hi = max(true.max().item(), predicted.max().item())
        ax.plot([lo, hi], [lo, hi], color="0.4", ls="--", lw=1, label="window = object")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=f"{name}: r = {rec[name]:.2f}")
        ax.locator_params(nbins=3)
        ax.grid(alpha=0.3)
    fig.suptitle("Window against object")
    return caption(fig, f"Dashed: window = object. {source}".strip())


def cost_table(
    networks: dict[str, Callable[..., nn.Module]], *, width: int, canvas: int = 64
) -> Table:
    """Parameters and MACs at the paper's width (64) for a ``canvas`` x ``canvas`` input, and
    training images/s on this machine at ``width``, of networks built as ``make(10, width=w,
    ...)`` (10 classes), as a :class:`~attncv.views.tables.Table`."""
    rows = []
    for name, make in networks.items():
        full, narrow = make(10, width=64), make(10, width=width)
        speed = throughput(narrow, batch_size=32, steps=3, warmup=1, image_size=canvas)
        rows.append(
            [
                name,
                f"{count_params(full):,}",
                f"{count_macs(full, (1, 3, canvas, canvas)) / 1e9:.3f}",
                f"{speed.train:,.0f}",
            ]
        )
    return Table(
        ["network", "params (width 64)", "MACs (G, width 64)", f"train img/s (width {width})"],
        rows,
        caption=(
            f"10 classes, {canvas}x{canvas} canvases; speed on {speed.device}, batch 32, "
            f"{speed.precision}."
        ),
    )


def to_uint8(images: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """Normalised float (N, 3, H, W) back to uint8 images (the inverse of ``normalize``)."""
    m = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return ((images.float() * s + m) * 255).round().clamp(0, 255).to(torch.uint8)


def warps(
    rows: Mapping[str, Tensor], *, title: str = "", source: str = "", size: float = 1.25
) -> Figure:
    """One row of uint8 (n, 3, H, W) images per entry (e.g. inputs, then their warped versions),
    each image ``size`` inches wide."""
    n = len(next(iter(rows.values())))
    size = min(size, (style.MAX_WIDTH - 0.6) / n)
    fig, axes = plt.subplots(
        len(rows),
        n,
        figsize=style.figsize((size + 0.15) * len(rows) + 0.5, size * n + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    for r, (label, images) in enumerate(rows.items()):
        for i in range(n):
            axes[r, i].imshow(to_rgb(images[i])[0])
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(label)
    if title:
        fig.suptitle(title)
    return caption(fig, source) if source else fig
