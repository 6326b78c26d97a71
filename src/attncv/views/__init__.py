"""The views layer: what a trained model learned, shown, in one figure style (:mod:`.style`).
 :mod:`.plots` (curves, images, learned scales,
schedules), :mod:`.probe` (attention weights per block and per class), :mod:`.channel`,
:mod:`.query_maps` (the maps of query-based attention and their statistics, shared),
:mod:`.self_attention`, :mod:`.non_local`, :mod:`.stn`, :mod:`.objects` (where attention goes
on a canvas) and :mod:`.mixed` (each chapter's figures), :mod:`.verdicts` (the paper's
observation against this run's), :mod:`.tables` (HTML tables) and :mod:`.widgets` (explorers)."""

from . import style  # noqa: F401  (the book's figure style, set once for every view)
