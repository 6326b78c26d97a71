"""The training loop: schedules, learning, progress output, results, determinism."""

from __future__ import annotations

import pytest
import torch

from attncv.data import synthetic
from attncv.model import resnet18
from attncv.train import FitResult, TrainConfig, evaluate, fit, lr_factor, predict, set_seed

TINY = TrainConfig(
    epochs=3, batch_size=32, lr=0.05, schedule="onecycle", warmup_epochs=1, label_smoothing=0.1
)


@pytest.fixture(scope="module")
def data():
    return synthetic(train_per_class=16, test_per_class=4)


def _model(seed: int = 0):
    set_seed(seed)
    return resnet18(10, width=8)


def test_warmup_rises_linearly_to_the_peak() -> None:
    cfg = TrainConfig(epochs=10, warmup_epochs=2)
    factors = [lr_factor(cfg, s, 10) for s in range(20)]
    assert factors[0] == pytest.approx(0.05) and factors[19] == pytest.approx(1.0)
    assert all(b > a for a, b in zip(factors, factors[1:], strict=False))


def test_onecycle_and_cosine_end_near_zero() -> None:
    for schedule in ("onecycle", "cosine"):
        cfg = TrainConfig(epochs=10, warmup_epochs=1, schedule=schedule)
        assert lr_factor(cfg, 99, 10) < 0.02
        assert lr_factor(cfg, 10, 10) == pytest.approx(1.0)


def test_step_schedule_drops_at_the_milestones() -> None:
    cfg = TrainConfig(
        epochs=160, schedule="step", milestones=(80, 120), lr_decay=0.1, warmup_epochs=1
    )
    assert lr_factor(cfg, 79 * 10, 10) == pytest.approx(1.0)
    assert lr_factor(cfg, 80 * 10, 10) == pytest.approx(0.1)
    assert lr_factor(cfg, 120 * 10, 10) == pytest.approx(0.01)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear-ish")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)


def test_fit_lowers_the_loss_and_records_everything(data) -> None:
    result = fit(_model(), data, TINY, progress=False)
    assert isinstance(result, FitResult)
    losses = result.curve("train_loss")
    assert losses[-1] < losses[0]
    assert len(result.history) == 3
    assert result.dataset == data.description
    assert result.device.startswith("CPU")
    assert result.images_per_second > 0 and result.train_seconds > 0
    assert result.parameters == sum(p.numel() for p in _model().parameters())
    assert 0 <= result.final_acc <= 1 and result.best_acc >= result.final_acc
    assert result.best5_acc <= result.best_acc
    assert "synthetic" in result.summary() and '"history"' in result.to_json()


def test_same_seed_same_run(data) -> None:
    a = fit(_model(), data, TINY, epochs=1, progress=False)
    b = fit(_model(), data, TINY, epochs=1, progress=False)
    assert a.history[0]["train_loss"] == pytest.approx(b.history[0]["train_loss"], rel=1e-5)


def test_progress_bar_shows_loss_and_accuracy(data, capsys) -> None:
    fit(_model(), data, TINY, epochs=1, progress="auto")
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err and "acc=" in err and "test=" in err


def test_log_progress_prints_a_line_per_epoch(data, capsys) -> None:
    fit(_model(), data, TINY, epochs=2, progress="log")
    out = capsys.readouterr().out
    assert out.count("epoch ") >= 2 and "test" in out and "images/s" in out


def test_progress_mode_from_environment(data, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ATTNCV_PROGRESS", "log")
    fit(_model(), data, TINY, epochs=1)
    assert "epoch   1/1" in capsys.readouterr().out


def test_unknown_progress_mode_is_refused(data) -> None:
    with pytest.raises(ValueError, match="progress"):
        fit(_model(), data, TINY, progress="fancy")


def test_divergence_is_reported(data) -> None:
    with pytest.raises(FloatingPointError, match="learning rate"):
        fit(_model(), data, TINY, epochs=1, lr=1e12, progress=False)


def test_evaluate_and_predict_agree(data) -> None:
    model = _model()
    loss, acc = evaluate(model, data)
    logits, labels = predict(model, data)
    assert logits.shape == (len(data.test_labels), 10)
    assert acc == pytest.approx((logits.argmax(1) == labels).float().mean().item())
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(logits, labels).item(), rel=1e-5)
