"""The views layer: what a trained model learned, shown, in one figure style (:mod:`.style`).
 :mod:`.plots` (curves, images, overlays,
schedules), :mod:`.probe` (attention weights per block and per class), :mod:`.channel`,
:mod:`.spatial` and :mod:`.mixed` (each family's figures), :mod:`.controls` (the network
before training, one convention), :mod:`.verdicts` (the paper's
observation against this run's), :mod:`.tables` (HTML tables) and :mod:`.widgets` (explorers)."""

from . import style  # noqa: F401  (the book's figure style, set once for every view)
