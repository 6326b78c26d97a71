"""The data layer's errors and warnings: each message says what was wrong and what to do."""

from __future__ import annotations


class DataError(RuntimeError):
    """The data could not be found or read; the message says where we looked and what to do."""


class DataSubstituteWarning(UserWarning):
    """CIFAR-100 was not available and a substitute dataset is used instead."""
