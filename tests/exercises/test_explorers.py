"""The parameter-formula grader accepts the paper's formula and names the usual mistakes."""

from __future__ import annotations

from attncv.exercises.explorers import check_param_formula


def test_the_papers_formula_passes():
    def se_params(c: int, reduction: int) -> int:
        hidden = c // reduction
        return 2 * c * hidden + hidden + c  # two 1x1 layers with biases

    report = check_param_formula(se_params)
    assert report.passed and len(report.rows) == 13  # and "your own code"


def test_rounding_after_multiplying_is_caught():
    # 2 C^2 / r is right only when r divides C: at C = 100, r = 16 the hidden width is 6, not 6.25
    report = check_param_formula(lambda c, reduction: 2 * c * c // reduction + c // reduction + c)
    assert not report.passed and report.rows[-1][0] == "channels=100, reduction=16"
    assert "yours gives 1,356, +50 off" in report.rows[-1][2]  # the failing case, by how much


def test_a_passing_report_does_not_print_the_expected_counts(capsys):
    """The counts are the exercise's answer table: a pass lists the cases, not their counts."""
    assert check_param_formula(lambda c, reduction: 2 * c * (c // reduction) + c // reduction + c)
    out = capsys.readouterr().out
    for count in ("280", "4,192", "1,306", "10,150", "131,712"):
        assert count not in out, f"the grader printed the expected count {count}"


def test_forgotten_biases_are_named(capsys):
    assert not check_param_formula(lambda c, reduction: 2 * c * (c // reduction))
    assert "the biases of the two layers" in capsys.readouterr().out


def test_wrong_way_round_reduction_is_named(capsys):
    report = check_param_formula(lambda c, reduction: 2 * c * c * reduction + c * reduction + c)
    assert not report.passed and "not C * r" in capsys.readouterr().out


def test_a_float_or_a_crash_is_reported_kindly(capsys):
    assert not check_param_formula(lambda c, reduction: 2 * c * c / reduction + c / reduction + c)
    assert "use // rather than /" in capsys.readouterr().out  # 100 / 16 is not whole
    assert not check_param_formula(lambda c: c)  # forgot the reduction argument
    assert "raised TypeError" in capsys.readouterr().out
