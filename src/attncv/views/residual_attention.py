"""The residual attention chapter's own view: the paper's claim its mask verdict tests.

The chapter reads its soft masks with the shared mask views (:mod:`attncv.views.masks`:
:func:`~.masks.variance_parts`, :func:`~.masks.mixed_verdict`) and draws them with
:func:`~.grids.map_grid`; :data:`RESIDUAL_PAPER` is what the verdict compares with.
"""

from __future__ import annotations

RESIDUAL_PAPER = (
    "the soft mask weighs every channel at every position: mixed attention, f1 "
    "(Wang et al. 2017, Sec. 3.3); its Table 1, where f1 beats channel-only and "
    "spatial-only masks, is not tested here"
)
