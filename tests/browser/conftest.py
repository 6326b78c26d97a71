"""The browsers the book's tests drive: headless Chromium at 1280 px and an emulated 390-px
phone, one of each per test module."""

from __future__ import annotations

import pytest

from .test_book import _chrome


@pytest.fixture(scope="module")
def browser():
    driver = _chrome()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def phone():
    driver = _chrome(phone=True)
    yield driver
    driver.quit()
