"""The controls that are networks: "the network before training", one convention for every
chapter; random query/key weights on the same features for attention maps; and re-drawn gates on
the trained network.

A trained network's gates, masks or maps are judged against the same statistic of the network
:func:`~attncv.train_model` starts from: the same seed, attention, stages and width, built and not
trained. :func:`untrained` measures its batch-norm statistics on training images first (the
same 1,000 in every chapter), so the control sees features scaled the way a network that has
seen data sees them; the channel and the mixed chapters use it alike.
:func:`random_projections` re-draws the query and key projections of a trained network's (or
block's) attention, the control for the maps of the self-attention, non-local and DANet chapters.

Two controls differ from the trained network *only* in what training gave the attention:

- :func:`matched_query_key`: many draws of :func:`random_projections`, each with its query
  rescaled so that every block's logit scale (:func:`logit_scale`: the spread of its logits over
  the keys, on the given images or features) equals the trained block's. A fresh draw's logits
  are spread wider than a trained block's (1.5-3.1x in the course's runs), which alone makes
  its maps sharper; matched, the maps differ from the trained ones in *where* they look, not
  in how sharply.
- :func:`redrawn_gates`: many copies of the trained network in which only the gates (every
  parameter of each SE, SK, ECA, CBAM, coordinate attention or residual attention module) are
  re-initialised, the backbone as trained, and the batch-norm statistics re-measured.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..attention.ccnet import CCNet
from ..attention.danet import DANet
from ..attention.eca import ECA
from ..attention.non_local import NonLocal
from ..attention.positions import flatten
from ..attention.registry import REGISTRY
from ..attention.self_attention import SelfAttention
from ..attention.tap import AttentionMap
from ..data import CifarData
from ..model import ResNet, resnet18
from .loop import set_seed
from .profiles import Profile

CALIBRATION_IMAGES = 1000  # training images whose batch-norm statistics the control measures
GATE_KINDS = frozenset({"channel", "spatial", "mask", "branch"})  # the taps of a gate


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
    projections (self-attention's, DANet's and CCNet's query and key, the non-local block's theta
    and phi), the rest as trained: the maps the same features give before any learning of *where*
    to look. ``model`` may be a whole network or one block; the draw is seeded and leaves the
    global random state as it was."""
    twin = copy.deepcopy(model)
    with torch.random.fork_rng():  # the CPU and every CUDA generator, restored after
        torch.manual_seed(seed)
        for block in _query_key_blocks(twin).values():
            for layer in _projections(block):
                layer.reset_parameters()
    return twin


# --- random query/key at the trained logit scale ---


def _projections(block: nn.Module) -> tuple[nn.Conv2d, nn.Conv2d]:
    """The block's (query, key) projections: self-attention's and DANet's query and key, the
    non-local block's theta and phi."""
    if isinstance(block, NonLocal):
        return block.theta, block.phi
    return block.query, block.key


def _query_key_blocks(model: nn.Module) -> dict[str, nn.Module]:
    """The blocks with query/key projections, by qualified name (``""``: ``model`` itself); the
    Gaussian non-local block has none (it compares the raw features)."""
    return {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, SelfAttention | DANet | CCNet)
        or (isinstance(m, NonLocal) and hasattr(m, "theta"))
    }


def _logits(block: nn.Module, x: Tensor) -> Tensor:
    """The (N, L, S) logits ``block`` computes from its input ``x`` (N, C, H, W), before the
    softmax (self-attention, DANet's position attention, the Gaussians) or the pairwise function
    itself (the non-local dot product and concatenation, with their 1/S), as its forward does."""
    if isinstance(block, SelfAttention | DANet):  # attend(q, k, v, scale=1.0): q k^T
        return flatten(block.query(x)) @ flatten(block.key(x)).transpose(1, 2)  # (N, HW, HW)
    if isinstance(block, CCNet):
        return _criss_cross_logits(block, x)
    if not isinstance(block, NonLocal):
        raise ValueError(
            f"logit_scale: {type(block).__name__} has no query/key logits; it takes a "
            "SelfAttention, DANet, CCNet or NonLocal block."
        )
    embed = block.mode != "gaussian"  # the Gaussian compares the raw features
    keys = block.phi(x) if embed else x  # (N, C' or C, H, W)
    if block.sub_sample:
        keys = F.max_pool2d(keys, 2)  # (N, ., H/2, W/2)
    theta, phi = flatten(block.theta(x) if embed else x), flatten(keys)  # (N, L, d), (N, S, d)
    n = phi.shape[1]  # S
    if block.mode in ("embedded_gaussian", "gaussian"):  # softmax(theta phi^T), scale 1
        return theta @ phi.transpose(1, 2)  # (N, L, S)
    if block.mode == "dot_product":
        return theta @ phi.transpose(1, 2) / n  # (N, L, S)
    w_theta, w_phi = block.w_f.chunk(2)  # concatenation: ReLU(w_f^T [theta_i, phi_j]) / S
    return torch.relu((theta @ w_theta)[:, :, None] + (phi @ w_phi)[:, None, :]) / n


def _criss_cross_logits(block: CCNet, x: Tensor) -> Tensor:
    """CCNet's (N, HW, H + W - 1) logits of one pass on ``x``: each position's q.k with the
    other positions of its column and every position of its row (itself counted once, in the
    row), as :meth:`~attncv.attention.ccnet.CCNet.criss_cross` computes them before its softmax.
    The second pass uses the same query and key, so rescaling the query scales both passes."""
    n, _, h, w = x.shape
    q, k = block.query(x), block.key(x)
    e_col = torch.einsum("nchw,ncgw->nhwg", q, k)  # (N, H, W, H)
    e_row = torch.einsum("nchw,nchv->nhwv", q, k)  # (N, H, W, W)
    others = torch.arange(h, device=x.device).expand(h, h)[~torch.eye(h, dtype=torch.bool)]
    others = others.view(h, 1, h - 1).expand(n, h, w, h - 1)  # (N, H, W, H - 1): g != h
    return torch.cat([e_col.gather(-1, others), e_row], dim=-1).reshape(n, h * w, h + w - 1)


def logit_scale(block: nn.Module, features: Tensor) -> float:
    """How spread ``block``'s logits are on its input ``features`` (N, C, H, W): the standard
    deviation of each query position's logits over the keys, averaged over the query positions
    and the images. The logits are computed as the block's forward computes them (see
    :func:`matched_query_key`); a larger scale makes sharper maps."""
    total, rows = 0.0, 0
    with torch.no_grad():
        for part in features.split(64):  # (64, L, S) logits at a time
            logits = _logits(block, part).float()  # (n, L, S)
            total += logits.std(dim=-1, correction=0).sum().item()  # float64 from here on
            rows += logits.shape[0] * logits.shape[1]
    return total / rows


def _rescale(block: nn.Module, factor: float) -> None:
    """Multiply ``block``'s logits by ``factor`` >= 0: the query's weight and bias (q k^T is
    linear in q); for the non-local concatenation, ReLU(a_i + b_j) is not linear in a alone,
    so theta and phi both (ReLU(s a + s b) = s ReLU(a + b) for s >= 0)."""
    query, key = _projections(block)
    layers = (query, key) if getattr(block, "mode", None) == "concatenation" else (query,)
    with torch.no_grad():
        for layer in layers:
            layer.weight.mul_(factor)
            if layer.bias is not None:
                layer.bias.mul_(factor)


def _check_draws(caller: str, draws: object) -> None:
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ValueError(
            f"{caller}: draws must be a positive integer (the number of random draws the "
            f"control averages over), got {draws!r}."
        )


def _scales(
    model: nn.Module,
    blocks: Mapping[str, nn.Module],
    inputs: Tensor | Mapping[str, Tensor],
    match: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Each block's :func:`logit_scale` on its features: ``inputs[name]`` for a dict, else what
    it receives while ``model`` (in eval mode) runs on ``inputs``. With ``match``, each block is
    then rescaled to ``match[name]`` before it runs, so the blocks after it see its output."""
    scales: dict[str, float] = {}

    def measure(name: str, block: nn.Module, x: Tensor) -> None:
        scales[name] = logit_scale(block, x)
        if match is not None:
            if scales[name] == 0:
                raise ValueError(
                    f"matched_query_key: the random logits of {name or 'the block'} do not vary "
                    "over the keys, so no rescaling can match the trained logit scale."
                )
            _rescale(block, match[name] / scales[name])

    if isinstance(inputs, Mapping):
        if set(inputs) != set(blocks):
            raise ValueError(
                f"matched_query_key: inputs must give the features of every query/key block: "
                f"{sorted(blocks)}; got {sorted(inputs)}."
            )
        for name, block in blocks.items():
            measure(name, block, inputs[name])
        return scales
    hooks = [
        block.register_forward_pre_hook(lambda m, args, name=name: measure(name, m, args[0]))
        for name, block in blocks.items()
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    if missing := sorted(set(blocks) - set(scales)):
        raise ValueError(f"matched_query_key: the blocks {missing} did not run on the inputs.")
    return scales


def matched_query_key(
    model: nn.Module,
    inputs: Tensor | Mapping[str, Tensor],
    *,
    draws: int = 10,
    seed: int = 0,
) -> list[nn.Module]:
    """``draws`` copies of ``model`` with random query/key projections at the trained logit
    scale: the control "random query/key weights on the same features", with the sharpness
    training gave the maps taken out.

    Draw ``i`` is :func:`random_projections` with ``seed + i`` (self-attention's and DANet's
    query and key, the non-local block's theta and phi re-initialised), then each block's query
    (theta) weight and bias multiplied by ``s = trained / random`` :func:`logit_scale`, which
    multiplies its logits by ``s`` (for the non-local concatenation, theta and phi both). The
    logits are the block's own: q k^T for self-attention and DANet's position attention, theta
    phi^T for the embedded Gaussian, theta phi^T / S for the dot product, ReLU(w_f^T [theta_i,
    phi_j]) / S for concatenation (after ``sub_sample``'s pooling). Everything else (values,
    residual scales, backbone, batch-norm statistics) is the trained network's.

    Args:
        model: a trained network, or one block.
        inputs: what ``model`` takes (normalised images for a network, input features for one
            block): every block is matched on the features it receives, the trained block in
            ``model``, each draw's in that draw (where the blocks before it are already
            matched: the features its maps are then computed from). Or a dict ``{block name:
            features}`` for every query/key block (names as in ``model.named_modules()``), on
            which the trained and the random block are both measured.
        draws: how many random draws (>= 1).
        seed: draw ``i`` is seeded with ``seed + i``; the global random state is left as it was.

    Returns:
        ``draws`` networks (or blocks), each in ``model``'s training mode.
    """
    _check_draws("matched_query_key", draws)
    blocks = _query_key_blocks(model)
    if not blocks:
        raise ValueError(
            f"matched_query_key: {type(model).__name__} has no block with query/key "
            "projections (SelfAttention, DANet, or a NonLocal block other than the Gaussian)."
        )
    trained = _scales(model, blocks, inputs)
    out = []
    for i in range(draws):
        twin = random_projections(model, seed=seed + i)  # seeded in a fork of the random state
        _scales(twin, _query_key_blocks(twin), inputs, match=trained)
        out.append(twin)
    return out


# --- gates re-drawn on the trained network ---


def gates(model: nn.Module) -> dict[str, nn.Module]:
    """The gate modules of ``model`` by qualified name: the modules of the registry's attention
    classes whose weights are gates (channel, spatial, mask or branch weights; SE, SK, ECA,
    CBAM, coordinate attention, residual attention). A ``ValueError`` for an attention module
    that is not a gate (query/key maps, transforms) or a model with none."""
    classes = {e.factory: e.title for e in REGISTRY.values() if isinstance(e.factory, type)}
    found: dict[str, nn.Module] = {}
    for name, m in model.named_modules():
        if type(m) not in classes or any(g == "" or name.startswith(f"{g}.") for g in found):
            continue
        kinds = {t.kind for t in m.modules() if isinstance(t, AttentionMap)}
        if not kinds <= GATE_KINDS:
            raise ValueError(
                f"redrawn_gates: {name or 'the model'} is {classes[type(m)]}, whose weights are "
                f"{', '.join(sorted(kinds - GATE_KINDS))} weights, not a gate; the control of "
                "query/key maps is matched_query_key."
            )
        found[name] = m
    if not found:
        raise ValueError(f"redrawn_gates: {type(model).__name__} has no attention gate to re-draw.")
    return found


def _reinitialise(gate: nn.Module) -> None:
    """Re-draw every parameter of ``gate`` as its constructor does: each layer's own
    ``reset_parameters()`` (batch norms: weight 1, bias 0, running statistics reset), ECA's
    per-channel kernels (``shared=False``) uniform in +-1/sqrt(k) as built."""
    drawn: set[int] = set()
    for layer in gate.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
            drawn |= {id(p) for p in layer.parameters()}
    if isinstance(gate, ECA) and not gate.shared:
        with torch.no_grad():
            bound = 1 / math.sqrt(gate.kernel_size)
            gate.weight.uniform_(-bound, bound)
        drawn.add(id(gate.weight))
    if missed := [n for n, p in gate.named_parameters() if id(p) not in drawn]:
        raise ValueError(f"redrawn_gates: no initialisation known for {missed} of {gate!r}.")


def redrawn_gates(
    model: nn.Module,
    data: CifarData,
    *,
    draws: int = 10,
    seed: int = 0,
    calibrate: int = CALIBRATION_IMAGES,
) -> list[nn.Module]:
    """``draws`` copies of the trained network ``model`` in which only the gates are as before
    training: the control for gates and masks that differs from the trained network only in
    what the gates learned.

    In draw ``i`` (seeded ``seed + i``; the global random state is left as it was) every
    parameter of every gate module (:func:`gates`: SE's fc layers, SK's branches, fuse and
    select, ECA's kernel, CBAM's MLP and spatial convolution, coordinate attention's
    convolutions, residual attention's units and mask head; their batch norms) is re-drawn by its
    own initialisation; the backbone keeps its trained weights. Then every batch-norm statistic
    is re-measured on the first ``calibrate`` training images with :func:`calibrated` (0: the
    gates' own are left reset, the rest as trained), so the layers after a gate see features
    scaled as its new outputs make them.

    Returns:
        ``draws`` networks in eval mode.
    """
    _check_draws("redrawn_gates", draws)
    names = list(gates(model))
    out = []
    with torch.random.fork_rng():  # the CPU and every CUDA generator, restored after
        for i in range(draws):
            twin = copy.deepcopy(model)
            torch.manual_seed(seed + i)
            for name in names:
                _reinitialise(twin.get_submodule(name))
            out.append(calibrated(twin, data, calibrate))
    return out
