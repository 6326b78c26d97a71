"""One dataset in memory: train and test images as uint8 tensors on the training device, labels,
class names, and the batches a training loop draws from them (augmented on the device)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from .augment import augment, normalize


@dataclass
class CifarData:
    """Images and labels of one dataset, train and test, as uint8 tensors on one device.

    Attributes:
        name: ``"CIFAR-100"``, ``"CIFAR-10"`` (the offline substitute) or ``"synthetic"``.
        description: one line saying what was used, including substitutes and subset sizes; it
            goes into every training result and plot title.
        source: the folder read, or ``"generated in memory"``.
        train_images, test_images: uint8 (N, 3, 32, 32).
        train_labels, test_labels: int64 (N,), fine labels.
        classes: class names, indexed by label.
        coarse_classes, train_coarse, test_coarse: CIFAR-100's 20 superclasses (else ``None``).
        mean, std: per-channel normalisation statistics of the dataset.
        transform: optional extra augmentation ``(uint8 batch, generator) -> uint8 batch`` run on
            the device after crop and flip (e.g. :func:`attncv.augment.distort`'s random affine).
    """

    name: str
    description: str
    source: str
    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    classes: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    coarse_classes: list[str] | None = None
    train_coarse: Tensor | None = None
    test_coarse: Tensor | None = None
    transform: Callable[[Tensor, torch.Generator | None], Tensor] | None = None

    @property
    def substitute(self) -> bool:
        """True when this is not CIFAR-100."""
        return self.name != "CIFAR-100"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def to(self, device: str | torch.device) -> CifarData:
        """A copy with every tensor on ``device`` (images stay uint8: 3 KB per image)."""
        move = {
            f: getattr(self, f).to(device)
            for f in (
                "train_images",
                "train_labels",
                "test_images",
                "test_labels",
                "train_coarse",
                "test_coarse",
            )
            if getattr(self, f) is not None
        }
        return replace(self, **move)

    def fingerprint(self) -> str:
        """A hash of everything this data feeds a training run: the pixels and labels of both
        splits, the class names, the normalisation and the extra augmentation's name. Two folders
        with the same description but different images (one with every pixel inverted, say) get
        different fingerprints. Computed once per object and tensor version (a full CIFAR-100
        takes a fraction of a second)."""
        tensors = [self.train_images, self.train_labels, self.test_images, self.test_labels]
        stamp = [(id(t), t._version) for t in tensors]
        cached = self.__dict__.get("_fingerprint")
        if cached is not None and cached[0] == stamp:
            return cached[1]
        digest = hashlib.sha256()
        for t in tensors:
            digest.update(f"{t.dtype} {tuple(t.shape)};".encode())
            digest.update(t.detach().cpu().contiguous().numpy().tobytes())
        transform = self.transform
        name = getattr(transform, "__qualname__", repr(transform)) if transform else None
        digest.update(json.dumps([self.classes, self.mean, self.std, name]).encode())
        value = digest.hexdigest()[:20]
        self.__dict__["_fingerprint"] = (stamp, value)
        return value

    def split(self, split: str) -> tuple[Tensor, Tensor]:
        """(images, labels) of ``"train"`` or ``"test"``."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        return getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")

    def normalize(self, images: Tensor) -> Tensor:
        """uint8 (N, 3, H, W) -> normalised float32, on the images' device."""
        return normalize(images, self.mean, self.std)

    def batches(
        self,
        split: str = "train",
        batch_size: int = 256,
        *,
        shuffle: bool | None = None,
        augmented: bool | None = None,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        channels_last: bool = False,
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield normalised (images, labels) batches on the data's device.

        Training batches are shuffled and augmented (random crop with 4-pixel zero padding,
        horizontal flip) by default; test batches are neither.
        """
        images, labels = self.split(split)
        train = split == "train"
        shuffle = train if shuffle is None else shuffle
        augmented = train if augmented is None else augmented
        n = len(labels)
        order = (
            torch.randperm(n, device=self.device, generator=generator)
            if shuffle
            else torch.arange(n, device=self.device)
        )
        stop = n - n % batch_size if drop_last and n >= batch_size else n
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            x = images[idx]  # uint8 (B, 3, 32, 32)
            if augmented:
                x = augment(x, generator=generator)
                x = self.transform(x, generator) if self.transform is not None else x
            x = self.normalize(x)  # float32 (B, 3, 32, 32)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, labels[idx]

    def __repr__(self) -> str:
        return f"CifarData({self.description})"
