"""What a spatial transformer learned: where its window goes, against where the object was.

The spatial-transformer chapter puts every image at a random place (and size) on a larger canvas
(:func:`attncv.data.distorted.on_canvas`, which returns each test image's placement) and lets a
transformer choose a glimpse of it. :func:`transforms` reads the transforms theta it chose for the
test images; :func:`recovery` correlates them with the placements (does the window's centre follow
the object's? its side the object's size?); :func:`glimpses` shows canvas, window and glimpse side
by side (:func:`to_uint8` turns a normalised glimpse back into an image), :func:`warps` rows of
images and their warps; :func:`recovery_plot` plots predicted against true; :func:`where_verdict`,
:func:`scale_verdict` and :func:`accuracy_verdict` compare with the paper's observation against
controls (a window fixed at the canvas centre, the window at its start, the same network behind a
fixed window); :func:`canvas_seed_band` is the canvas task's own seed band, from the plain
network's accuracies over seeds.
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
from ..train.noise import LEVEL, Noise
from ..train.speed import throughput
from . import style
from .evidence_words import (
    FIXED_WINDOW,
    OBJECT_SIDES,
    PLAIN_NETWORK,
    band_how,
    count_of,
    standard_error_how,
    window_at_start,
)
from .plots import caption, provenance, to_rgb
from .tables import Table
from .verdicts import Evidence, Verdict

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


def _sd_band(a: Tensor, b: Tensor, *, resamples: int = 2000, seed: int = 0) -> float:
    """Half the width of the central 95% bootstrap interval of ``sd(a) - sd(b)``, resampling
    the units (test canvases) of both together."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(a), (resamples, len(a)), generator=gen)
    diff = a.double()[idx].std(1) - b.double()[idx].std(1)
    lo, hi = torch.quantile(diff, torch.tensor([0.025, 0.975], dtype=diff.dtype))
    return float(hi - lo) / 2


PAPER = "Jaderberg et al. 2015, Sec. 4.1, Fig. 3"


def where_verdict(theta: Tensor, placements: Tensor, *, canvas: int) -> Verdict:
    """Does the learned window find the object? Per test canvas, the distance from the window's
    centre to the object's, against a window fixed at the canvas centre (the control: a glimpse
    that finds nothing), with a paired 95% bootstrap band over the canvases. Pearson's r of the
    centre's x and y with the object's (:func:`recovery`) are reported beside it."""
    n = len(theta)
    d = centre_distances(theta, placements, canvas)
    d0 = centre_distances(centred(n, 0.5), placements, canvas)
    ev = Evidence.paired(
        "distance from window centre to object centre (px)",
        d,
        d0,
        FIXED_WINDOW,
        units="test canvases",
        expected="below",
        fmt=".1f",
    )
    rec = recovery(theta, placements)
    follows = f"r = {rec['x']:.2f} for x and {rec['y']:.2f} for y"
    pair = f"{ev.trained:.1f} px on average, against {ev.control:.1f} px"
    return Verdict(
        paper="a transformer learns from the classification loss alone to find the object on "
        f"a cluttered canvas and centre its window on it ({PAPER})",
        run=f"the window's centre lies {pair} for {FIXED_WINDOW}; it "
        f"follows the object's centre with {follows}.",
        evidence=(ev,),
        words={
            True: f"The window found the objects: its centre lies {pair} for a centred window, "
            f"and follows the object's place with {follows}.",
            None: f"The window does not find the objects better than a centred one: {pair} "
            f"({follows}).",
            False: f"The window ended farther from the objects than a centred one: {pair} "
            f"({follows}).",
        },
    )


def scale_verdict(theta: Tensor, placements: Tensor, *, canvas: int, start: float) -> Verdict:
    """Does the window's side follow the object's size (the attention transform's scale)? Two
    comparisons over the test canvases, each with a paired 95% bootstrap band: the spread (sd)
    of the window's side against the objects' (a window sized to the object varies at least as
    much as the objects), and the zoom, window side over object side, against the window at its
    ``start`` side (a window that closes in on the object shows it larger than its start)."""
    n = len(theta)
    side = window_sides(theta) * canvas  # px
    obj = placements.detach().cpu().double()[:, 2] * canvas  # px
    spread = Evidence(
        statistic="spread (sd) of the window's side (px)",
        trained=side.std().item(),
        control=obj.std().item(),
        control_label=OBJECT_SIDES,
        band=_sd_band(side, obj),
        band_how=band_how(n, "test canvases"),
        fmt=".1f",
    )
    zoom, zoom0 = side / obj, start * canvas / obj
    ratio = Evidence.paired(
        "window side / object side",
        zoom,
        zoom0,
        window_at_start(start * canvas),
        units="test canvases",
        expected="below",
        fmt=".3f",  # the window barely moves: two decimals would print -0.00 +- 0.00
    )
    r = recovery(theta, placements)["scale"]
    sizes = (
        f"the window's side is {side.mean():.1f} ± {side.std():.1f} px (mean ± sd) for objects "
        f"of {obj.min():.0f}-{obj.max():.0f} px (sd {obj.std():.1f})"
    )
    moved = f"{side.mean() - start * canvas:+.2f} px from its start of {start * canvas:.0f} px"
    not_recovered = (
        f"Scale is not recovered: {sizes}; it moved {moved}, so the classifier sees each "
        f"object at about its size on the canvas. The side's r = {r:.2f} with the object's "
        f"is a correlation within a spread of {side.std():.1f} px."
    )
    return Verdict(
        paper="the attention transform also scales: the window can close in on the object and "
        f"present it enlarged ({PAPER})",
        run=f"{sizes}; it moved {moved}; r = {r:.2f} between the window's and the object's side.",
        evidence=(spread, ratio),
        words={
            True: f"The window's side follows the objects' size and closes in on them: {sizes}.",
            None: not_recovered,
            False: not_recovered,
        },
    )


def canvas_band(noise: Noise, accuracies: Sequence[float], n_test: int) -> tuple[float, str]:
    """The band of a difference of two single-seed accuracies on the canvas task: the larger of
    ``sqrt(2)`` x the baseline's seed sd (measured on CIFAR, the only seed noise measured) and
    the test-image standard error of a difference on ``n_test`` canvases; and which it is."""
    p = min(max(sum(accuracies) / len(accuracies), 1 / n_test), 1 - 1 / n_test)
    se = (2 * p * (1 - p) / n_test) ** 0.5
    seeds = noise.band()
    if seeds >= se:
        return seeds, noise.how()
    return se, standard_error_how(n_test, "test canvases", difference=True)


def canvas_seed_band(
    accuracies: Sequence[float],
    seeds: Sequence[int],
    *,
    runs_a: int = 1,
    runs_b: int | None = None,
    level: float = LEVEL,
) -> tuple[float, str]:
    """The canvas task's own seed noise: the plain network's final test accuracies on the
    canvases, one per seed of ``seeds`` (at least two), give the ``level`` (95%) band of a
    difference of a mean of ``runs_a`` runs and one of ``runs_b`` (by default a single run
    against the mean of these seeds; ``runs_b=1`` for two single runs), with Student's t at the
    seeds' degrees of freedom (:meth:`~attncv.train.noise.Noise.band`). Returns the band and its
    words, :meth:`~attncv.train.noise.Noise.how`'s, naming the plain network's canvas seeds in
    place of the CIFAR baseline's."""
    seeds_text = f"{count_of(len(seeds), 'seed')} ({', '.join(map(str, seeds))})"
    noise = Noise(
        tuple(float(a) for a in accuracies),
        tuple(seeds),
        "canvas task",
        source=f"{PLAIN_NETWORK}, {seeds_text} on canvases",
    )
    runs_b = len(noise.seeds) if runs_b is None else runs_b
    return noise.band(runs_a, runs_b, level=level), noise.how(runs_a, runs_b, level=level)


def accuracy_verdict(
    glimpse: float, fixed: float, plain: float, *, noise: Noise, n_test: int
) -> Verdict:
    """The classifier behind the learned window against the plain network (the paper's
    comparison) and against the same network behind a fixed centred window of the same side
    (what finding the object is worth, apart from reading at the glimpse's resolution). One
    seed per arm; the band is :func:`canvas_band`."""
    band, how = canvas_band(noise, (glimpse, fixed, plain), n_test)

    def evidence(label: str, reference: float) -> Evidence:
        return Evidence(
            statistic="final test accuracy, learned window",
            trained=glimpse,
            control=reference,
            control_label=label,
            band=band,
            band_how=how,
            fmt=".1%",
        )

    over_plain = evidence(PLAIN_NETWORK, plain)
    over_fixed = evidence(FIXED_WINDOW, fixed)
    parts = (
        f"the learned window ends {(glimpse - plain) * 100:+.1f} points against the plain "
        f"network; of these, reading at the glimpse's resolution through a fixed centred window "
        f"gives {(fixed - plain) * 100:+.1f} and finding the object "
        f"{(glimpse - fixed) * 100:+.1f} points (band ±{band * 100:.1f} points, one seed per arm)"
    )
    return Verdict(
        paper="the classifier behind the transformer beats the plain one, because the "
        f"transformer finds the object and presents it centred and enlarged ({PAPER})",
        run=f"test accuracy {glimpse:.1%} behind the learned window, {fixed:.1%} behind a "
        f"fixed centred window of the same side, {plain:.1%} for the plain network.",
        evidence=(over_plain, over_fixed),
        words={
            True: f"Finding the object paid beyond the noise: {parts}.",
            None: f"Not beyond the noise of single runs on both counts: {parts}.",
            False: f"The learned window did worse than a control beyond the noise: {parts}.",
        },
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
