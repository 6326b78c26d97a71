"""The run cache: identical runs load, anything different trains."""

from __future__ import annotations

import pytest

from attncv.data import synthetic
from attncv.train import get_profile
from attncv.train.runs import runs_dir, train_model


@pytest.fixture(scope="module")
def data():
    return synthetic(train_per_class=8, test_per_class=2)


def test_second_identical_run_is_loaded(data, capsys) -> None:
    prof = get_profile("smoke", "cpu")
    model, first = train_model("none", data, prof, progress=False)
    assert len(list(runs_dir().glob("none-*.pt"))) == 1
    model2, second = train_model("none", data, prof, progress=False)
    assert "Loaded the identical run" in capsys.readouterr().out
    assert second.history == first.history
    for a, b in zip(model.state_dict().values(), model2.state_dict().values(), strict=True):
        assert (a == b).all()


def test_a_different_run_trains(data) -> None:
    prof = get_profile("smoke", "cpu")
    train_model("none", data, prof, progress=False)
    _, other = train_model("none", data, prof, progress=False, label_smoothing=0.0)
    assert other.config["label_smoothing"] == 0.0
    assert len(list(runs_dir().glob("none-*.pt"))) == 2
