"""What a model is made of: parameters, multiply-accumulates, and the activations training keeps.

MACs are counted with :class:`torch.utils.flop_counter.FlopCounterMode` (convolutions, matrix
products and attention kernels; element-wise work such as sigmoids and pooling is not counted, as in
the papers' FLOP tables). Papers' "FLOPs" for CNNs are multiply-accumulates: ResNet-18 on a 32x32
image is 0.56 G.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from ..attention.positions import exact_widths


def count_params(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_size: tuple[int, ...] = (1, 3, 32, 32)) -> int:
    """Multiply-accumulates of one forward pass on a zero tensor of ``input_size``.

    Attention is counted at its own widths: the zero padding the fused path adds to narrow
    queries for speed (see :mod:`attncv.attention.positions`) is switched off while counting.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad(), exact_widths():
        model(torch.zeros(input_size, device=device))
    model.train(was_training)
    return counter.get_total_flops() // 2


def saved_bytes(step: Callable[[], Tensor], *, ignore: Iterable[Tensor] = ()) -> int:
    """Bytes of the distinct tensors autograd saves for backward while ``step()`` runs forward.

    Tensors that share storage (views) count once; tensors sharing storage with one in ``ignore``
    (a model's parameters, say) not at all. Without the parameters this is the activation memory
    of training, measured the same way on every device; on a GPU the allocator's peak adds
    weights, gradients, optimiser state and workspace on top.
    """
    skip = {t.untyped_storage().data_ptr() for t in ignore}
    seen: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return sum(seen.values())


def activation_memory(model: nn.Module, *, batch_size: int = 8, image_size: int = 32) -> float:
    """Mebibytes per image that a training forward pass of ``model`` saves for its backward pass.

    The parameters, which autograd also keeps, are left out: they do not grow with the batch.

    Runs one fp32 forward pass in training mode on random images, on the model's device (the
    batch-norm running statistics move; measure a copy if they matter). Per image, because the
    saved activations grow linearly with the batch.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.train()
    x = torch.randn(batch_size, 3, image_size, image_size, device=device)
    total = saved_bytes(lambda: model(x), ignore=model.parameters())
    model.train(was_training)
    return total / batch_size / 2**20
