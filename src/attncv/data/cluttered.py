"""Cluttered canvases: the object among distractors as contrasty as itself, so that a map that
merely follows contrast cannot find it.

On :func:`attncv.data.distorted.on_canvas`'s black canvases the object is the only thing there,
and a map that follows contrast or feature norm alone already weighs it 7-10x an object-blind
map. Here, as in the spatial transformer paper's cluttered MNIST (Jaderberg et al., NeurIPS
2015, arXiv:1506.02025), the canvas is of the dataset's mean colour (0 after normalisation) and
carries, besides the labelled image, ``distractors`` images of *other* classes, shrunk to the
same side and scaled to the same contrast (pixel standard deviation), placed without overlapping
the target or each other. :func:`on_twin_canvas` is the task for "similar content" (SAGAN,
non-local, DANet): a second copy of the target, and a distractor at exactly the same distance
from the target (its offset is the twin's under a symmetry of the square).

Boxes are in canvas pixels, ``(x0, y0, x1, y1)`` with ``x1 = x0 + side`` (exclusive), int64.
Test canvases are drawn once from ``seed``; training batches get fresh canvases each time, with
other images *of the same batch* as distractors (the batch transform does not see labels: on a
balanced set a distractor is of the target's class with chance 1 / classes).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor
from torch.nn import functional as F

from .dataset import CifarData

GAP = 2  # pixels at least between two objects' boxes
TRIES = 64  # candidate places drawn per object, image and round
ROUNDS = 200  # rounds of redrawing the images whose objects did not fit
# The eight symmetries of the square as (x, y) -> (sx * (x or y), sy * (y or x)): they keep an
# integer offset's length (in every norm) and integers; the first is the identity.
_SYMMETRIES = torch.tensor(
    [[0, 1, 1], [0, -1, 1], [0, 1, -1], [0, -1, -1], [1, 1, 1], [1, -1, 1], [1, 1, -1], [1, -1, -1]]
)  # (8, 3): swap x and y, sign of x, sign of y


def as_placements(boxes: Tensor, size: int) -> Tensor:
    """(N, 3) from pixel boxes (N, 4): centre x, y in normalised canvas coordinates and side as a
    fraction of the canvas, as :func:`~attncv.data.distorted.on_canvas` returns placements (for
    the statistics written for those)."""
    b = boxes.double()
    centre = (b[:, :2] + b[:, 2:]) / size - 1  # (N, 2)
    return torch.cat([centre, (b[:, 2:3] - b[:, 0:1]) / size], 1)


def _background(data: CifarData) -> Tensor:
    """The dataset's mean colour, in pixels (3,): 0 after normalisation."""
    return torch.tensor([round(255 * m) for m in data.mean], dtype=torch.float32)


def _sides(
    n: int, object_sizes: tuple[int, int], size: int, gen: torch.Generator | None, dev
) -> Tensor:
    lo, hi = object_sizes
    if not 1 <= lo <= hi <= size:
        raise ValueError(
            f"object_sizes must satisfy 1 <= low <= high <= size={size}, got {object_sizes}."
        )
    return torch.randint(lo, hi + 1, (n,), device=dev, generator=gen)  # (N,)


def _apart(a: Tensor, b: Tensor, side: Tensor, gap: int) -> Tensor:
    """Corners (..., 2) of two boxes of ``side`` (broadcast): True where they are at least
    ``gap`` pixels apart along x or y (they do not overlap)."""
    return (a - b).abs().amax(-1) >= side + gap


def _crowded(what: str, size: int, object_sizes: tuple[int, int]) -> ValueError:
    return ValueError(
        f"{what} do not fit on a {size}x{size} canvas with sides {object_sizes} "
        f"({ROUNDS} rounds tried): use a larger canvas, smaller objects or fewer distractors."
    )


def _layout(
    side: Tensor, k: int, size: int, gap: int, gen: torch.Generator | None, sizes: tuple[int, int]
) -> Tensor:
    """Corners (N, 1 + k, 2), x and y in pixels, int64: the target's uniform over the canvas,
    then each distractor's the first of :data:`TRIES` uniform candidates clear of the boxes
    placed before; an image where one does not fit is drawn again from its target on."""
    n, dev = len(side), side.device
    corners = torch.zeros(n, 1 + k, 2, dtype=torch.long, device=dev)
    todo = torch.arange(n, device=dev)
    for _ in range(ROUNDS):
        m, s = len(todo), side[todo]  # (m,)
        room = (size - s + 1).view(m, 1, 1).float()
        fits = torch.ones(m, dtype=torch.bool, device=dev)
        placed: list[Tensor] = []
        for _ in range(1 + k):
            cand = (torch.rand(m, TRIES, 2, device=dev, generator=gen) * room).long()  # (m, T, 2)
            clear = torch.ones(m, TRIES, dtype=torch.bool, device=dev)
            for p in placed:
                clear &= _apart(cand, p[:, None], s[:, None], gap)
            fits &= clear.any(1)
            first = clear.long().argmax(1)  # the first candidate clear of the others
            placed.append(cand[torch.arange(m, device=dev), first])  # (m, 2)
        corners[todo] = torch.stack(placed, 1)
        todo = todo[~fits]
        if len(todo) == 0:
            return corners
    raise _crowded(f"a target and {k} distractors", size, sizes)


def _twin_layout(
    side: Tensor, size: int, gap: int, gen: torch.Generator | None, sizes: tuple[int, int]
) -> Tensor:
    """Corners (N, 3, 2): target, twin, distractor. The twin's offset from the target is an
    integer vector v, the distractor's a symmetry of the square applied to v (so exactly as far
    in every norm); which of the two is the twin is a coin flip."""
    n, dev = len(side), side.device
    corners = torch.zeros(n, 3, 2, dtype=torch.long, device=dev)
    sym = _SYMMETRIES.to(dev)
    todo = torch.arange(n, device=dev)
    for _ in range(ROUNDS):
        m, s = len(todo), side[todo]
        reach = (size - s).view(m, 1, 1)  # the largest corner
        target = (torch.rand(m, TRIES, 2, device=dev, generator=gen) * (reach + 1)).long()
        u = torch.rand(m, TRIES, 2, device=dev, generator=gen)
        v = (u * (2 * reach + 1)).long() - reach  # (m, T, 2), in [-reach, reach]
        g = sym[torch.randint(1, 8, (m, TRIES), device=dev, generator=gen)]  # (m, T, 3)
        swapped = torch.where(g[..., :1].bool(), v.flip(-1), v)
        w = swapped * g[..., 1:]  # (m, T, 2): the symmetric offset
        a, b = target + v, target + w
        s2 = s[:, None]
        clear = (
            ((a >= 0) & (a <= reach) & (b >= 0) & (b <= reach)).all(-1)
            & _apart(a, target, s2, gap)
            & _apart(b, target, s2, gap)
            & _apart(a, b, s2, gap)
        )  # (m, T)
        first = clear.long().argmax(1)
        rows = torch.arange(m, device=dev)
        t, a, b = target[rows, first], a[rows, first], b[rows, first]  # (m, 2)
        flip = (torch.rand(m, 1, device=dev, generator=gen) < 0.5).expand(m, 2)
        corners[todo] = torch.stack([t, torch.where(flip, b, a), torch.where(flip, a, b)], 1)
        todo = todo[~clear.any(1)]
        if len(todo) == 0:
            return corners
    raise _crowded("a target, its twin and a distractor", size, sizes)


def _match_contrast(images: Tensor, reference: Tensor) -> Tensor:
    """Float copies of ``images`` (N, 3, H, W) scaled about their mean so that their pixel
    standard deviation is ``reference``'s (the factor kept within 1/4 to 4), in 0-255."""
    x = images.float()
    mean = x.mean((1, 2, 3), keepdim=True)
    ref = reference.float().std((1, 2, 3), keepdim=True)
    factor = (ref / x.std((1, 2, 3), keepdim=True).clamp_min(1e-3)).clamp(0.25, 4.0)
    return ((x - mean) * factor + mean).clamp(0, 255)


def _render(
    layers: list[Tensor], corners: Tensor, side: Tensor, size: int, background: Tensor
) -> Tensor:
    """uint8 canvases (N, 3, size, size): ``background`` everywhere, and ``layers[j]`` (N, 3, H,
    W) shrunk to ``side`` (bilinear, as :func:`~attncv.data.augment.place_on_canvas`) and pasted
    with its corner at ``corners[:, j]``. Each image is shrunk once into a patch and pasted by
    indexing, so one image at two places gives identical pixels."""
    n, dev = len(side), side.device
    canvas = background.to(dev).view(1, 1, 1, 3).expand(n, size, size, 3).clone()  # (N, S, S, 3)
    big = int(side.max())
    at = torch.arange(big, device=dev, dtype=torch.float32)
    u = (2 * at[None] + 1) / side[:, None].float() - 1  # (N, big): patch pixel -> image, [-1, 1]
    grid = torch.stack(
        [u[:, None, :].expand(n, big, big), u[:, :, None].expand(n, big, big)], -1
    )  # (N, big, big, 2): x, y
    inside = torch.arange(big, device=dev) < side[:, None]  # (N, big)
    rows, ys, xs = (inside[:, :, None] & inside[:, None, :]).nonzero(as_tuple=True)  # patches
    for j, images in enumerate(layers):
        patch = F.grid_sample(images.float(), grid, align_corners=False)  # (N, 3, big, big)
        c = corners[:, j]  # (N, 2)
        canvas[rows, c[rows, 1] + ys, c[rows, 0] + xs] = patch.permute(0, 2, 3, 1)[rows, ys, xs]
    return canvas.permute(0, 3, 1, 2).round().clamp(0, 255).to(torch.uint8).contiguous()


def _boxes(corners: Tensor, side: Tensor) -> Tensor:
    """(N, J, 4) pixel boxes from corners (N, J, 2) and sides (N,)."""
    return torch.cat([corners, corners + side.view(-1, 1, 1)], -1)


def _other_classes(labels: Tensor, k: int, gen: torch.Generator) -> Tensor:
    """(N, k) indices of images whose label differs from each image's own, drawn uniformly."""
    n, dev = len(labels), labels.device
    if labels.unique().numel() < 2:
        raise ValueError("distractors need images of other classes: the split has one class.")
    idx = torch.randint(0, n, (n, k), device=dev, generator=gen)
    while True:
        same = labels[idx] == labels[:, None]  # (N, k)
        if not same.any():
            return idx
        idx[same] = torch.randint(0, n, (int(same.sum()),), device=dev, generator=gen)


def _batch_mates(n: int, k: int, gen: torch.Generator | None, dev: torch.device) -> Tensor:
    """(n, k) indices of other images of a batch (the image itself in a batch of one)."""
    if n == 1:
        return torch.zeros(1, k, dtype=torch.long, device=dev)
    step = torch.randint(1, n, (n, k), device=dev, generator=gen)
    return (torch.arange(n, device=dev)[:, None] + step) % n


def _cluttered(
    images: Tensor,
    others: Tensor,
    *,
    size: int,
    object_sizes: tuple[int, int],
    gap: int,
    background: Tensor,
    gen: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """Canvases of ``images`` (N, 3, H, W) with ``others`` (N, k, 3, H, W) as distractors, and
    the boxes (N, 1 + k, 4): the target's first."""
    side = _sides(len(images), object_sizes, size, gen, images.device)
    corners = _layout(side, others.shape[1], size, gap, gen, object_sizes)
    layers = [images] + [_match_contrast(others[:, j], images) for j in range(others.shape[1])]
    return _render(layers, corners, side, size, background), _boxes(corners, side)


def _twins(
    images: Tensor,
    others: Tensor,
    *,
    size: int,
    object_sizes: tuple[int, int],
    gap: int,
    background: Tensor,
    gen: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """Canvases of ``images``, a copy of each, and ``others[:, 0]``; boxes (N, 3, 4)."""
    side = _sides(len(images), object_sizes, size, gen, images.device)
    corners = _twin_layout(side, size, gap, gen, object_sizes)
    layers = [images, images, _match_contrast(others[:, 0], images)]
    return _render(layers, corners, side, size, background), _boxes(corners, side)


def _test_canvases(data: CifarData, k: int, seed: int, make, kwargs: dict) -> tuple[Tensor, Tensor]:
    """The test split through ``make`` (:func:`_cluttered` or :func:`_twins`), ``k``
    distractors of other classes each, in chunks of 1,000, from ``seed``."""
    gen = torch.Generator(device=data.device).manual_seed(seed)
    images, labels = data.split("test")
    mates = _other_classes(labels, k, gen)  # (N, k)
    made = [
        make(images[i], images[mates[i]], gen=gen, **kwargs)
        for i in torch.arange(len(images), device=data.device).split(1000)
    ]
    return torch.cat([c for c, _ in made]), torch.cat([b for _, b in made])


def on_cluttered_canvas(
    data: CifarData,
    *,
    size: int = 64,
    object_sizes: tuple[int, int] = (16, 24),
    distractors: int = 3,
    gap: int = GAP,
    seed: int = 0,
) -> tuple[CifarData, Tensor, Tensor]:
    """A cluttered copy of ``data``: every image shrunk to a side in ``object_sizes`` (pixels) at
    a random place on a ``size`` x ``size`` canvas of the dataset's mean colour, with
    ``distractors`` images of other classes (test: of the test split; training: other images of
    the batch) shrunk to the same side and scaled to the target's contrast, at least ``gap``
    pixels from the target and from each other. The label stays the target's.

    Returns the new data and the test canvases' boxes in pixels: the targets' (N, 4) and the
    distractors' (N, ``distractors``, 4), ``(x0, y0, x1, y1)``, ``x1`` exclusive.
    """
    if distractors < 1:
        raise ValueError(f"distractors must be at least 1, got {distractors}.")
    kwargs = {
        "size": size,
        "object_sizes": object_sizes,
        "gap": gap,
        "background": _background(data),
    }
    test, boxes = _test_canvases(data, distractors, seed, _cluttered, kwargs)  # (N, 1 + k, 4)

    def transform(x: Tensor, generator: torch.Generator | None) -> Tensor:
        mates = _batch_mates(len(x), distractors, generator, x.device)
        return _cluttered(x, x[mates], gen=generator, **kwargs)[0]

    lo, hi = object_sizes
    text = (
        f"{data.description}, each image shrunk to {lo}-{hi} px at a random place on a "
        f"{size}x{size} canvas of the mean colour among {distractors} distractors (images of "
        "other classes, same side and contrast)"
    )
    data = replace(data, test_images=test, transform=transform, description=text)
    return data, boxes[:, 0], boxes[:, 1:]


def on_twin_canvas(
    data: CifarData,
    *,
    size: int = 64,
    object_sizes: tuple[int, int] = (16, 24),
    gap: int = GAP,
    seed: int = 0,
) -> tuple[CifarData, Tensor, Tensor, Tensor]:
    """A copy of ``data`` for "similar content": on a canvas of the dataset's mean colour, each
    image shrunk to a side in ``object_sizes`` (the target), a second copy of it (the twin),
    and an image of another class of the same side and contrast (the distractor; training: an
    other image of the batch), exactly as far from the target as the twin (its offset is the
    twin's under one of the square's symmetries), the three boxes ``gap`` pixels apart.

    Returns the new data and the test canvases' pixel boxes (N, 4) each: target, twin,
    distractor, ``(x0, y0, x1, y1)``, ``x1`` exclusive.
    """
    kwargs = {
        "size": size,
        "object_sizes": object_sizes,
        "gap": gap,
        "background": _background(data),
    }
    test, boxes = _test_canvases(data, 1, seed, _twins, kwargs)  # (N, 3, 4)

    def transform(x: Tensor, generator: torch.Generator | None) -> Tensor:
        mates = _batch_mates(len(x), 1, generator, x.device)
        return _twins(x, x[mates], gen=generator, **kwargs)[0]

    lo, hi = object_sizes
    text = (
        f"{data.description}, each image shrunk to {lo}-{hi} px on a {size}x{size} canvas of the "
        "mean colour with a copy of itself and, as far from it, an image of another class"
    )
    data = replace(data, test_images=test, transform=transform, description=text)
    return data, boxes[:, 0], boxes[:, 1], boxes[:, 2]
