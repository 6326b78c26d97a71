"""The fused-vs-reference benchmark measures what it says (it asserts nothing about speed)."""

from __future__ import annotations

from attncv.bench.__main__ import main
from attncv.bench.paths import compare_paths


def test_the_reference_path_keeps_the_quadratic_matrix() -> None:
    rows = compare_paths(
        ["self_attention", "non_local"], channels=16, size=8, batch_size=2, steps=1, device="cpu"
    )
    assert [r["name"] for r in rows] == ["self_attention", "non_local"]
    weights_mb = 2 * 64 * 64 * 4 / 2**20  # one (N, HW, HW) float32 matrix
    for r in rows:
        assert r["reference_mb"] >= weights_mb
        assert r["speedup"] > 0


def test_cli(capsys) -> None:
    assert (
        main(
            [
                "paths",
                "--names",
                "non_local",
                "--channels",
                "8",
                "--size",
                "4",
                "--batch-size",
                "1",
                "--steps",
                "1",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert "Non-local" in capsys.readouterr().out
