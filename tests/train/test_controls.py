"""The controls that are networks (attncv.train.controls): "the network before training" and
random query/key weights."""

import pytest
import torch

from attncv.attention.non_local import NonLocal
from attncv.data import synthetic
from attncv.train.controls import calibrated, random_projections, untrained
from tests.views.test_query_maps import _model


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
