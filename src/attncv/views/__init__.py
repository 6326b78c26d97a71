"""The views layer: what a trained model learned, shown, in one figure style (:mod:`.style`).

Shared: :mod:`.plots` (curves, images, learned scales, schedules), :mod:`.probe` (attention
weights per block and per class), :mod:`.grids` (maps beside their photos), :mod:`.query_maps`
(the maps of query-based attention and their statistics), :mod:`.masks` (masks over channels and
positions), :mod:`.objects` (where attention goes on a canvas), :mod:`.evidence` (a statistic
against its control, and the verdict that shows it), :mod:`.evidence_words` (their one
vocabulary), :mod:`.verdicts` (the accuracy verdicts, and the import point for all of them),
:mod:`.ablation` (blocks switched off at test time), :mod:`.tables` (HTML tables) and
:mod:`.widgets` (explorers).
One file per chapter, importing only the shared files, never another chapter's:
:mod:`.se`, :mod:`.sk`, :mod:`.eca`, :mod:`.self_attention`, :mod:`.non_local`, :mod:`.stn`,
:mod:`.cbam`, :mod:`.danet`, :mod:`.ccnet`, :mod:`.residual_attention` and
:mod:`.coordinate_attention`."""

from . import style  # noqa: F401  (the book's figure style, set once for every view)
