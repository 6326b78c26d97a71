"""The benchmark command line: it runs, prints a table, and refuses unknown names clearly."""

from __future__ import annotations

from attncv.bench.__main__ import main
from attncv.bench.modules import compare_modules


def test_modules_table_relative_to_the_baseline(capsys) -> None:
    rows = compare_modules(["se"], batch_size=2, steps=1, width=16, device="cpu")
    assert [r["name"] for r in rows] == ["none", "se"]
    out = capsys.readouterr().out
    assert "11,220,132" in out and "se" in out and "train img/s" in out


def test_unknown_module_name_is_a_clear_error(capsys) -> None:
    assert main(["modules", "--names", "squeeze"]) == 2
    assert "Unknown attention module 'squeeze'" in capsys.readouterr().err


def test_timm_without_timm_gives_a_hint(capsys, monkeypatch) -> None:
    """timm stays optional: `python -m attncv.bench timm` without it prints the install hint,
    not a bare traceback."""
    import sys

    for name in [m for m in sys.modules if m == "timm" or m.startswith("timm.")] + ["timm"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    assert main(["timm", "--names", "se", "--steps", "1", "--batch-size", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Comparing with timm needs timm")
    assert "pip install 'attncv[bench]'" in err and "Traceback" not in err


def test_the_smoke_profile_times_a_few_small_steps(monkeypatch) -> None:
    """compare_modules took 40-95 s per chapter in the smoke profile: a chapter's cost table
    must take seconds there, so it times 2 steps of batch 8 after 1 warm-up step."""
    from attncv.bench import modules

    calls = []
    real = modules.throughput

    def spy(model, **kwargs):
        calls.append(kwargs)
        return real(model, **kwargs)

    monkeypatch.setattr(modules, "throughput", spy)
    monkeypatch.setenv("CI", "true")
    rows = compare_modules(["se"], width=16, device="cpu", show=False)  # as a chapter calls it
    assert [r["name"] for r in rows] == ["none", "se"]
    assert all(c["batch_size"] <= 8 and c["steps"] <= 2 and c["warmup"] <= 1 for c in calls)
