"""What a spatial transformer learned: where its window goes, against where the object was.

The spatial-transformer chapter puts every image at a random place (and size) on a larger canvas
(:func:`attncv.data.distorted.on_canvas`, which returns each test image's placement) and lets a
transformer choose a glimpse of it. :func:`transforms` reads the transforms theta it chose for the
test images; :func:`recovery` correlates them with the placements (does the window's centre follow
the object's? its side the object's size?); :func:`glimpses` shows canvas, window and glimpse side
by side; :func:`recovery_plot` plots predicted against true; :func:`stn_verdict` compares with the
paper's observation.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import Tensor, nn

from ..attention import capture
from ..data import CifarData
from ..model import count_macs, count_params
from ..train.speed import throughput
from .plots import caption, to_rgb
from .tables import Table
from .verdicts import Verdict, judge

PARAMETERS = ("x", "y", "scale")  # what a placement holds: centre x, centre y, side


@torch.no_grad()
def transforms(model: nn.Module, data: CifarData, *, batch_size: int = 500) -> Tensor:
    """The transforms theta (N, 2, 3) that ``model``'s spatial transformer chose for every test
    image of ``data``, in order (the model is put in eval mode for the pass)."""
    was_training = model.training
    model.eval()
    with capture(model, "affine") as maps:
        for x, _ in data.batches("test", batch_size, shuffle=False, augmented=False):
            model(x)
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


def stn_verdict(rec: dict[str, float], stn_acc: float, plain_acc: float) -> Verdict:
    """The paper's observation (Jaderberg et al. 2015, Sec. 4.1 and Fig. 3: on cluttered and
    translated digits the transformer learns, from the classification loss alone, to find the
    object and present it centred and enlarged, and the classifier behind it wins) against this
    run's.

    The statistic is the smaller of the x and y recoveries: it holds above 0.8 (the window follows
    the object), the opposite below 0.2 (it ignores it), in between too weak to tell. The accuracy
    difference and the scale recovery are reported beside it.
    """
    worst = min(rec["x"], rec["y"])
    holds = judge(worst, expected="above", neutral=0.5, band=0.3)
    run = (
        f"the window's centre follows the object's with r = {rec['x']:.2f} (x) and "
        f"{rec['y']:.2f} (y); its side follows the object's size with r = {rec['scale']:.2f}; "
        f"the classifier behind it reaches {stn_acc:.1%} against the plain network's "
        f"{plain_acc:.1%} ({100 * (stn_acc - plain_acc):+.1f} points)"
    )
    paper = (
        "a transformer learns from the classification loss alone to find the object on a "
        "cluttered canvas and present it centred and enlarged, and the classifier behind it "
        "beats the plain one (Jaderberg et al. 2015, Sec. 4.1, Fig. 3)"
    )
    return Verdict(paper, run, holds)


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
    fig, axes = plt.subplots(
        3, n, figsize=(1.6 * n + 0.8, 5.2), squeeze=False, constrained_layout=True
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
            axes[0, i].set_title(labels[i], fontsize=9)
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    for row, text in enumerate(("canvas and window", "what ResNet-18 sees", "the image itself")):
        axes[row, 0].set_ylabel(text, fontsize=9)
    return caption(fig, source) if source else fig


def recovery_plot(theta: Tensor, placements: Tensor, *, source: str = "") -> Figure:
    """Predicted against true, one point per test image: the window's centre x and y against the
    object's, and the window's side against the object's (all as fractions of the canvas)."""
    theta, placements = theta.detach().cpu(), placements.detach().cpu()
    rec = recovery(theta, placements)
    side = torch.linalg.det(theta[:, :, :2]).abs().sqrt()
    pairs = {
        "x": (placements[:, 0], theta[:, 0, 2], "object centre x", "window centre x"),
        "y": (placements[:, 1], theta[:, 1, 2], "object centre y", "window centre y"),
        "scale": (placements[:, 2], side, "object side / canvas", "window side / canvas"),
    }
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
    for ax, (name, (true, predicted, xlabel, ylabel)) in zip(axes, pairs.items(), strict=True):
        ax.scatter(true.numpy(), predicted.numpy(), s=4, alpha=0.35)
        lo = min(true.min().item(), predicted.min().item())
        hi = max(true.max().item(), predicted.max().item())
        ax.plot([lo, hi], [lo, hi], color="0.4", ls="--", lw=1, label="window = object")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=f"{name}: r = {rec[name]:.2f}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Where the transformer looks, against where the object is", fontsize=10)
    return caption(fig, source) if source else fig


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
