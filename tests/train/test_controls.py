"""The controls that are networks (attncv.train.controls): "the network before training",
random query/key weights (as drawn, and matched to the trained logit scale) and gates re-drawn on
the trained network."""

import pytest
import torch

from attncv.attention import registry
from attncv.attention.ccnet import CCNet
from attncv.attention.danet import DANet
from attncv.attention.non_local import NonLocal
from attncv.attention.self_attention import SelfAttention
from attncv.data import synthetic
from attncv.model import resnet18
from attncv.train.controls import (
    calibrated,
    gates,
    logit_scale,
    matched_query_key,
    random_projections,
    redrawn_gates,
    untrained,
)
from tests.views.test_query_maps import _model

pytestmark = pytest.mark.usefixtures("one_thread")
BN = torch.nn.modules.batchnorm._BatchNorm


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=3, train_per_class=2, test_per_class=4)


def test_untrained_is_the_network_train_model_starts_from() -> None:
    from types import SimpleNamespace

    import attncv

    images = torch.randint(0, 255, (40, 3, 32, 32), dtype=torch.uint8)
    data = SimpleNamespace(  # all it reads from the data
        num_classes=10,
        device="cpu",
        split=lambda name: (images, torch.zeros(40, dtype=torch.long)),
        normalize=lambda x: x.float() / 255 - 0.5,
        transform=None,
    )
    prof = attncv.get_profile("smoke")
    a = untrained("cbam", data, prof, calibrate=0)
    b = untrained("cbam", data, prof, calibrate=40)
    attncv.set_seed(0)
    fresh = attncv.resnet18(10, attention="cbam", width=prof.width)
    assert not a.training and not b.training
    for p, q, r in zip(a.parameters(), b.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(p, q) and torch.equal(p, r)  # the same untrained weights
    bn_a, bn_b = a.stem[1], b.stem[1]
    assert bn_a.running_mean.abs().sum() == 0 and bn_a.running_var.eq(1).all()
    assert bn_b.running_mean.abs().sum() > 0 and bn_b.momentum == 0.1  # measured on data


def test_calibrated_sees_the_images_as_training_does() -> None:
    from types import SimpleNamespace

    images = torch.randint(0, 255, (40, 3, 8, 8), dtype=torch.uint8)

    def data(transform):
        return SimpleNamespace(
            split=lambda name: (images, torch.zeros(40, dtype=torch.long)),
            normalize=lambda x: x.float() / 255,
            transform=transform,
        )

    def net():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))

    plain = calibrated(net(), data(None), 40)
    dark = calibrated(net(), data(lambda x, gen: x // 4), 40)  # e.g. a canvas: mostly dark
    assert not plain.training and not dark.training
    assert not torch.allclose(plain[1].running_mean, dark[1].running_mean)
    assert torch.equal(calibrated(net(), data(None), 0)[1].running_var, torch.ones(4))


def test_random_projections(data) -> None:
    model = _model(data, scale=0.5)
    twin = random_projections(model, seed=1)
    a, b = model.layer2[1].after, twin.layer2[1].after
    assert not torch.equal(a.query.weight, b.query.weight)
    assert not torch.equal(a.key.weight, b.key.weight)
    assert torch.equal(a.value.weight, b.value.weight) and a.gamma == b.gamma
    assert torch.equal(model.stem[0].weight, twin.stem[0].weight)
    nl = random_projections(_model(data, "non_local", 0.5))
    assert isinstance(nl.layer3[0].after, NonLocal)


# --- random query/key at the trained logit scale ---

QUERY_KEY = [  # (attention, its kwargs): every block with query/key projections, every mode
    ("self_attention", {}),
    ("danet", {}),
    ("ccnet", {}),
    ("non_local", {"mode": "embedded_gaussian"}),
    ("non_local", {"mode": "dot_product"}),
    ("non_local", {"mode": "concatenation"}),
    ("non_local", {"mode": "embedded_gaussian", "sub_sample": True}),
]


def _projection_names(block) -> tuple[str, str]:
    return ("theta", "phi") if isinstance(block, NonLocal) else ("query", "key")


def _blocks(model) -> dict[str, torch.nn.Module]:
    kinds = SelfAttention | DANet | CCNet | NonLocal
    return {n: m for n, m in model.named_modules() if isinstance(m, kinds)}


def _inputs(model, x) -> dict[str, torch.Tensor]:
    """What each attention block of ``model`` receives for ``x``, in eval mode."""
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        b.register_forward_pre_hook(lambda _m, args, n=n: seen.update({n: args[0]}))
        for n, b in _blocks(model).items()
    ]
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return seen


def _trained(data, attention: str, kwargs: dict):
    """A stand-in for a trained network: residual scales switched on (the blocks change the
    features the next ones see), queries shrunk, so the logits are narrower than a draw's, and
    batch-norm statistics measured on the training images."""
    torch.manual_seed(0)
    model = resnet18(3, attention=attention, width=16, attention_kwargs=kwargs or None)
    with torch.no_grad():
        for m in _blocks(model).values():
            scale = m.bn.weight if isinstance(m, NonLocal) else getattr(m, "gamma", None)
            for p in (scale, getattr(m, "alpha", None), getattr(m, "beta", None)):
                if p is not None:
                    p.fill_(0.5)
            if not hasattr(m, "theta") and not hasattr(m, "query"):
                continue  # the Gaussian non-local block: no projections
            query, key = (getattr(m, p) for p in _projection_names(m))
            both = getattr(m, "mode", "") == "concatenation"  # its logits shrink with both
            for p in [*query.parameters(), *(key.parameters() if both else ())]:
                p.mul_(0.3)
    return calibrated(model, data, 6)


@pytest.fixture(scope="module")
def images(data):
    return data.normalize(data.split("test")[0][:4])  # (4, 3, 32, 32)


@pytest.mark.parametrize(("attention", "kwargs"), QUERY_KEY)
def test_matched_query_key_has_the_trained_logit_scale(attention, kwargs, data, images) -> None:
    model = _trained(data, attention, kwargs)
    state = torch.random.get_rng_state()
    draws = matched_query_key(model, images, draws=2, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())  # the global random state untouched
    assert len(draws) == 2
    trained = {n: logit_scale(model.get_submodule(n), x) for n, x in _inputs(model, images).items()}
    assert len(trained) == len(_blocks(model)) >= 4  # every block measured
    for i, draw in enumerate(draws):
        raw = random_projections(model, seed=3 + i)  # the same draw before the rescaling
        before = {n: logit_scale(raw.get_submodule(n), x) for n, x in _inputs(raw, images).items()}
        after = {n: logit_scale(draw.get_submodule(n), x) for n, x in _inputs(draw, images).items()}
        for name, scale in trained.items():
            assert after[name] == pytest.approx(scale, rel=1e-4), name
        # unmatched, a draw's logits are spread unlike the trained ones (here 2-4x wider, but
        # a concatenation's ReLU can land near the trained spread in one block by chance)
        assert max(abs(before[n] / scale - 1) for n, scale in trained.items()) > 0.5


@pytest.mark.parametrize(("attention", "kwargs"), QUERY_KEY)
def test_matched_draws_differ_only_in_query_and_key(attention, kwargs, data, images) -> None:
    model = _trained(data, attention, kwargs)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    draws = matched_query_key(model, images, draws=2, seed=3)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # untouched
    projections = {
        f"{n}.{p}.{w}"
        for n, b in _blocks(model).items()
        for p in _projection_names(b)
        for w in ("weight", "bias")
    }
    trained = model.state_dict()
    first, second = (d.state_dict() for d in draws)
    assert first.keys() == trained.keys() == second.keys()
    for key, value in trained.items():
        if key in projections:  # re-drawn: unlike the trained weights and unlike each other
            assert not torch.equal(first[key], value) and not torch.equal(first[key], second[key])
        else:
            assert torch.equal(first[key], value) and torch.equal(second[key], value), key
    raw = random_projections(model, seed=3).state_dict()  # draw 0 is seed 3's, rescaled
    for n, b in _blocks(model).items():
        query, key = (f"{n}.{p}.weight" for p in _projection_names(b))
        ratio = first[query] / raw[query]  # one positive factor for the whole query
        assert ratio.min() > 0 and torch.allclose(ratio, ratio.mean().expand_as(ratio))
        if getattr(b, "mode", None) == "concatenation":  # theta and phi by the one factor
            assert torch.allclose(first[key] / raw[key], ratio)
        else:
            assert torch.equal(first[key], raw[key])  # the key as drawn


def test_logit_scale_is_the_spread_of_the_blocks_own_logits() -> None:
    """Against the weights each block routes through its tap: a softmax's log is the logits
    less one constant per row (the same spread over the keys); the dot product and the
    concatenation tap their pairwise values themselves."""
    from attncv.attention.probe import capture

    torch.manual_seed(0)
    x = 0.5 * torch.randn(2, 8, 6, 6)
    blocks = [SelfAttention(8, reduction=2), DANet(8, reduction=2), CCNet(8, reduction=2)]
    blocks += [NonLocal(8, mode=m) for m in ("embedded_gaussian", "gaussian", "dot_product")]
    blocks += [NonLocal(8, mode="concatenation"), NonLocal(8, sub_sample=True)]
    for block in blocks:
        with capture(block.eval(), "position") as maps, torch.no_grad():
            block(x)
        w = next(iter(maps.values()))  # (2, 36, S); CCNet's first pass: (2, 6, 6, 6 + 6)
        if isinstance(block, CCNet):  # its own place in its column is weighted 0 (the row has it)
            first = w.flatten(1, 2)[:2]  # (2, 36, 12): the first pass (the tap keeps both)
            w = first[first > 0].view(2, 36, 11)
        softmax = isinstance(block, SelfAttention | DANet | CCNet) or "gaussian" in block.mode
        logits = w.log() if softmax else w
        expected = logits.double().std(dim=-1, correction=0).mean().item()
        assert logit_scale(block, x) == pytest.approx(expected, rel=1e-4), block
    with pytest.raises(ValueError, match="no query/key logits"):
        logit_scale(torch.nn.Conv2d(8, 8, 1), x)


def test_matched_query_key_for_one_block_or_given_features(data, images) -> None:
    torch.manual_seed(0)
    block = DANet(16, reduction=2).eval()
    x = torch.randn(3, 16, 5, 5)
    with torch.no_grad():
        block.query.weight.mul_(0.2)
    (draw,) = matched_query_key(block, x, draws=1)  # one block and its input features
    assert logit_scale(draw, x) == pytest.approx(logit_scale(block, x), rel=1e-4)
    model = _trained(data, "self_attention", {})
    features = _inputs(model, images)  # {block name: its features}, the same for every draw
    for draw in matched_query_key(model, features, draws=2):
        for name, f in features.items():
            trained = logit_scale(model.get_submodule(name), f)
            assert logit_scale(draw.get_submodule(name), f) == pytest.approx(trained, rel=1e-4)
    with pytest.raises(ValueError, match="features of every query/key block"):
        matched_query_key(model, {"layer2.0.after": features["layer2.0.after"]})


def test_matched_query_key_refuses_what_it_cannot_draw(data, images) -> None:
    model = _trained(data, "self_attention", {})
    for draws in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="draws must be a positive integer"):
            matched_query_key(model, images, draws=draws)
    gaussian = _trained(data, "non_local", {"mode": "gaussian"})  # no theta and phi
    with pytest.raises(ValueError, match="no block with query/key projections"):
        matched_query_key(gaussian, images)


# --- gates re-drawn on the trained network ---

GATES = [
    ("se", {}),
    ("sk", {}),
    ("eca", {}),
    ("eca", {"shared": False}),
    ("cbam", {}),
    ("coordinate_attention", {}),
    ("residual_attention", {}),
]


def _trained_gates(data, attention: str, kwargs: dict):
    """A stand-in for a trained network: every weight moved off its initialisation, batch-norm
    statistics measured on the training images."""
    torch.manual_seed(0)
    stages = (3,) if attention == "residual_attention" else None  # the heaviest: one stage
    model = resnet18(
        3, attention=attention, width=16, attention_stages=stages, attention_kwargs=kwargs or None
    )
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return calibrated(model, data, 6)


@pytest.mark.parametrize(("attention", "kwargs"), GATES)
def test_redrawn_gates_differ_only_in_the_gates(attention, kwargs, data) -> None:
    model = _trained_gates(data, attention, kwargs)
    found = gates(model)
    assert found and all(registry.entry(attention).factory is type(g) for g in found.values())
    inside = {f"{n}.{p}" for n, g in found.items() for p, _ in g.named_parameters()}
    state = torch.random.get_rng_state()
    draws = redrawn_gates(model, data, draws=2, seed=1, calibrate=6)
    assert torch.equal(state, torch.random.get_rng_state())  # the global random state untouched
    first, second = (dict(d.named_parameters()) for d in draws)
    norms = {
        f"{n}.{p}"
        for n, m in model.named_modules()
        if isinstance(m, BN)
        for p in ("weight", "bias")
    }
    drawn = inside - norms  # BN's weight and bias are 1 and 0 in every draw
    assert drawn and all(not torch.equal(first[n], second[n]) for n in drawn)  # each draw its own
    for draw in draws:
        assert not draw.training
        params = dict(draw.named_parameters())
        for name, p in model.named_parameters():  # parameters: BN running stats are buffers
            if name in inside:  # every parameter of every gate re-drawn
                assert not torch.equal(params[name], p), name
            else:  # the backbone as trained
                assert torch.equal(params[name], p), name
        # the statistics re-measured: before the first gate as the trained net's, after it not
        buffers, trained = dict(draw.named_buffers()), dict(model.named_buffers())
        stem, last = "stem.1.running_mean", "layer4.1.bn2.running_mean"
        assert torch.equal(buffers[stem], trained[stem])
        assert not torch.allclose(buffers[last], trained[last])
    again = redrawn_gates(model, data, draws=1, seed=2, calibrate=6)[0]  # draw i: seed + i
    for name, p in again.state_dict().items():
        assert torch.equal(p, draws[1].state_dict()[name]), name


def test_redrawn_gates_draw_as_the_constructors_do(data) -> None:
    model = _trained_gates(data, "eca", {"shared": False})
    (draw,) = redrawn_gates(model, data, draws=1, calibrate=0)
    for gate in gates(draw).values():
        assert gate.weight.abs().max() <= 1 / gate.kernel_size**0.5  # ECA's uniform(+-1/sqrt k)
    model = _trained_gates(data, "sk", {})
    (draw,) = redrawn_gates(model, data, draws=1, calibrate=0)  # BN in the gates: reset
    bn = draw.layer1[0].attention.fc[1]
    assert torch.equal(bn.running_var, torch.ones_like(bn.running_var))
    assert torch.equal(bn.weight, torch.ones_like(bn.weight))


def test_redrawn_gates_refuses_what_is_not_a_gate(data) -> None:
    model = _trained_gates(data, "se", {})
    for draws in (0, -2, False):
        with pytest.raises(ValueError, match="draws must be a positive integer"):
            redrawn_gates(model, data, draws=draws, calibrate=0)
    with pytest.raises(ValueError, match="not a gate.*matched_query_key"):
        redrawn_gates(_trained(data, "self_attention", {}), data, calibrate=0)
    with pytest.raises(ValueError, match="no attention gate"):
        redrawn_gates(resnet18(3, width=16), data, calibrate=0)
