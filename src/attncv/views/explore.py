"""Explorers that work in the HTML book with no kernel: attention maps and gates a reader points at.

:func:`query_explorer` (self-attention, non-local, DANet's position attention, CCNet after one and
two passes): the reader points at a position of a test image and sees that query's attention map
over the image, and picks the block, the image (a dozen test images) and the network, trained or
its control. :func:`gate_explorer` (SE, CBAM, coordinate attention, residual attention): the gate
per image and block, as bars over channels or a map over positions; with ``per_class=True`` also
the mean gate of every class (SE's channel gate). The maps are those the notebook computed
(:mod:`attncv.views.explore_data`), quantised to bytes (each query map divided by its maximum,
gates in (0, 1) as they are) and deflated; plotly draws them (:mod:`attncv.views.explore_js`).

One output serves every reader: HTML with the interactive figure (plotly loaded once per page:
the book's own copy, ``_ext/plotly_once.py``; in Jupyter and Colab plotly's CDN, or offline the
copy :func:`plotly_here` puts on the page), a static figure with alt text inside it for readers
without JavaScript and for print, and the same PNG as ``image/png`` for other formats.
"""

from __future__ import annotations

import base64
import html
import io
import json
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor, nn

from ..data import CifarData
from . import style
from .explore_data import View, class_means, explorer_images, gate_views, query_views
from .explore_js import CSS, GLUE
from .plots import MAP_CMAP, to_rgb

MAX_QUERIES = 8  # queries per side at most: a coarser grid than the keys keeps pages small
PAGE_BUDGET = 1_500_000  # bytes one chapter page may grow by (issue 29)
QUERY_SCALE = "weight / map max"
GATE_SCALE = "gate (0 to 1)"


def plotly_js() -> Path:
    """The plotly.js bundle that ships inside the installed plotly package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"plotly {plotly.__version__} has no {path}: reinstall plotly.")
    return path


def plotly_cdn() -> str:
    """The CDN address of the same plotly.js version as the installed package's."""
    from plotly.offline import get_plotlyjs_version

    return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"


def _png(image: np.ndarray) -> str:
    """A data URI of an (H, W, 3) float image in [0, 1]."""
    buf = io.BytesIO()
    plt.imsave(buf, np.clip(image, 0, 1), format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _quantise(x: Tensor) -> np.ndarray:
    return (x.float().clamp(0, 1) * 255).round().to(torch.uint8).numpy()


@dataclass
class Explorer:
    """An explorer's spec (what the browser code reads) and its static figure."""

    spec: dict
    static_png: bytes
    alt: str

    def html(self) -> str:
        """The output's HTML: the controls, two plot areas, the scale, the static figure, the
        packed data and the browser code."""
        uid = "ax-" + uuid.uuid4().hex[:10]
        png = base64.b64encode(self.static_png).decode()
        data = json.dumps(self.spec, separators=(",", ":")).replace("</", "<\\/")
        controls = "".join(
            f'<label>{label} <select data-ax="{key}"></select></label>'
            for key, label in (("view", "block"), ("item", "image"), ("net", "network"))
        )
        return (
            f"<style>{CSS}</style>"
            f'<div class="attncv-explorer" id="{uid}" data-attncv-explorer="{self.spec["kind"]}">'
            f'<div class="ax-controls">{controls}</div>'
            f'<div class="ax-plots"><div class="ax-plot" data-ax="photo"></div>'
            f'<div class="ax-plot" data-ax="map"></div></div>'
            f'<p class="ax-note"><span data-ax="status"></span> {html.escape(self.spec["note"])}'
            f"</p>"
            f'<div class="ax-static"><img src="data:image/png;base64,{png}" '
            f'alt="{html.escape(self.alt)}"></div></div>'
            f'<script type="application/json" id="{uid}-data">{data}</script>'
            f"<script>{{const ID = {json.dumps(uid)};{GLUE}}}</script>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {
            "text/html": self.html(),
            "image/png": base64.b64encode(self.static_png).decode(),
            "text/plain": self.alt,
        }

    def sizes(self) -> dict[str, int]:
        """Bytes of the output's HTML in the page, of its packed maps, of its static figure."""
        return {
            "html": len(self.html().encode()),
            "data": len(self.spec["data"]),
            "static": len(self.static_png),
        }

    def page(self, path: Path, plotly_src: str) -> Path:
        """A standalone page holding this explorer, loading plotly from ``plotly_src``."""
        path.write_text(
            '<!doctype html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<script defer src="{plotly_src}"></script></head><body><main>'
            f"{self.html()}</main></body></html>",
            encoding="utf-8",
        )
        return path


def plotly_here():
    """Plotly's own script as an output, for Jupyter without internet: run it in a cell once,
    and the explorers after it draw without the CDN (JupyterLab and the classic notebook share
    one page; Colab, whose outputs sit in frames of their own, has the internet anyway). Never
    automatic: a notebook executed for the book would carry 4.8 MB of script."""
    from IPython.display import HTML

    return HTML(f"<script>{plotly_js().read_text(encoding='utf-8')}</script>")


def _query_grid(n: int, max_queries: int) -> tuple[int, int, int]:
    """(queries, stride, start) along one side of ``n`` positions: at most ``max_queries``
    queries, every ``stride``-th position from ``start`` (centred in its cell)."""
    stride = -(-n // max_queries)
    start = stride // 2
    return -(-(n - start) // stride), stride, start


def _pack(
    views: Sequence[View], items: int, max_queries: int, classes: dict[str, Tensor] | None
) -> tuple[list[dict], bytes, list[float]]:
    """The views' bytes in one buffer (view, then network, then image; then each bars view's
    classes), their description, and the query maps' maxima."""
    parts, described, maxima, offset = [], [], [], 0
    for v in views:
        d = {"name": v.name, "type": v.type, "grid": list(v.grid), "keys": list(v.keys)}
        arrays = v.arrays
        if v.type == "query":
            (qh, stride, start), (qw, _, _) = (_query_grid(n, max_queries) for n in v.grid)
            d.update(queries=[qh, qw], stride=stride, start=start, maxOffset=len(maxima))
            picked = []
            for a in v.arrays:  # (n, L, S) -> the queries on the coarse grid, each / its max
                rows = a.view(a.shape[0], *v.grid, -1)[:, start::stride, start::stride]
                rows = rows.reshape(a.shape[0], qh * qw, -1)  # (n, Q, S)
                top = rows.amax(-1, keepdim=True).clamp_min(1e-12)  # (n, Q, 1)
                maxima += [float(f"{t:.3g}") for t in top.flatten().tolist()]
                picked.append(rows / top)
            arrays = picked
        block = np.stack([_quantise(a[:items]).reshape(items, -1) for a in arrays])  # (k, n, B)
        d.update(offset=offset, size=block.shape[-1])
        parts.append(block.tobytes())
        offset += block.nbytes
        if classes is not None and v.name in classes:
            means = np.stack([_quantise(c) for c in classes[v.name]])  # (k, K, C)
            d["classOffset"] = offset
            parts.append(means.tobytes())
            offset += means.nbytes
        described.append(d)
    return described, b"".join(parts), maxima


def _spec(
    kind: str,
    views: Sequence[View],
    images: Tensor,
    labels: Sequence[str],
    networks: Sequence[str],
    *,
    note: str,
    scale: str,
    max_queries: int = MAX_QUERIES,
    max_bytes: int = PAGE_BUDGET // 2,
    classes: tuple[Sequence[str], dict[str, Tensor]] | None = None,
) -> dict:
    """What the browser code reads; the query grid is made coarser until the packed maps fit
    ``max_bytes``."""
    rgb = to_rgb(images)
    while True:
        described, raw, maxima = _pack(
            views, len(images), max_queries, classes[1] if classes else None
        )
        data = base64.b64encode(zlib.compress(raw, 9)).decode()
        if len(data) <= max_bytes or max_queries <= 2 or kind != "query":
            break
        max_queries -= 1
    if len(data) > max_bytes:
        raise ValueError(
            f"explorer: the maps take {len(data):,} bytes packed, over the {max_bytes:,} a page "
            "may grow by: pass fewer blocks (blocks=[...]) or fewer images."
        )
    return {
        "kind": kind,
        "size": images.shape[-1],
        "images": [_png(im) for im in rgb],
        "blank": _png(np.full((2, 2, 3), 0.94)),
        "labels": list(labels),
        "classes": list(classes[0]) if classes else [],
        "networks": list(networks),
        "views": described,
        "maxima": maxima,
        "data": data,
        "colorTitle": scale,
        "note": note,
        "cdn": plotly_cdn(),
    }


def _static(spec: dict, views: Sequence[View], image: Tensor, title: str) -> tuple[bytes, str]:
    """The first image and view, trained beside control, as a PNG, and its alt text."""
    v, d = views[0], spec["views"][0]
    size = image.shape[-1]
    fig, axes = plt.subplots(1, 3, figsize=style.figsize(2.6), constrained_layout=True)
    axes[0].imshow(to_rgb(image)[0])
    where = ""
    for ax, net, a in zip(axes[1:], spec["networks"], v.arrays, strict=True):
        ax.set_title(net if len(net) < 30 else net[:28] + "…", fontsize=style.MIN_FONT)
        if v.type == "bars":
            ax.bar(range(a.shape[1]), a[0].numpy(), width=1.0, color="#3b528b")
            ax.set(ylim=(0, 1), xlabel="channel", ylabel=GATE_SCALE)
            continue
        if v.type == "query":
            r = d["start"] + d["queries"][0] // 2 * d["stride"]
            c = d["start"] + d["queries"][1] // 2 * d["stride"]
            m = a[0, r * v.grid[1] + c].view(*v.keys)
            m = m / m.max().clamp_min(1e-12)
            x, y = (c + 0.5) * size / v.grid[1] - 0.5, (r + 0.5) * size / v.grid[0] - 0.5
            for axis in (axes[0], ax):
                axis.plot(x, y, "*", color="white", mec="black", ms=11)
            where = f", the query (star) at row {r}, column {c} of its {v.grid[0]}x{v.grid[1]} grid"
        else:
            m = a[0]
        im = ax.imshow(
            m.numpy(), cmap=MAP_CMAP, vmin=0, vmax=1, extent=(-0.5, size - 0.5, size - 0.5, -0.5)
        )
    for ax in axes if v.type != "bars" else axes[:1]:
        ax.set_xticks([]), ax.set_yticks([])
    if v.type != "bars":
        fig.colorbar(im, ax=axes[1:].tolist(), shrink=0.8, label=spec["colorTitle"])
    axes[0].set_title(spec["labels"][0], fontsize=style.MIN_FONT)
    if title:
        fig.suptitle(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    shown = {"query": "its attention map", "bars": "its gate per channel", "map": "its gate"}
    alt = (
        f"{title + ': ' if title else ''}the first test image ({spec['labels'][0]}){where}; "
        f"{shown[v.type]} at {v.name} in the trained network and in the control "
        f"({spec['networks'][1].removeprefix('control: ')}), coloured as "
        f"{spec['colorTitle']}. Interactive in the HTML book with JavaScript."
    )
    return buf.getvalue(), alt


def _networks(control_label: str) -> list[str]:
    if not control_label:
        raise ValueError(
            "explorer: control_label must say what the control is, e.g. "
            "attncv.views.evidence_words.drawn(MATCHED_QUERY_KEY, 1)."
        )
    return ["trained", f"control: {control_label}"]


def query_explorer(
    model: nn.Module,
    control: nn.Module,
    data: CifarData,
    *,
    control_label: str,
    images: Tensor | None = None,
    labels: Sequence[str] | None = None,
    blocks: Sequence[str] | None = None,
    title: str = "",
    max_queries: int = MAX_QUERIES,
) -> Explorer:
    """Where each position of a test image looks, in every query-based block of ``model``
    and of ``control`` (the chapter's control network, e.g. one draw of
    :func:`attncv.train.controls.matched_query_key`), for a dozen test images
    (:func:`~attncv.views.explore_data.explorer_images`, or ``images`` uint8 with ``labels``).
    ``blocks``: the views to offer (default: all, e.g. ``"layer2.1"``, ``"layer2.0 two
    passes"``). Queries sit on a grid of at most ``max_queries`` a side, coarser where the page
    would otherwise grow by more than half its budget."""
    if images is None:
        images, labels = explorer_images(data)
    labels = list(labels) if labels is not None else [str(i + 1) for i in range(len(images))]
    views = query_views([model, control], data, images, blocks=blocks)
    note = (
        "Point at the photo (or tap it) to move the query. Colour: each map's weights divided "
        "by its largest weight (0 to 1, the same scale for every map); the title gives that "
        "largest weight and a uniform map's."
    )
    spec = _spec(
        "query",
        views,
        images,
        labels,
        _networks(control_label),
        note=note,
        scale=QUERY_SCALE,
        max_queries=max_queries,
    )
    png, alt = _static(spec, views, images[:1], title)
    return Explorer(spec, png, alt)


def gate_explorer(
    model: nn.Module,
    control: nn.Module,
    data: CifarData,
    *,
    control_label: str,
    images: Tensor | None = None,
    labels: Sequence[str] | None = None,
    blocks: Sequence[str] | None = None,
    per_class: bool = False,
    title: str = "",
) -> Explorer:
    """The gates of ``model`` and of ``control`` (e.g. one draw of
    :func:`attncv.train.controls.redrawn_gates`) per image and block: bars over channels for
    channel gates, maps for spatial gates and masks (averaged over channels); with
    ``per_class``, also each channel gate's mean over every class's test images."""
    if images is None:
        images, labels = explorer_images(data)
    labels = list(labels) if labels is not None else [str(i + 1) for i in range(len(images))]
    views = gate_views([model, control], data, images, blocks=blocks)
    classes = None
    if per_class:
        bars = [v.name for v in views if v.type == "bars"]
        if not bars:
            raise ValueError("gate_explorer: per_class needs a channel gate; this model has none.")
        means = [class_means(net, data, bars) for net in (model, control)]
        classes = (list(data.classes), {b: [m[b] for m in means] for b in bars})
    note = "Colour and bar height: the gate, 0 to 1, the same scale for every block and image." + (
        " The image list ends with each class's mean gate over its test images." * per_class
    )
    spec = _spec(
        "gate",
        views,
        images,
        labels,
        _networks(control_label),
        note=note,
        scale=GATE_SCALE,
        classes=classes,
    )
    png, alt = _static(spec, views, images[:1], title)
    return Explorer(spec, png, alt)
