"""Device-side augmentation: random crops of the zero-padded image, flips, normalisation."""

from __future__ import annotations

import torch

from attncv.data.augment import augment, normalize


def _crops(image: torch.Tensor, pad: int = 4) -> list[torch.Tensor]:
    padded = torch.nn.functional.pad(image, (pad,) * 4)
    h, w = image.shape[-2:]
    return [padded[:, y : y + h, x : x + w] for y in range(2 * pad + 1) for x in range(2 * pad + 1)]


def test_every_output_is_a_crop_of_the_padded_image_or_its_mirror() -> None:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(1, 256, (16, 3, 32, 32), dtype=torch.uint8, generator=g)
    out = augment(images, generator=g)
    assert out.shape == images.shape and out.dtype == torch.uint8
    flipped = 0
    for img, o in zip(images, out, strict=True):
        plain = any(torch.equal(o, c) for c in _crops(img))
        mirror = any(torch.equal(o, c) for c in _crops(img.flip(-1)))
        assert plain or mirror
        flipped += mirror and not plain
    assert 0 < flipped < 16  # flips happen, but not always


def test_crops_shift_and_pad_with_zeros() -> None:
    g = torch.Generator().manual_seed(1)
    images = torch.full((64, 3, 32, 32), 200, dtype=torch.uint8)
    out = augment(images, flip=False, generator=g)
    assert set(out.unique().tolist()) <= {0, 200}
    assert (out == 0).any(), "no crop reached into the padding"
    assert (out == 200).float().mean() > 0.7


def test_same_generator_seed_same_augmentation() -> None:
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    a = augment(images, generator=torch.Generator().manual_seed(5))
    b = augment(images, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_normalize_uses_the_given_statistics() -> None:
    images = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    out = normalize(images, (0.5, 0.5, 0.5), (0.25, 0.5, 1.0))
    torch.testing.assert_close(out[0, :, 0, 0], torch.tensor([2.0, 1.0, 0.5]))
