"""The control "the network before training", one convention for every chapter.

A trained network's gates, masks or maps are judged against the same statistic of the network
:func:`~attncv.train_model` starts from: the same seed, attention, stages and width, built and not
trained. :func:`untrained` measures its batch-norm statistics on training images first (the
same 1,000 in every chapter), so the control sees features scaled the way a network that has
seen data sees them; the channel and the mixed chapters use it alike.
"""

from __future__ import annotations

import torch
from torch import nn

from ..data import CifarData
from ..model import ResNet, resnet18
from ..train import Profile, set_seed

CALIBRATION_IMAGES = 1000  # training images whose batch-norm statistics the control measures


def untrained(
    attention: str,
    data: CifarData,
    profile: Profile,
    *,
    seed: int = 0,
    calibrate: int = CALIBRATION_IMAGES,
    **kwargs: object,
) -> ResNet:
    """The network :func:`~attncv.train_model` starts from (the same seed, attention and width;
    ``kwargs`` such as ``attention_stages`` go to :func:`~attncv.resnet18`), built and not
    trained, in eval mode: the control "the network before training".

    Its weights are untouched; only its batch-norm statistics are measured on the first
    ``calibrate`` training images (0: none). Without them every BN in eval mode divides by a
    variance of 1 whatever its input's, so the untrained features, and the gates computed from
    them, would be scaled unlike any network that has seen data."""
    set_seed(seed)
    model = resnet18(data.num_classes, attention=attention, width=profile.width, **kwargs)
    return calibrated(model.to(data.device), data, calibrate)


def calibrated(model: nn.Module, data: CifarData, images: int = CALIBRATION_IMAGES) -> nn.Module:
    """``model`` with its batch-norm statistics measured on the first ``images`` training images
    as training sees them (through ``data.transform`` where there is one, e.g. placed on a
    canvas; seeded), weights untouched; returned in eval mode. ``images=0`` leaves them."""
    if images:
        norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        for bn in norms:
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average over every batch
        batch = data.split("train")[0][:images]
        if data.transform is not None:
            gen = torch.Generator(device=batch.device).manual_seed(0)
            batch = data.transform(batch, gen)
        model.train()
        with torch.no_grad():
            for part in batch.split(250):
                model(data.normalize(part))
        for bn in norms:
            bn.momentum = 0.1
    return model.eval()
