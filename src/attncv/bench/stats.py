"""Is a difference between two sets of seeds more than noise? Welch's interval, for few seeds.

The function lives in :mod:`attncv.train.noise`, beside the book's one level and the seed noise of
the chapters' verdicts, so the views judge accuracies with the same interval as the bench; it is
re-exported here, where the bench's report and figures take it from.
"""

from __future__ import annotations

from ..train.noise import t_quantile, welch_interval

__all__ = ["t_quantile", "welch_interval"]
