"""Every registered attention module exports with ``torch.export`` (issue 21).

``torch.jit.script`` does not compile them: the shape checks in ``attention/checks.py`` (and
ECA's kernel-size rule) build their error messages with f-strings and call helpers that
TorchScript cannot type. TorchScript is in maintenance in PyTorch; ``torch.export`` is the
supported route to a graph, and this test keeps it working for every module, eval mode, on a
(2, 16, 8, 8) input: the exported program's output equals the eager one.
"""

from __future__ import annotations

import pytest
import torch

from attncv.attention import build, names

MODULES = [n for n in names() if n != "none"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_exports_and_matches_eager(name: str) -> None:
    torch.manual_seed(0)
    module = build(name, 16).eval()
    x = torch.randn(2, 16, 8, 8)
    program = torch.export.export(module, (x,))
    with torch.no_grad():
        expected = module(x)
        got = program.module()(x)
    torch.testing.assert_close(got, expected)
