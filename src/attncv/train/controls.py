"""The controls that are networks: "the network before training", one convention for every
chapter, and "random query/key weights on the same features" for attention maps.

A trained network's gates, masks or maps are judged against the same statistic of the network
:func:`~attncv.train_model` starts from: the same seed, attention, stages and width, built and not
trained. :func:`untrained` measures its batch-norm statistics on training images first (the
same 1,000 in every chapter), so the control sees features scaled the way a network that has
seen data sees them; the channel and the mixed chapters use it alike.
:func:`random_projections` re-draws the query and key projections of a trained network's (or
block's) attention, the control for the maps of the self-attention, non-local and DANet chapters.
"""

from __future__ import annotations

import torch
from torch import nn

from ..attention.danet import DANet
from ..attention.non_local import NonLocal
from ..attention.self_attention import SelfAttention
from ..data import CifarData
from ..model import ResNet, resnet18
from .loop import set_seed
from .profiles import Profile

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


def random_projections(model: nn.Module, *, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose attention blocks have freshly initialised query and key
    projections (self-attention's and DANet's query and key, the non-local block's theta and
    phi), the rest as trained: the maps the same features give before any learning of *where*
    to look. ``model`` may be a whole network or one block; the draw is seeded and leaves the
    global random state as it was."""
    import copy

    twin = copy.deepcopy(model)
    with torch.random.fork_rng():  # the CPU and every CUDA generator, restored after
        torch.manual_seed(seed)
        for m in twin.modules():
            if isinstance(m, SelfAttention | DANet):
                m.query.reset_parameters()
                m.key.reset_parameters()
            elif isinstance(m, NonLocal) and hasattr(m, "theta"):
                m.theta.reset_parameters()
                m.phi.reset_parameters()
    return twin
