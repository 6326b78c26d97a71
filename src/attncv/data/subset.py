"""Class-balanced, deterministic subsets: the same images for every run with the same seed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from .dataset import CifarData


def balanced_indices(labels: Tensor, per_class: int, seed: int) -> Tensor:
    """Indices of ``per_class`` examples of every class, chosen by ``seed``, in shuffled order."""
    rng = np.random.default_rng(seed)
    labels_np = labels.cpu().numpy()
    chosen = []
    for c in np.unique(labels_np):
        members = np.flatnonzero(labels_np == c)
        if per_class > len(members):
            raise ValueError(
                f"Asked for {per_class} images of class {c}, but only "
                f"{len(members)} exist. Use a smaller per_class."
            )
        chosen.append(rng.choice(members, size=per_class, replace=False))
    return torch.from_numpy(rng.permutation(np.concatenate(chosen)))


def subset(
    data: CifarData,
    *,
    per_class: int | None = None,
    test_per_class: int | None = None,
    seed: int = 0,
) -> CifarData:
    """A class-balanced, deterministic subset; ``None`` keeps a split whole."""
    changes: dict[str, object] = {}
    for split, k in (("train", per_class), ("test", test_per_class)):
        if k is None:
            continue
        idx = balanced_indices(getattr(data, f"{split}_labels"), k, seed)
        for f in ("images", "labels", "coarse"):
            t = getattr(data, f"{split}_{f}")
            if t is not None:
                changes[f"{split}_{f}"] = t[idx.to(t.device)]
    if not changes:
        return data
    new = replace(data, **changes)
    n_tr, n_te = len(new.train_labels), len(new.test_labels)
    base = data.description.split(" [")[0]
    new.description = f"{base} [subset: {n_tr:,} train / {n_te:,} test images, seed {seed}]"
    return new
