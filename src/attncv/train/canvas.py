"""Training where the answer is known: an object at a known place on a canvas.

CIFAR's objects fill and centre their images, so a map or gate on CIFAR cannot say whether a
module looks *at the object*. The spatial transformer's canvases can: every image is shrunk to
16-24 pixels and put at a random place on a black 64x64 canvas
(:func:`attncv.data.distorted.on_canvas`), and the object's box is known.
:func:`canvas_task` builds the canvases; :func:`train_on_canvas` trains ResNet-18 with the
module behind a downscale of the canvas to 32x32 (:class:`attncv.model.Downscale`: the object
then covers 8-12 pixels), with the profile's recipe (:func:`canvas_epochs` on a CPU);
:func:`untrained_on_canvas` is the network it starts from, the control for gates. What the
trained network weighs on the object, and the verdict, are in :mod:`attncv.views.objects`.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..attention import registry
from ..data import CifarData
from ..data.distorted import on_canvas
from ..model import Downscale, resnet18
from .controls import calibrated
from .loop import fit, set_seed
from .profiles import Profile
from .result import FitResult

CANVAS = 64  # pixels: the spatial transformer's canvas
OBJECT_SIZES = (16, 24)  # pixels: each image's side on the canvas
VIEW = 32  # pixels: the canvas is downscaled to this before the ResNet
CPU_EPOCHS = 6  # a CPU's brief run: one canvas run must fit a chapter's five minutes


def canvas_task(data: CifarData, *, seed: int = 0) -> tuple[CifarData, Tensor]:
    """``data`` on 64x64 canvases (fresh placements per training batch, the test canvases
    placed once from ``seed``) and the test objects' placements (N, 3): centre x, y in
    normalised canvas coordinates (-1 to 1) and side, as a fraction of the canvas."""
    return on_canvas(data, size=CANVAS, object_sizes=OBJECT_SIZES, seed=seed)


def canvas_epochs(profile: Profile) -> int:
    """The epochs of a canvas run: the profile's, except a CPU's brief run (:data:`CPU_EPOCHS`),
    where a chapter must stay within five minutes with its CIFAR run and this one."""
    if profile.brief_on_cpu:
        return min(CPU_EPOCHS, profile.train.epochs)
    return profile.train.epochs


def canvas_network(
    attention: str, canvas: CifarData, profile: Profile, *, seed: int = 0, **kwargs: object
) -> nn.Sequential:
    """Downscale to 32x32, then ResNet-18 with ``attention`` at the profile's width, built from
    ``seed`` (``kwargs`` go to :func:`~attncv.resnet18`). Its blocks' names start with ``1.``."""
    set_seed(seed)
    net = resnet18(canvas.num_classes, attention=attention, width=profile.width, **kwargs)
    return nn.Sequential(Downscale(VIEW), net).to(canvas.device)


def train_on_canvas(
    attention: str,
    canvas: CifarData,
    profile: Profile,
    *,
    seed: int = 0,
    name: str | None = None,
    **kwargs: object,
) -> tuple[nn.Sequential, FitResult]:
    """:func:`canvas_network`, trained on ``canvas`` with the profile's recipe for
    :func:`canvas_epochs` epochs (progress and summary as every run, named ``name`` or after the
    module's title: "CBAM on canvases")."""
    model = canvas_network(attention, canvas, profile, seed=seed, **kwargs)
    label = name or f"{registry.entry(attention).title} on canvases"
    result = fit(model, canvas, profile.train, epochs=canvas_epochs(profile), seed=seed, name=label)
    return model, result


def untrained_on_canvas(
    attention: str, canvas: CifarData, profile: Profile, *, seed: int = 0, **kwargs: object
) -> nn.Sequential:
    """The control for gates: the network :func:`train_on_canvas` starts from (same seed), not
    trained, its batch-norm statistics measured on 1,000 training canvases
    (:func:`~attncv.train.controls.calibrated`); in eval mode."""
    return calibrated(canvas_network(attention, canvas, profile, seed=seed, **kwargs), canvas)
