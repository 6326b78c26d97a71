"""The canvas runs where contrast alone cannot win: the target among distractors.

On :func:`attncv.train.canvas.canvas_task`'s black canvases a map that merely follows contrast
weighs the object 7-10x, more than any trained map. :func:`cluttered_task` puts the labelled
image among distractors of other classes, as large and as contrasty, on a canvas of the
dataset's mean colour (:func:`attncv.data.cluttered.on_cluttered_canvas`); :func:`twin_task` adds
a copy of the target and a distractor exactly as far from it, for "similar content"
(:func:`attncv.data.cluttered.on_twin_canvas`). Same canvas and object sides as the black
canvases; train with :func:`attncv.train.canvas.train_on_canvas` and control with
:func:`~attncv.train.canvas.untrained_on_canvas`, as there. The statistics are
:func:`attncv.views.objects.target_over_distractors_per_image` and
:func:`~attncv.views.objects.twin_over_distractor_per_image`.
"""

from __future__ import annotations

from torch import Tensor

from ..data import CifarData
from ..data.cluttered import on_cluttered_canvas, on_twin_canvas
from .canvas import CANVAS, OBJECT_SIZES

DISTRACTORS = 3  # images of other classes on every cluttered canvas


def cluttered_task(data: CifarData, *, seed: int = 0) -> tuple[CifarData, Tensor, Tensor]:
    """``data`` on cluttered 64x64 canvases (fresh per training batch, the test canvases drawn
    once from ``seed``), and the test canvases' pixel boxes: targets (N, 4), distractors
    (N, :data:`DISTRACTORS`, 4)."""
    return on_cluttered_canvas(
        data, size=CANVAS, object_sizes=OBJECT_SIZES, distractors=DISTRACTORS, seed=seed
    )


def twin_task(data: CifarData, *, seed: int = 0) -> tuple[CifarData, Tensor, Tensor, Tensor]:
    """``data`` on 64x64 twin canvases (the target, a copy of it, and a distractor as far from
    the target as the copy), and the test canvases' pixel boxes (N, 4) each: target, twin,
    distractor."""
    return on_twin_canvas(data, size=CANVAS, object_sizes=OBJECT_SIZES, seed=seed)
