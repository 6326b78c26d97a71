"""Glue without myst-nb: the same display data myst-nb's glue writes."""

from __future__ import annotations

import pytest

from attncv.views import glue as glue_module


def test_glue_writes_myst_nbs_record(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = []
    monkeypatch.setattr(glue_module, "in_kernel", lambda: True)
    monkeypatch.setattr(
        "IPython.display.display", lambda data, raw, metadata: shown.append((data, metadata))
    )
    glue_module.glue("se-gain", "+3.0 points")
    (data, metadata) = shown[0]
    assert data == {"application/papermill.record/text/plain": "'+3.0 points'"}
    assert metadata["scrapbook"] == {
        "name": "se-gain",
        "mime_prefix": "application/papermill.record/",
    }


def test_glue_outside_a_kernel_is_quiet_and_names_need_no_spaces() -> None:
    glue_module.glue("ok", 1)
    with pytest.raises(ValueError, match="without spaces"):
        glue_module.glue("a b", 1)
