"""The evidence's words, written once: the bootstrap band's text from its level and units, one
label per control, and no chapter's view writing either by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from attncv.views import evidence_words as ew
from attncv.views import query_maps
from attncv.views.verdicts import LEVEL, Evidence, paired_evidence

VIEWS = Path(ew.__file__).parent


def test_band_how_paired_and_unpaired() -> None:
    assert ew.band_how(100, "test images") == "95% paired bootstrap over 100 test images"
    assert ew.band_how(96, "channels", paired=False) == "95% bootstrap over 96 channels"


def test_band_how_always_separates_thousands() -> None:
    assert ew.band_how(1000, "test images") == "95% paired bootstrap over 1,000 test images"
    assert ew.band_how(12500, "test canvases", paired=False).endswith("over 12,500 test canvases")


def test_band_how_says_its_level() -> None:
    assert LEVEL == ew.LEVEL == 0.95 and ew.level_text() == "95%"
    assert ew.band_how(500, "test canvases", level=0.9).startswith("90% paired bootstrap")
    assert ew.level_text(0.975) == "97.5%" and ew.level_text(0.99) == "99%"
    with pytest.raises(ValueError, match="level"):
        ew.band_how(10, "test images", level=95)
    with pytest.raises(ValueError, match="count"):
        ew.band_how(-1, "test images")


def test_paired_evidence_writes_its_band_with_band_how() -> None:
    base = torch.rand(1000, generator=torch.Generator().manual_seed(0))
    e = paired_evidence("s", base + 0.1, base, ew.UNTRAINED)
    assert e.band_how == ew.band_how(1000, "test images")
    canvases = Evidence.paired("s", base[:500], base[:500], ew.UNTRAINED, units="test canvases")
    assert canvases.band_how == "95% paired bootstrap over 500 test canvases"


def test_controls_with_a_number() -> None:
    assert ew.random_query_key() == ew.random_query_key(1) == ew.RANDOM_QUERY_KEY
    assert ew.random_query_key(3) == f"{ew.RANDOM_QUERY_KEY} (3 draws)"
    with pytest.raises(ValueError, match="draws"):
        ew.random_query_key(0)
    assert ew.uniform_weights(0.0042) == f"{ew.UNIFORM_WEIGHTS} +0.004"
    assert ew.window_at_start(32.0) == f"{ew.WINDOW_AT_START} (32 px)"
    assert ew.at_block("class spread", "layer2.0") == "the class spread at layer2.0"
    assert ew.standard_error_how(1000, "test canvases", difference=True) == (
        "test-image standard error of a difference on 1,000 test canvases"
    )


def test_one_label_per_control() -> None:
    assert len(set(ew.CONTROLS)) == len(ew.CONTROLS)
    assert query_maps.MAP_CONTROL == ew.RANDOM_QUERY_KEY  # the notebooks' name for it


def _literals(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that are not docstrings (f-strings' literal parts too)."""
    tree = ast.parse(path.read_text())
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


SOURCES = sorted(p for p in VIEWS.glob("*.py") if p.name != "evidence_words.py")
# the words only evidence_words may write: its controls (the long ones; "the baseline" is also
# prose), and the pieces of a band's text
WRITTEN_ONCE = [c for c in ew.CONTROLS if len(c) > 15] + [
    "network before training",
    "random query",
    "random query and key",
    "bootstrap over",
    "95%",
    "standard error of",
]


def test_the_scan_finds_a_label_typed_in_place_and_skips_docstrings(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        'def f(x):\n    """Against the network before training."""\n'
        '    return g(x, control_label=f"the network before training {x}")\n'
    )
    assert [line for line, text in _literals(planted) if ew.UNTRAINED in text] == [3]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_view_writes_a_band_or_a_control_by_hand(path: Path) -> None:
    found = [
        f"{path.name}:{line}: {phrase!r} in {text!r}"
        for line, text in _literals(path)
        for phrase in WRITTEN_ONCE
        if phrase in text
    ]
    assert not found, "use attncv.views.evidence_words:\n" + "\n".join(found)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_control_labels_are_never_literals(path: Path) -> None:
    """A ``control_label`` (an argument, or a parameter's default) is one of the constants or a
    helper's result, never a string typed in place."""
    tree = ast.parse(path.read_text())
    literal = (ast.Constant, ast.JoinedStr)
    found = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword)
        and node.arg == "control_label"
        and isinstance(node.value, literal)
    ]
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            args = fn.args.kwonlyargs
            defaults = fn.args.kw_defaults
            found += [
                fn.lineno
                for a, d in zip(args, defaults, strict=True)
                if a.arg in ("control_label", "reference_label")
                and isinstance(d, literal)
                and getattr(d, "value", "") is not None  # None: a helper fills it in
            ]
    assert not found, f"{path.name}: control labels typed in place at lines {found}"


def test_the_ablation_controls_have_one_name_each() -> None:
    assert ew.SWITCHED_OFF == "the block switched off" and ew.UNIFORM_MAP == "a uniform map"
    assert {ew.SWITCHED_OFF, ew.UNIFORM_MAP} <= set(ew.CONTROLS)


def test_welch_how_names_its_level_seeds_and_spread() -> None:
    assert ew.welch_how(3, 3, 3.94) == (
        "95% Welch interval of a difference of the means of 3 and 3 seeds (Student's t at 3.9 "
        "df, from the standard error of each mean)"
    )
    assert ew.welch_how(2, 3, float("inf"), level=0.9).startswith("90% Welch")


@pytest.mark.parametrize(
    ("band", "decimals", "expected"),
    [
        (0.0834, 2, 3),  # two significant digits of the band: ±0.083, not ±0.08
        (0.0834, 4, 4),  # never fewer than the numbers' own format
        (4.6, 1, 1),
        (21.4, 1, 1),
        (21.4, 0, 0),
        (0.43, 1, 2),
        (0.0, 2, 2),  # no band: the format's decimals
        (float("inf"), 1, 1),
        (1e-12, 2, 6),  # at most 6
    ],
)
def test_band_decimals(band: float, decimals: int, expected: int) -> None:
    assert ew.band_decimals(band, decimals) == expected


def test_counts_and_ratios_read_as_sentences() -> None:
    assert ew.count_of(1, "seed") == "1 seed" and ew.count_of(3, "seed") == "3 seeds"
    assert ew.count_of(1000, "test image") == "1,000 test images"
    assert ew.count_of(2, "mouse", "mice") == "2 mice"
    assert [ew.times(n) for n in (0, 1, 2, 3)] == ["never", "once", "twice", "3 times"]
    assert ew.ratio_text(0.99, "the baseline's") == "0.99 times the baseline's"
    assert ew.ratio_text(1.234, "its speed", fmt=".1f") == "1.2 times its speed"
