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
"""

from __future__ import annotations

LEVEL = 0.95  # every bootstrap band of the book: the central 95% interval of the difference

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
)


def random_query_key(draws: int = 1) -> str:
    """:data:`RANDOM_QUERY_KEY`, with the number of draws averaged where there are several:
    ``"random query/key weights on the same features (3 draws)"``."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws!r}.")
    return RANDOM_QUERY_KEY if draws == 1 else f"{RANDOM_QUERY_KEY} ({draws} draws)"


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


def level_text(level: float = LEVEL) -> str:
    """A level as a percentage: ``"95%"``, ``"97.5%"``."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    return f"{round(level * 100, 6):g}%"


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
