"""One contract over every verdict builder of the views (as timm tests every model with one test).

Every chapter's "What it learned" ends with a :class:`~attncv.views.verdicts.Verdict` built by a
public ``*_verdict`` function of a views file. :data:`BUILDERS` calls each of them with inputs of
the shapes and kinds the chapters give them: real smoke-profile outputs (tiny networks trained
for one epoch on the synthetic stand-in, their controls from :mod:`attncv.train.controls`) where
that costs a fraction of a second, synthetic tensors shaped as the unit tests build them where
the chapter trains on canvases (the spatial transformer, the object canvases). Every verdict must
then pass :func:`check_contract`: the paper's observation and the run's, at least one piece of
evidence with a named control and a finite band that says how it was measured, words for every
outcome, a JSON record that keeps the outcome, and a callout with its title.

Discovery (:func:`discover`) finds every builder, so a new chapter's verdict cannot skip the
contract, and an entry whose builder is gone fails too. The contract is shown to refuse broken
verdicts. Wording (band texts, control labels) is left to the views: only structure is checked.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import inspect
import json
import math
import pkgutil
import re
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import pytest
import torch

import attncv.views
from attncv.data import synthetic
from attncv.train import get_profile, train_model
from attncv.train.controls import matched_query_key, redrawn_gates, untrained
from attncv.train.modes import train_modes, wz_scales
from attncv.train.noise import SEEDS, Noise
from attncv.views import ccnet as ccnetv
from attncv.views import danet as danetv
from attncv.views import eca as ecav
from attncv.views import query_maps as qm
from attncv.views import residual_attention as rav
from attncv.views import se as sev
from attncv.views import self_attention as sav
from attncv.views import sk as skv
from attncv.views.ablation import ablation_evidence
from attncv.views.block_use import strongest_block
from attncv.views.probe import module_input, tap_weights
from attncv.views.verdicts import MIXED, RECORD_MIME, SHORT, Evidence, Verdict, agree, both
from attncv.views.where import over_draws

pytestmark = pytest.mark.usefixtures("one_thread")

OUTCOMES = (True, False, None)  # every piece of evidence has one; every verdict has words for each
VERDICT_OUTCOMES = (*OUTCOMES, MIXED)  # a verdict whose evidence disagrees is mixed
LEVEL = re.compile(r"\d+(?:\.\d+)?%")  # a bootstrap's level: "95%"
SPREAD = re.compile(r"\b(?:sd|standard (?:deviation|error))\b", re.IGNORECASE)  # a seed/test SD
SENTENCE = re.compile(r"[A-Z0-9].*\.", re.DOTALL)  # starts as a sentence does, ends with a stop


# --- discovery ---


def discover() -> dict[str, Callable[..., Verdict]]:
    """Every public verdict builder of ``attncv.views``: a function defined in one of its modules
    (not imported there) whose name ends with ``_verdict`` or that is annotated to return a
    :class:`Verdict`, by ``"<module>.<name>"``."""
    found = {}
    for info in pkgutil.iter_modules(attncv.views.__path__):
        module = importlib.import_module(f"{attncv.views.__name__}.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            returns = inspect.signature(fn).return_annotation
            if name.endswith("_verdict") or returns in (Verdict, "Verdict"):
                found[f"{info.name}.{name}"] = fn
    return found


# --- the contract ---


def check_evidence(e: Evidence) -> None:
    """One comparison: what is measured, against a named control, within a finite band that
    says how it was measured (a bootstrap names its level; otherwise the band names the
    standard deviation or standard error it is)."""
    assert isinstance(e, Evidence), f"evidence must be Evidence, got {type(e).__name__}"
    assert e.statistic.strip(), "evidence without a statistic"
    assert e.control_label.strip(), f"{e.statistic!r}: no control label"
    assert isinstance(e.band, float | int) and math.isfinite(e.band) and e.band >= 0, (
        f"{e.statistic!r}: band {e.band!r} is not a finite number >= 0"
    )
    how = e.band_how
    assert how.strip(), f"{e.statistic!r}: the band does not say how it was measured"
    if "bootstrap" in how.lower():
        assert LEVEL.search(how), f"{e.statistic!r}: a bootstrap band without its level: {how!r}"
    else:
        assert SPREAD.search(how), f"{e.statistic!r}: the band names no level or kind: {how!r}"
    assert re.search(r"\d", how), f"{e.statistic!r}: the band names no count or size: {how!r}"
    assert e.expected in ("above", "below")
    for value in (e.trained, e.control):
        float(value)  # a number (NaN allowed: nothing measured; the record holds it as null)
    assert any(e.holds is o for o in OUTCOMES)


def check_contract(verdict: Verdict, *, unreachable: Mapping[bool | None, str] = {}) -> None:
    """What every verdict of the book must be. ``unreachable``: outcomes the builder cannot
    reach (with the reason), whose words may be left empty (the finding is then the outcome
    line)."""
    assert isinstance(verdict, Verdict), f"a builder returned {type(verdict).__name__}"
    assert verdict.paper.strip(), "no paper's observation"
    assert verdict.run.strip(), "no run's measurement"
    # every builder compares against a control: none is a verdict on a bare fact, so none may
    # come without evidence
    assert verdict.evidence, "a verdict without evidence"
    for e in verdict.evidence:
        check_evidence(e)
    assert any(verdict.holds is o for o in VERDICT_OUTCOMES), f"holds is {verdict.holds!r}"
    parts = [e.holds for e in verdict.evidence]  # parts of one observation, or seeds' repeats
    assert verdict.holds is both(*parts) or verdict.holds is agree(*parts), (
        "the outcome is not what the evidence says"
    )
    assert verdict.holds not in unreachable, f"reached {verdict.holds}, said to be unreachable"
    # words for every outcome, each a sentence (an unreachable one may be left out; mixed may
    # be worded, else the finding says which evidence disagrees)
    assert set(OUTCOMES) <= set(verdict.words) <= set(VERDICT_OUTCOMES), (
        f"words for {set(verdict.words)} only"
    )
    for outcome, text in verdict.words.items():
        if outcome in unreachable and not text:
            continue
        assert SENTENCE.fullmatch(text.strip()), f"words for {outcome}: not a sentence: {text!r}"
    assert SENTENCE.fullmatch(verdict.finding.strip()), f"finding: {verdict.finding!r}"
    # the record: plain JSON (no NaN), and it keeps the outcome
    try:
        record = json.loads(json.dumps(verdict.record(), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"the record is not plain JSON: {exc}") from exc
    if verdict.holds is MIXED:  # JSON holds the fourth outcome as its string
        assert record["holds"] == "mixed" and record["outcome"] == "mixed"
    else:
        assert record["holds"] is verdict.holds and record["outcome"] == verdict.short
    assert record["finding"] == verdict.finding
    assert record["paper"] == verdict.paper and record["run"] == verdict.run
    assert len(record["evidence"]) == len(verdict.evidence)
    for r, e in zip(record["evidence"], verdict.evidence, strict=True):
        assert r["holds"] is e.holds and r["control_label"] == e.control_label
        assert r["band"] == pytest.approx(e.band) and r["band_how"] == e.band_how
    assert verdict._repr_mimebundle_()[RECORD_MIME] == verdict.record()
    # the callout: its title, the observation, one table row per evidence
    page = verdict._repr_html_()
    title = re.search(r'class="attncv-verdict-title">([^<]*)</p>', page)
    assert title and html.escape(verdict.short) in title.group(1), "the callout has no title"
    assert html.escape(verdict.paper) in page
    assert page.count("<tr>") == len(verdict.evidence) + 1  # the header and a row each


# --- the inputs: smoke-profile runs, trained once for the module ---


class Smoke:
    """Tiny networks trained under the smoke profile (one epoch, width 16) on the synthetic
    stand-in, each trained on first use and kept in memory for the module: the ``isolated``
    fixture gives every test an empty runs cache, so the runs cache cannot share them."""

    def __init__(self) -> None:
        self.profile = get_profile("smoke", "cpu")
        self.data = synthetic(num_classes=4, train_per_class=16, test_per_class=10)
        self.images, self.labels = self.data.split("test")
        self._runs: dict[tuple, tuple[Any, Any]] = {}
        self._untrained: dict[str, Any] = {}

    def run(self, attention: str, *, seed: int = 0, **kwargs: Any) -> tuple[Any, Any]:
        key = (attention, seed, repr(sorted(kwargs.items())))
        if key not in self._runs:
            self._runs[key] = train_model(
                attention,
                self.data,
                self.profile,
                seed=seed,
                attention_kwargs=kwargs or None,
                cache=False,
                progress=False,
            )
        return self._runs[key]

    def model(self, attention: str, **kwargs: Any):
        return self.run(attention, **kwargs)[0]

    def result(self, attention: str, **kwargs: Any):
        return self.run(attention, **kwargs)[1]

    def untrained(self, attention: str):
        if attention not in self._untrained:
            self._untrained[attention] = untrained(attention, self.data, self.profile, calibrate=64)
        return self._untrained[attention]

    @cached_property
    def noise(self) -> Noise:
        """The baseline's seeds, as :func:`attncv.train.measure_noise` measures them."""
        accuracies = tuple(self.result("none", seed=s).final_acc for s in SEEDS)
        return Noise(accuracies, SEEDS, self.profile.name)

    @cached_property
    def modes(self) -> dict[str, tuple[Any, Any]]:
        """The non-local block in each pairwise function (the non-local chapter's runs)."""
        return train_modes(self.data, self.profile, progress=False)


@pytest.fixture(scope="module")
def smoke() -> Smoke:
    return Smoke()


def _sk_shares(model, s: Smoke) -> dict[int, torch.Tensor]:
    canvases = skv.size_canvases(s.data.split("test")[0])
    return skv.dilated_share(skv.branch_weights(model, s.data, canvases))


def _cbam_ends(model, s: Smoke) -> dict[str, torch.Tensor]:
    channel = tap_weights(model, s.data, s.images, "channel")
    return {b: channel[f"{b}.channel_tap"].flatten(1) for b in ("layer1.0", "layer4.1")}


def _danet_tv(s: Smoke, control: bool) -> dict[str, torch.Tensor]:
    model, tv = s.model("danet"), {}
    for stage in (3, 4):
        for b in (0, 1):
            module = getattr(model, f"layer{stage}")[b].after
            x = module_input(model, module, s.data.normalize(s.images))
            name = f"layer{stage}.{b}"
            if control:  # (D, N): random query/key at the trained logit scale, two draws
                draws = matched_query_key(module, x, draws=2)
                tv[name] = over_draws(
                    lambda m, x=x: danetv.query_dependence(danetv.position_weights(m, x)), draws
                )
            else:
                tv[name] = danetv.query_dependence(danetv.position_weights(module, x))
    return tv


def _ablations(name: str, block: str, s: Smoke, scale: str | None = None, both: bool = True):
    """The log-loss evidence of the chapters' test-time ablations of ``block`` (switched off,
    and a uniform map where ``both``)."""
    controls = ("off", "uniform") if both else ("off",)
    return [
        ablation_evidence(
            s.model(name),
            s.images,
            s.labels,
            block=block,
            scale=scale,
            control=c,
            prepare=s.data.normalize,
        )[0]
        for c in controls
    ]


def _ccnet(fn, s: Smoke) -> Verdict:
    module = s.model("ccnet").layer2[1].after  # 16x16 maps, as the chapter's
    feats = module_input(s.model("ccnet"), module, s.data.normalize(s.images[:8]))
    points = [(5, 10), (8, 8)]
    trained = ccnetv.off_cross_shares(ccnetv.passes(module, 2), feats, points)
    draws = matched_query_key(module, feats, draws=2)
    controls = torch.stack(
        [ccnetv.off_cross_shares(ccnetv.passes(d, 2), feats, points) for d in draws]
    )
    return fn(trained, controls, gamma=module.gamma.item())


def _map_stats(model, s: Smoke) -> dict[str, torch.Tensor]:
    return qm.map_stats_per_image(*qm.block_maps(model, s.data, "layer2.1"))


def _maps(fn, model, s: Smoke) -> Verdict:
    """Self-attention's and non-local's maps against matched random query/key (3 draws)."""
    draws = matched_query_key(model, s.data.normalize(s.images), draws=3)
    control = qm.map_stats_over_draws(draws, s.data, "layer2.1")
    return fn(_map_stats(model, s), control, where="layer2.1")


def _use(fn, model, scales, s: Smoke) -> Verdict:
    """A use verdict: test-time ablation at the block with the largest learned scale."""
    kw = {"block": strongest_block(scales), "prepare": s.data.normalize}
    off = ablation_evidence(model, s.images, s.labels, control="off", **kw)
    return fn(off, ablation_evidence(model, s.images, s.labels, control="uniform", **kw), scales)


def _placements(n: int = 200) -> torch.Tensor:
    """Object centres (normalised) and sides (a fraction of the 64-pixel canvas), as
    :func:`attncv.train.canvas.canvas_task` returns them: 16-24 px objects."""
    g = torch.Generator().manual_seed(0)
    centre = torch.rand(n, 2, generator=g) * 1.2 - 0.6
    side = torch.rand(n, 1, generator=g) * 0.125 + 0.25
    return torch.cat([centre, side], 1)


def _theta(placements: torch.Tensor, *, follow: float = 0.8) -> torch.Tensor:
    """A window (N, 2, 3) of side 0.5 moved ``follow`` of the way to each object's centre."""
    g = torch.Generator().manual_seed(1)
    n = len(placements)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 0.5 + 0.02 * torch.randn(n, generator=g)
    theta[:, :, 2] = follow * placements[:, :2] + 0.05 * torch.randn(n, 2, generator=g)
    return theta


def _redrawn(draws: int = 10, seed: int = 10) -> list[torch.Tensor]:
    """The STN's control: windows (one (N, 2, 3) per draw) that follow nothing."""
    return [_theta(_placements(), follow=0.0) + 0.01 * (seed + i) for i in range(draws)]


def _stn_noise():
    from attncv.views.stn_accuracy import SeedNoise

    return SeedNoise({"plain": (0.25, 0.27), "glimpse": (0.31, 0.33)}, (0, 1))


def _where(fn, s: Smoke) -> Verdict:
    """Two training seeds, each a per-canvas statistic (N,) against 3 draws of its control."""
    g = torch.Generator().manual_seed(3)
    controls = [0.5 + 0.05 * torch.randn(3, 60, generator=g, dtype=torch.float64) for _ in "ab"]
    trained = [c[0] + 0.1 for c in controls]
    return fn(
        trained,
        controls,
        statistic="the twin's share",
        where="layer2.1",
        paper="paper",
        control_label="control (3 draws)",
    )


VAR2 = {"kernel_size": 1, "shared": False}  # ECA's chapter: SE-Var2, one weight per channel

# "<views module>.<builder>": a call of the builder (given as fn) on the smoke inputs (s).
BUILDERS: dict[str, Callable[[Callable[..., Verdict], Smoke], Verdict]] = {
    # real smoke outputs
    "se.se_verdict": lambda fn, s: fn(
        sev.gates(s.model("se"), s.data),
        [sev.gates(m, s.data) for m in redrawn_gates(s.model("se"), s.data, draws=2)],
        s.labels,
        num_classes=s.data.num_classes,
    ),
    "sk.sk_verdict": lambda fn, s: fn(
        _sk_shares(s.model("sk"), s),
        [_sk_shares(m, s) for m in redrawn_gates(s.model("sk"), s.data, draws=2)],
    ),
    "eca.eca_verdict": lambda fn, s: fn(ecav.neighbour_ablation(s.model("eca"), s.data)),
    "eca.var2_verdict": lambda fn, s: fn(
        [s.result("eca").final_acc, s.result("eca", seed=1).final_acc],
        s.result("eca", **VAR2).final_acc,
        s.noise,
    ),
    "cbam.specificity_verdict": lambda fn, s: fn(
        _cbam_ends(s.model("cbam"), s),
        [_cbam_ends(m, s) for m in redrawn_gates(s.model("cbam"), s.data, draws=2)],
        s.labels,
        s.data.num_classes,
        resamples=200,
    ),
    "danet.danet_verdict": lambda fn, s: fn(_danet_tv(s, False), _danet_tv(s, True)),
    "ccnet.ccnet_verdict": _ccnet,
    "danet.use_verdict": lambda fn, s: fn(
        _ablations("danet", "layer3.1.after", s, scale="alpha"), part="PAM", paper="p"
    ),
    "block_use.loss_use_verdict": lambda fn, s: fn(
        _ablations("ccnet", "layer4.1.after", s), part="the block", paper="p"
    ),
    "ccnet.use_verdict": lambda fn, s: fn(
        _ablations("ccnet", "layer4.1.after", s), block="layer4.1.after"
    ),
    "residual_attention.mask_use_verdict": lambda fn, s: fn(
        rav.mask_use_evidence(
            s.model("residual_attention"), s.images, s.labels, prepare=s.data.normalize
        )
    ),
    "non_local.use_verdict": lambda fn, s: _use(
        fn, s.modes["embedded_gaussian"][0], wz_scales(s.modes["embedded_gaussian"][0]), s
    ),
    "non_local.nonlocal_maps_verdict": lambda fn, s: _maps(fn, s.modes["embedded_gaussian"][0], s),
    "non_local.modes_verdict": lambda fn, s: fn(
        {mode: result.final_acc for mode, (_, result) in s.modes.items()},
        s.noise,
        len(s.labels),
    ),
    "self_attention.use_verdict": lambda fn, s: _use(
        fn, s.model("self_attention"), sav.gammas(s.model("self_attention")), s
    ),
    "self_attention.sagan_maps_verdict": lambda fn, s: _maps(fn, s.model("self_attention"), s),
    "verdicts.gain_verdict": lambda fn, s: fn(
        "SE", s.result("se").final_acc, s.result("none").final_acc, s.noise, paper="paper"
    ),
    "verdicts.accuracy_verdict": lambda fn, s: fn(
        "paper", "SE", s.result("se"), s.result("none"), s.noise
    ),
    # synthetic inputs of the chapters' shapes (their runs train on 64x64 canvases)
    "where.where_verdict": _where,
    "stn.where_verdict": lambda fn, s: fn(
        [_theta(_placements()), _theta(_placements(), follow=0.7)],
        [_redrawn(), _redrawn(seed=20)],
        _placements(),
        canvas=64,
        start=0.5,
    ),
    "stn.scale_verdict": lambda fn, s: fn(
        [_theta(_placements()), _theta(_placements(), follow=0.7)],
        [_redrawn(), _redrawn(seed=20)],
        _placements(),
        canvas=64,
    ),
    "stn_accuracy.accuracy_verdict": lambda fn, s: fn((0.31, 0.33), (0.25, 0.27), _stn_noise()),
    "stn_accuracy.parts_verdict": lambda fn, s: fn(0.36, 0.27, (0.25, 0.27), _stn_noise()),
}

# Outcomes a builder cannot reach, why, and a check of the why on its verdict.
UNREACHABLE: dict[str, tuple[dict[bool | None, str], Callable[[Verdict], bool]]] = {
    "non_local.modes_verdict": (
        {True: "the paper's claim is a range of 0: a range (>= 0) cannot fall below 0"},
        lambda v: all(
            e.expected == "below" and e.control == 0 and e.trained >= 0 for e in v.evidence
        ),
    ),
}


# --- the tests ---


def test_every_builder_is_in_the_contract() -> None:
    missing = sorted(set(discover()) - set(BUILDERS))
    assert not missing, f"verdict builders without an entry in BUILDERS: {missing}"


def test_every_entry_names_a_builder() -> None:
    stale = sorted(set(BUILDERS) - set(discover()))
    assert not stale, f"BUILDERS names builders that no longer exist: {stale}"
    assert set(UNREACHABLE) <= set(BUILDERS)


def test_discovery_finds_a_new_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chapter's new verdict is found (so it must join the table); a helper or an import of
    another module's builder is not."""

    def planted_verdict() -> Verdict: ...

    def helper() -> Verdict: ...

    planted_verdict.__module__ = helper.__module__ = sev.__name__
    monkeypatch.setattr(sev, "planted_verdict", planted_verdict, raising=False)
    monkeypatch.setattr(sev, "helper", helper, raising=False)
    monkeypatch.setattr(sev, "_private_verdict", planted_verdict, raising=False)
    found = discover()
    assert {"se.planted_verdict", "se.helper"} <= set(found)
    assert "se._private_verdict" not in found
    assert "eca.gain_verdict" not in found  # imported there from verdicts: found once
    assert set(found) - set(BUILDERS) == {"se.planted_verdict", "se.helper"}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_keeps_the_contract(name: str, smoke: Smoke) -> None:
    builder = discover().get(name)
    assert builder is not None, f"{name} is gone"
    verdict = BUILDERS[name](builder, smoke)
    unreachable, why = UNREACHABLE.get(name, ({}, None))
    if why is not None:
        assert why(verdict), f"{name}: {unreachable}, but the evidence says otherwise"
    check_contract(verdict, unreachable=unreachable)


# --- the contract can fail ---


@pytest.fixture(scope="module")
def good() -> Verdict:
    """A verdict that keeps the contract, from synthetic per-image values."""
    base = 0.5 + 0.1 * torch.rand(40, generator=torch.Generator().manual_seed(0))
    e = Evidence.paired("a share", base + 0.2, base, "a control", fmt=".1%")
    return Verdict(
        paper="p",
        run="r",
        evidence=(e,),
        words={o: f"The share is {SHORT[o]}." for o in (True, False, None)},
    )


def _evidence(v: Verdict, **changes: object) -> Verdict:
    return dataclasses.replace(v, evidence=(dataclasses.replace(v.evidence[0], **changes),))


# A breakage of the good verdict, and the words of the check that refuses it.
BROKEN: dict[str, tuple[Callable[[Verdict], Verdict], str]] = {
    "empty control label": (lambda v: _evidence(v, control_label=" "), "no control label"),
    "infinite band": (lambda v: _evidence(v, band=math.inf), "not a finite number"),
    "band without how": (lambda v: _evidence(v, band_how=""), "does not say how"),
    "bootstrap without its level": (
        lambda v: _evidence(v, band_how="paired bootstrap over 40 test images"),
        "without its level",
    ),
    "band of no kind": (
        lambda v: _evidence(v, band_how="over 40 test images"),
        "names no level or kind",
    ),
    "no evidence": (lambda v: dataclasses.replace(v, evidence=()), "without evidence"),
    "no paper": (lambda v: dataclasses.replace(v, paper=""), "no paper's observation"),
    "no run": (lambda v: dataclasses.replace(v, run="  "), "no run's measurement"),
    "words missing an outcome": (
        lambda v: dataclasses.replace(v, words={k: t for k, t in v.words.items() if k is not None}),
        "words for",
    ),
    "empty words": (
        lambda v: dataclasses.replace(v, words=dict.fromkeys(OUTCOMES, "")),
        "not a sentence",
    ),
    "words not a sentence": (
        lambda v: dataclasses.replace(v, words=dict.fromkeys(OUTCOMES, "training did it")),
        "not a sentence",
    ),
    "an outcome the evidence does not give": (
        lambda v: dataclasses.replace(v, holds=False),
        "not what the evidence says",
    ),
    "a NaN in the record": (
        lambda v: dataclasses.replace(v, evidence=(v.evidence[0], _NaNRecord())),
        "not plain JSON",
    ),
}


@dataclasses.dataclass(frozen=True)
class _NaNRecord(Evidence):
    """Evidence that holds, whose record carries a NaN (a number JSON cannot hold)."""

    statistic: str = "s"
    trained: float = 0.7
    control: float = 0.5
    control_label: str = "control"
    band: float = 0.1
    band_how: str = "95% paired bootstrap over 40 test images"

    def record(self) -> dict[str, object]:
        return super().record() | {"trained": math.nan}


def test_the_good_verdict_keeps_the_contract(good: Verdict) -> None:
    check_contract(good)


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_the_contract_refuses_a_broken_verdict(good: Verdict, breakage: str) -> None:
    breaks, refusal = BROKEN[breakage]
    with pytest.raises(AssertionError, match=refusal):
        check_contract(breaks(good))


def test_an_unreachable_outcome_must_stay_unreached(good: Verdict) -> None:
    """Empty words are allowed only for an outcome the builder cannot reach, and the verdict
    must not have reached it."""
    words = dict(good.words) | {False: ""}
    check_contract(dataclasses.replace(good, words=words), unreachable={False: "cannot"})
    assert good.holds is True
    with pytest.raises(AssertionError, match="said to be unreachable"):
        check_contract(good, unreachable={True: "cannot"})


def test_a_mixed_verdict_keeps_the_contract(good: Verdict) -> None:
    """Evidence that disagrees (one piece holds, one shows the opposite) gives the fourth
    outcome; the contract accepts it with or without words for it, and its record says so."""
    opposite = dataclasses.replace(good.evidence[0], trained=good.evidence[0].control - 1.0)
    assert good.evidence[0].holds is True and opposite.holds is False
    mixed = dataclasses.replace(good, holds=None, evidence=(good.evidence[0], opposite))
    assert mixed.holds is MIXED
    check_contract(mixed)  # no words for it: the finding says what disagrees
    assert mixed.finding.startswith("The evidence disagrees")
    worded = dataclasses.replace(mixed, words=dict(good.words) | {MIXED: "Part of it holds."})
    check_contract(worded)
    assert worded.finding == "Part of it holds." and worded.record()["outcome"] == "mixed"
    with pytest.raises(AssertionError, match="words for"):
        check_contract(dataclasses.replace(mixed, words=dict(good.words) | {"maybe": "No."}))
