"""CifarData's fingerprint: the content of the data, not its description."""

from __future__ import annotations

from dataclasses import replace

from attncv.data import synthetic


def test_the_fingerprint_follows_the_pixels_and_labels() -> None:
    data = synthetic(train_per_class=4, test_per_class=2)
    first = data.fingerprint()
    assert data.fingerprint() == first  # cached, and stable
    assert synthetic(train_per_class=4, test_per_class=2).fingerprint() == first
    assert replace(data, train_images=255 - data.train_images).fingerprint() != first
    assert replace(data, test_labels=data.test_labels.flip(0)).fingerprint() != first
    data.train_images[0, 0, 0, 0] ^= 1  # an edit in place is seen too
    assert data.fingerprint() != first
