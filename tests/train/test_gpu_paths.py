"""The GPU code paths of the network and of fit(), exercised on a CPU (see
tests/attention/test_gpu_paths.py for the modules alone).

ResNet-18 with every registry module, and the baseline, under each setting a GPU run uses
(autocast in bf16; autocast in fp16 with a GradScaler; channels_last; bf16 with channels_last,
fit()'s choice on a GPU):

- forward, every network under every setting: every residual block hands its activations on in
  the autocast dtype (an fp32 block output doubles the memory of what follows), the logits come
  out of autocast in its dtype (predict() hands back fp32) and agree with the fp32 network's
  within a stated relative tolerance: bf16 5e-2, fp16 1e-2, fp32 channels_last 1e-4 (eighteen
  layers deep; measured at most 2e-2, 3e-3 and 1e-6);
- a two-epoch fit() of every network under every setting: finite training and test losses,
  the fp16 steps go through the GradScaler, the weights stay fp32 (autocast computes in low
  precision, the optimiser updates the fp32 master weights) and in the memory format asked for,
  and the first epoch's training loss is within 10% of the fp32 run's (a loose bound: fp16's
  GradScaler skips the first steps whose gradients overflow at its initial scale, so its first
  epoch trains less).

Tiny on purpose, and on one CPU thread: 8x8 images (stage 4 works on 1x1 maps), width 16, 16
training images in one batch of 16, so two epochs are two steps. The fits of the networks with a
module are marked slow (about half a second each; fp16 is slower, most CPUs emulate it).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from attncv.attention import names
from attncv.data import synthetic
from attncv.model import BasicBlock, resnet18
from attncv.train import TrainConfig, fit, predict, set_seed
from tests.attention.test_gpu_paths import (
    CPU_KERNEL_RACE,
    off_identity,
    relative_error,
)

pytestmark = pytest.mark.usefixtures("one_thread")
NETWORKS = names()  # "none" (the baseline) first
SETTINGS = {  # name: TrainConfig fields
    "bf16": {"amp": True, "amp_dtype": "bf16", "channels_last": False},
    "fp16": {"amp": True, "amp_dtype": "fp16", "channels_last": False},
    "channels_last": {"amp": False, "channels_last": True},
    "bf16+channels_last": {"amp": True, "amp_dtype": "bf16", "channels_last": True},
}
DTYPE = {"bf16": torch.bfloat16, "fp16": torch.float16}
TOLERANCE = {"bf16": 5e-2, "fp16": 1e-2, None: 1e-4}
RECIPE = TrainConfig(epochs=2, batch_size=16, lr=0.05, warmup_epochs=0.5)


@pytest.fixture(scope="module")
def data():
    full = synthetic(num_classes=4, train_per_class=4, test_per_class=2)
    return replace(
        full,
        train_images=full.train_images[..., 12:20, 12:20].contiguous(),
        test_images=full.test_images[..., 12:20, 12:20].contiguous(),
    )  # 8x8 images: a sixteenth of the work


def network(name: str) -> torch.nn.Module:
    set_seed(0)
    return resnet18(4, attention=name, width=16)


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("name", NETWORKS)
def test_the_network_forward_under_gpu_settings(name: str, setting: str, data) -> None:
    if (name, setting) in CPU_KERNEL_RACE:
        pytest.skip("a PyTorch CPU kernel race, not attncv's: see CPU_KERNEL_RACE")
    options = SETTINGS[setting]
    model = off_identity(network(name)).eval()
    x, _ = next(data.batches("test", 8))
    expected = model(x).detach()
    fmt = torch.channels_last if options["channels_last"] else torch.contiguous_format
    model = model.to(memory_format=fmt)
    dtype = DTYPE.get(options.get("amp_dtype"))
    handed_on = []  # the dtype each residual block hands to the next
    for block in model.modules():
        if isinstance(block, BasicBlock):
            block.register_forward_hook(lambda _m, _i, out: handed_on.append(out.dtype))
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=options["amp"]):
        logits = model(x.contiguous(memory_format=fmt))
    assert set(handed_on) == {dtype or torch.float32}, "activations left the autocast dtype"
    assert logits.dtype == (dtype or torch.float32) and torch.isfinite(logits).all()
    error = relative_error(logits, expected)
    assert error <= TOLERANCE[options.get("amp_dtype")], f"relative error {error:.2e}"


@pytest.mark.parametrize("setting", ["bf16", "fp16"])
def test_predict_hands_back_fp32_logits_under_autocast(setting: str, data) -> None:
    scores, labels = predict(network("none"), data, amp=True, dtype=DTYPE[setting])
    assert scores.dtype == torch.float32 and scores.shape == (len(labels), 4)


FP32_FIRST_EPOCH: dict[str, float] = {}  # the fp32 run's first training loss, per network


def fp32_first_epoch(name: str, data) -> float:
    if name not in FP32_FIRST_EPOCH:
        FP32_FIRST_EPOCH[name] = fit(network(name), data, RECIPE, progress=False).history[0][
            "train_loss"
        ]
    return FP32_FIRST_EPOCH[name]


FITS = [
    pytest.param(n, s, marks=[] if n == "none" else [pytest.mark.slow])
    for n in NETWORKS
    for s in SETTINGS
    if (n, s) not in CPU_KERNEL_RACE
]


@pytest.mark.parametrize(("name", "setting"), FITS)
def test_a_two_epoch_fit_under_gpu_settings(name: str, setting: str, data, monkeypatch) -> None:
    options = SETTINGS[setting]
    scaled = []
    real_step = torch.amp.GradScaler.step

    def step(self, optimizer, *args, **kwargs):
        scaled.append(self.is_enabled())
        return real_step(self, optimizer, *args, **kwargs)

    monkeypatch.setattr(torch.amp.GradScaler, "step", step)
    first_fp32 = fp32_first_epoch(name, data)
    model = network(name)
    result = fit(model, data, replace(RECIPE, **options), progress=False)
    assert len(result.history) == 2
    for row in result.history:
        assert all(map(torch.isfinite, map(torch.tensor, (row["train_loss"], row["test_loss"]))))
        assert 0 <= row["test_acc"] <= 1
    assert any(scaled) == (options.get("amp_dtype") == "fp16")  # loss scaling for fp16 only
    assert all(p.dtype == torch.float32 for p in model.parameters())  # fp32 master weights
    if options["channels_last"]:
        convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        assert all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    first = result.history[0]["train_loss"]
    assert abs(first - first_fp32) <= 0.1 * first_fp32, (first, first_fp32)
