"""The words of the evidence, written once: how a noise band was measured, and what a control is.

Every :class:`~attncv.views.verdicts.Evidence` names its control and says how its band was
measured. Those words come from here, never typed by hand in a chapter's view, so one control has
one name in every chapter and every bootstrap band reads alike:

- :func:`band_how`: a bootstrap band from its level and its units,
  ``"95% paired bootstrap over 1,000 test images"``; :func:`standard_error_how`: a band that is
  the test images' standard error of an accuracy. The seed noise of accuracies is worded by
  :meth:`attncv.train.Noise.how`, its one place.
- the controls: one constant per distinct control (:data:`UNTRAINED`, :data:`RANDOM_QUERY_KEY`,
  :data:`BASELINE`, :data:`AT_START`, ...), and a helper where a control carries a number
  (:func:`random_query_key` with its draws, :func:`uniform_weights` with its gamma,
  :func:`window_at_start` with its side).
- how a number reads beside its band and its count: :func:`band_decimals` (a band never shows
  fewer significant digits than the number it bounds), :func:`count_of` (``"1 seed"``,
  ``"3 seeds"``), :func:`ratio_text` (``"0.99 times the baseline's"``).

The level itself, :data:`LEVEL`, and :func:`level_text` are the train layer's
(:mod:`attncv.train.noise`, where the seed noise is judged at it too), re-exported here: one
source for the bootstrap bands, the seed noise and Welch's interval.
"""

from __future__ import annotations

import math

from ..train.noise import LEVEL, level_text

# --- the controls: one name each ---

UNTRAINED = "the network before training"  # train.controls.untrained: the same seed, built
RANDOM_QUERY_KEY = "random query/key weights on the same features"  # controls.random_projections
BASELINE = "the baseline"  # the network without attention
AT_START = "the block at its start (identity)"  # a residual block at scale 0: a share of 0
NEIGHBOURS_AT_MEAN = "neighbour terms held at their mean"  # ECA's gates without their neighbours
UNIFORM_WEIGHTS = "uniform weights at the trained gamma"  # CCNet's cross, weighted evenly
FIXED_WINDOW = "a window fixed at the canvas centre"  # the STN's window that finds nothing
WINDOW_AT_START = "the window at its start"  # the STN's window before training moved it
PLAIN_NETWORK = "the plain network (whole canvas)"  # the STN chapter's classifier without one
OBJECT_SIDES = "the objects' sides"  # what a window sized to its object varies by
NO_DIFFERENCE = "no difference"  # a range or gap the paper says is 0
SWITCHED_OFF = "the block switched off"  # views.ablation: its residual scale set to 0 at test time
UNIFORM_MAP = "a uniform map"  # views.ablation: every query weighs its keys evenly ("where" gone)
# train.controls.matched_query_key: random query/key, each draw at the trained block's logit scale
MATCHED_QUERY_KEY = "random query/key weights at the trained logit scale"
REDRAWN_GATES = "the gates re-drawn on the trained network"  # train.controls.redrawn_gates
# train.stn_controls: the STN's localisation network re-drawn, matched to the trained scales
REDRAWN_LOCATOR = "the localisation network re-drawn at the trained scales"
CHANNEL_GATE = "the masks replaced by their mean over positions"  # residual attention's control

CONTROLS = (
    UNTRAINED,
    RANDOM_QUERY_KEY,
    BASELINE,
    AT_START,
    NEIGHBOURS_AT_MEAN,
    UNIFORM_WEIGHTS,
    FIXED_WINDOW,
    WINDOW_AT_START,
    PLAIN_NETWORK,
    OBJECT_SIDES,
    NO_DIFFERENCE,
    SWITCHED_OFF,
    UNIFORM_MAP,
    MATCHED_QUERY_KEY,
    REDRAWN_GATES,
    REDRAWN_LOCATOR,
    CHANNEL_GATE,
)


def random_query_key(draws: int = 1) -> str:
    """:data:`RANDOM_QUERY_KEY`, with the number of draws averaged where there are several:
    ``"random query/key weights on the same features (3 draws)"``."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws!r}.")
    return RANDOM_QUERY_KEY if draws == 1 else f"{RANDOM_QUERY_KEY} ({draws} draws)"


def drawn(label: str, draws: int) -> str:
    """A control made of several random draws, with their count:
    ``"the gates re-drawn on the trained network (10 draws)"``."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}.")
    return label if draws == 1 else f"{label} ({draws} draws)"


def mean_of_seeds(label: str, seeds: int) -> str:
    """A control that is the mean of several training seeds: ``"the plain network (whole
    canvas), mean of 2 seeds"``."""
    return f"{label}, mean of {count_of(seeds, 'seed')}"


def draws_band_how(units: int, unit: str, draws: int, *, level: float = LEVEL) -> str:
    """How a band over units *and* random draws was measured
    (:meth:`.evidence.Evidence.over_draws`):
    ``"95% bootstrap over 500 test canvases and 10 draws"``."""
    return f"{band_how(units, unit, paired=False, level=level)} and {count_of(draws, 'draw')}"


def uniform_weights(gamma: float) -> str:
    """:data:`UNIFORM_WEIGHTS` with the gamma they keep: ``"... at the trained gamma +0.004"``."""
    return f"{UNIFORM_WEIGHTS} {gamma:+.3f}"


def window_at_start(side: float) -> str:
    """:data:`WINDOW_AT_START` with its side in pixels: ``"the window at its start (32 px)"``."""
    return f"{WINDOW_AT_START} ({side:.0f} px)"


def at_block(statistic: str, block: str) -> str:
    """The same statistic at another block as the control: ``"the class spread at layer2.0"``."""
    return f"the {statistic} at {block}"


# --- how a band was measured ---


def band_how(units: int, unit: str, *, paired: bool = True, level: float = LEVEL) -> str:
    """How a bootstrap band was measured, the one wording of the book:
    ``"95% paired bootstrap over 1,000 test images"`` (``paired``: one resample of the units
    serves the trained and the control values), ``"95% bootstrap over 96 channels"``."""
    if units < 0 or units != int(units):
        raise ValueError(f"units must be a count, got {units!r}.")
    kind = "paired bootstrap" if paired else "bootstrap"
    return f"{level_text(level)} {kind} over {int(units):,} {unit}"


def standard_error_how(units: int, unit: str, *, difference: bool = False) -> str:
    """A band that is the standard error of a test accuracy on ``units`` test ``unit``, of one
    accuracy or of a ``difference`` of two: ``"test-image standard error of a difference on
    1,000 test canvases"``."""
    what = "a difference" if difference else "one accuracy"
    return f"test-image standard error of {what} on {int(units):,} {unit}"


def welch_how(seeds_a: int, seeds_b: int, df: float, *, level: float = LEVEL) -> str:
    """How a Welch band was measured (:func:`attncv.train.noise.welch_interval`): ``"95% Welch
    interval of a difference of the means of 3 and 3 seeds (Student's t at 3.9 df, from the
    standard error of each mean)"``."""
    dof = "infinite" if math.isinf(df) else f"{df:.1f}"
    return (
        f"{level_text(level)} Welch interval of a difference of the means of {seeds_a} and "
        f"{seeds_b} seeds (Student's t at {dof} df, from the standard error of each mean)"
    )


# --- how a number reads beside its band and its count ---

MAX_DECIMALS = 6


def band_decimals(band: float, decimals: int = 0) -> int:
    """Decimals to print a band and the numbers it bounds with: enough for two significant digits
    of the band (``0.083`` -> 3, ``4.6`` -> 1, ``21.4`` -> 0), never fewer than ``decimals`` (the
    numbers' own format), at most 6. So a difference of ``+0.085`` never stands beside a band
    printed ``±0.08``: both take the band's decimals. A band of 0 (or not finite) keeps
    ``decimals``."""
    if not math.isfinite(band) or band <= 0:
        return decimals
    needed = 1 - math.floor(math.log10(band))
    return min(max(decimals, needed, 0), max(MAX_DECIMALS, decimals))


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: ``"1 seed"``, ``"3 seeds"``, ``"1,000 test
    images"`` (``plural``: where adding an s is wrong)."""
    many = plural if plural is not None else f"{noun}s"
    return f"{count:,} {noun if count == 1 else many}"


def times(count: int) -> str:
    """How often something happened, in words: ``"never"``, ``"once"``, ``"twice"``, ``"3
    times"`` (never ``"1 time(s)"``)."""
    return {0: "never", 1: "once", 2: "twice"}.get(count, f"{count:,} times")


def ratio_text(ratio: float, of: str, *, fmt: str = ".2f") -> str:
    """A ratio that reads as a sentence: ``"0.99 times the baseline's"``, not ``"x0.99 the
    baseline's"``."""
    return f"{format(ratio, fmt)} times {of}"
