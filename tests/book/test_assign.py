"""nbgrader assignments derived from the chapters: solution cells, autograded test cells with
points, read-only cells, hand-graded answers; and, with nbgrader installed, a class of two
autograded end to end on two real chapters."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from attncv.book.assign import (
    BEGIN,
    CONFIG,
    END,
    FRESH,
    AssignmentError,
    assignment,
    main,
    problems,
    write_course,
)
from attncv.book.points import POINTS
from attncv.book.structure import parse

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
SECRET = "SECRET_ANSWER_41c9"  # in every solution; a released notebook must not hold it
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
DEMO_POINTS = {"ex-demo-1": 4, "ex-demo-2": 2, "ex-demo-3": 3}


def demo_chapter() -> nbformat.NotebookNode:
    """Prose and code, a code exercise with a grader, a written exercise, and a written one whose
    answer has code of its own (graded by hand)."""
    cells = [
        new_markdown_cell("# A chapter\nProse that stays."),
        new_code_cell("x = 2 + 2", execution_count=1),
        new_markdown_cell(
            "## Exercises\n\n```{exercise} Your own SE\n:label: ex-demo-1\n\nWrite `MySE`.\n```"
        ),
        new_code_cell(
            f"class MySE:  # {SECRET}\n    pass", metadata={"tags": ["solution", "hide-input"]}
        ),
        new_code_cell("from attncv.exercises.channel import check_se\n\nassert check_se(MySE)"),
        new_markdown_cell(
            "```{solution} ex-demo-1\n:class: dropdown\n\nThe hidden cell above.\n```\n\n"
            ":::{exercise}\n:label: ex-demo-2\nWhy?\n:::\n\n"
            f":::{{solution}} ex-demo-2\n:class: dropdown\nBecause {SECRET}.\n:::\n\n"
            ":::{exercise}\n:label: ex-demo-3\nCount them.\n:::\n"
            f":::{{solution}} ex-demo-3\n:class: dropdown\n$2 + 2$, {SECRET}.\n:::"
        ),
        new_code_cell(f"count = 2 + 2  # {SECRET}", metadata={"tags": ["solution"]}),
        new_markdown_cell("## Summary\nDone."),
    ]
    cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "4"})]
    return new_notebook(cells=cells, metadata={"kernelspec": KERNEL})


def grader_meta(cell) -> dict:
    return cell.metadata["nbgrader"]


def test_solution_cells_test_cells_and_read_only_cells():
    nb = assignment(demo_chapter(), DEMO_POINTS, by_hand={"ex-demo-3"})
    kinds = [
        (c.cell_type, grader_meta(c)["grade_id"], grader_meta(c).get("points")) for c in nb.cells
    ]
    assert kinds == [
        ("markdown", "cell-000", None),
        ("code", "cell-001", None),
        ("markdown", "cell-002", None),
        ("markdown", "cell-003", None),  # Exercise 1
        ("code", "ex-demo-1-code", None),
        ("code", "ex-demo-1-grader", 4),
        ("markdown", "cell-006", None),  # Exercise 2
        ("markdown", "ex-demo-2-answer", 2),
        ("markdown", "cell-008", None),  # Exercise 3
        ("markdown", "ex-demo-3-answer", 3),
        ("code", "ex-demo-3-code", None),
        ("markdown", "cell-011", None),
    ]
    by_id = {grader_meta(c)["grade_id"]: c for c in nb.cells}
    solution = by_id["ex-demo-1-code"]
    assert solution.source.splitlines()[:2] == [
        "# Exercise 1 (ex-demo-1): write MySE in this cell; the test cell below grades it.",
        BEGIN,
    ]
    assert solution.source.endswith(f"    pass\n{END}")
    assert grader_meta(solution)["solution"] and not grader_meta(solution)["grade"]
    assert not grader_meta(solution)["locked"]
    assert "tags" not in solution.metadata  # solution, hide-input: book tags, not the students'
    test = by_id["ex-demo-1-grader"]
    assert test.source.startswith(FRESH + "\n")  # the graders read afresh from their files
    assert test.source.endswith("\ngraders().check_se(MySE).assert_passed()")  # raises: message
    assert grader_meta(test)["grade"] and grader_meta(test)["locked"]
    answer = by_id["ex-demo-2-answer"]
    assert answer.source == f"Because {SECRET}."  # the book's solution, for the instructor
    assert grader_meta(answer)["grade"] and grader_meta(answer)["solution"]
    assert "graded by hand" in by_id["ex-demo-3-code"].source.splitlines()[0]
    assert by_id["cell-003"].source.startswith("### Exercise 1: Your own SE\n\nWrite `MySE`.")
    assert "*4 points, graded automatically" in by_id["cell-003"].source
    assert "*2 points, graded by hand" in by_id["cell-006"].source
    for cell in nb.cells:
        meta = grader_meta(cell)
        if not (meta["grade"] or meta["solution"]):
            assert meta["locked"], cell.source  # the chapter's other cells are read-only
        assert "{solution}" not in cell.source and "{exercise}" not in cell.source
        assert cell.get("outputs", []) == [] and cell.id == meta["grade_id"]


def test_the_release_version_holds_no_solution():
    clear = pytest.importorskip("nbgrader.preprocessors").ClearSolutions()
    nb = assignment(demo_chapter(), DEMO_POINTS, by_hand={"ex-demo-3"})
    released, _ = clear.preprocess(nb, {})
    assert SECRET not in json.dumps(released)
    sources = [c.source for c in released.cells]
    assert sources.count("YOUR ANSWER HERE") == 2
    assert any(s.startswith("# Exercise 1 (ex-demo-1): write MySE") for s in sources)


def test_nbgrader_accepts_the_metadata():
    v3 = pytest.importorskip("nbgrader.nbgraderformat.v3")
    v3.MetadataValidatorV3().validate_nb(assignment(demo_chapter(), DEMO_POINTS, {"ex-demo-3"}))


def test_an_exercise_without_points_or_grader_is_refused():
    chapter = parse(demo_chapter())
    found = problems(chapter, {"ex-demo-1": 4, "ex-demo-2": 2}, by_hand=())
    assert found == [
        "Exercise 3 (ex-demo-3) has no points: add 'ex-demo-3' to attncv/book/points.py",
        "Exercise 3 (ex-demo-3) has solution code but no grader: add a cell "
        "`assert check_...(...)` after it, or list it in GRADED_BY_HAND in points.py",
    ]
    assert problems(chapter, DEMO_POINTS, by_hand={"ex-demo-1", "ex-demo-3"}) == [
        "Exercise 1 (ex-demo-1) has a grader, but points.py says it is graded by hand"
    ]
    with pytest.raises(AssignmentError, match="ex-demo-3"):
        assignment(demo_chapter(), DEMO_POINTS, by_hand=())


CHAPTERS = sorted(
    p.relative_to(ROOT) for p in (ROOT / "chapters").rglob("*.ipynb") if "checkpoints" not in str(p)
)


@pytest.mark.parametrize("path", CHAPTERS, ids=str)
def test_every_chapter_becomes_an_assignment(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    exercises = parse(nb).exercises
    graded = [c.metadata.nbgrader for c in assignment(nb).cells if c.metadata.nbgrader["grade"]]
    total = sum(m["points"] for m in graded)
    assert total == sum(POINTS[e.label] for e in exercises) > 0
    autograded = {
        m["grade_id"].removesuffix("-grader") for m in graded if "-grader" in m["grade_id"]
    }
    assert autograded == {e.label for e in exercises if e.autograded}


def test_command_writes_a_course_directory(tmp_path, capsys):
    out = tmp_path / "course"
    assert main([str(ROOT / "chapters"), "-o", str(out), "--only", "se", "eca"]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.ipynb")) == [
        "source/eca/eca.ipynb",
        "source/se/se.ipynb",
    ]
    assert "2 assignments" in capsys.readouterr().out
    config = out / CONFIG
    assert 'course_id = "attncv"' in config.read_text()
    config.write_text("# the instructor's own\n")
    write_course([ROOT / "chapters"], out, only={"se"})
    assert config.read_text() == "# the instructor's own\n"  # never overwritten
    write_course([ROOT / "chapters"], out, only={"benchmark"})  # with the sweeps it loads
    assert sorted(p.name for p in (out / "source" / "benchmark" / "results").iterdir()) == sorted(
        p.name for p in (ROOT / "chapters" / "results").iterdir()
    )
    assert main([str(ROOT / "chapters"), "-o", str(out), "--only", "nope"]) == 1
    assert "no chapter with exercises called nope" in capsys.readouterr().err


# --- End to end: nbgrader generates, two students submit, nbgrader autogrades -------------------

WRONG = {  # exercise label -> (the book's line, a plausible mistake)
    "ex-se-1": (
        "s = torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))",
        "s = torch.softmax(self.fc2(torch.relu(self.fc1(z))), dim=1)",
    ),
}
WRONG_ADVICE = {"ex-se-1": "a softmax across channels"}
# SE: layers of its own, the library's forward imported inside its own (it used to score full
# marks), and the grader patched to pass anything (so did that). A backward pass that raises is a
# cross, not a crash: tests/exercises/test_grader.py (no nbgrader needed for that)
SNEAKY_SE = """\
import attncv.exercises.channel as grading
from torch import nn

grading.check_se = lambda *args, **kwargs: type("Pass", (), {"assert_passed": lambda self: None})()


class MySE(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        self.channels = channels
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)
        self.tap = nn.Identity()

    def forward(self, x):
        from attncv.attention.se import SE

        return SE.forward(self, x)
"""
CHEAT = {
    "ex-se-1": (None, SNEAKY_SE),
}
CHEAT_ADVICE = {
    "ex-se-1": "or a wrapper around it; this answer is not graded",
}


def _nbgrader(course: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def _submit(
    course: Path, name: str, student: str, wrong: dict[str, tuple[str | None, str]]
) -> None:
    """A student's submission: the release version with every answer cell filled in, from the
    book's solutions (source/), with the mistakes in ``wrong`` (a line replaced, or with None
    for the line, the whole answer)."""
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    answers = {c.metadata.nbgrader["grade_id"]: c.source for c in source.cells}
    nb = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        text = answers[meta["grade_id"]]
        if cell.cell_type == "code":
            text = text.split(BEGIN + "\n")[1].split(END)[0]
            label = meta["grade_id"].removesuffix("-code")
            if label in wrong:
                right, mistake = wrong[label]
                if right is None:
                    text = mistake
                else:
                    assert right in text, f"{label}: the book's solution changed: update WRONG"
                    text = text.replace(right, mistake)
        cell.source = text
    target = course / "submitted" / student / name / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


# Over 30 s (about 45 s): nbgrader generates, autogrades (a kernel per student) and exports in
# its own processes; one assignment and three students, the least that tests the flow.
@pytest.mark.slow
def test_nbgrader_autogrades_a_class(tmp_path):
    """One chapter (SE), three students: one with the book's solutions, one with SE's gate a
    softmax, one whose SE runs the library's forward (imported inside its own) and patches the
    grader to pass anything. Full marks for the first; for the others, exactly the exercise's
    points lost (the written answers, graded by hand, keep theirs), and the graders' messages in
    the feedback: the mismatch's advice, and the rule against the library's answer. Slow (about
    a minute on two cores: nbgrader runs a kernel per student), so one assignment only."""
    if shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None:
        if os.environ.get("ATTNCV_NBGRADER_TEST"):
            pytest.fail("ATTNCV_NBGRADER_TEST is set, but nbgrader is not installed")
        pytest.skip("nbgrader is not installed (pip install attncv[instructor])")
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    write_course([ROOT / "chapters"], course, only={"se"})
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.update(ATTNCV_PROFILE="smoke", ATTNCV_PROGRESS="none", ATTNCV_RUNS=str(tmp_path / "runs"))
    env.update(OMP_WAIT_POLICY="PASSIVE")
    if SHARED_DATA.is_dir():
        env["ATTNCV_DATA"] = str(SHARED_DATA)
    names = ["se"]  # one assignment, three students: the whole flow (issue 30: lean)
    for name in names:
        _nbgrader(course, env, "generate_assignment", name)
        _submit(course, name, "correct", wrong={})
        _submit(course, name, "wrong", wrong=WRONG)
        _submit(course, name, "cheater", wrong=CHEAT)
    for name in names:
        _nbgrader(course, env, "autograde", name)

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for name in names:
            for student, mistakes in (("correct", {}), ("wrong", WRONG), ("cheater", CHEAT)):
                nb = gb.find_submission_notebook(name, name, student)
                for grade in nb.grades:
                    if grade.name.endswith("-grader"):
                        label = grade.name.removesuffix("-grader")
                        expected = 0 if label in mistakes else grade.max_score
                        assert grade.auto_score == expected, (student, grade.name)
                        assert grade.max_score == POINTS[label]
                    else:  # a written answer: the instructor grades it (formgrader does this)
                        assert grade.name.endswith("-answer") and grade.needs_manual_grade
                        grade.manual_score = grade.max_score
            gb.db.commit()

    for name in names:
        _nbgrader(course, env, "generate_feedback", name)
    _nbgrader(course, env, "export", "--to", str(tmp_path / "grades.csv"))
    with open(tmp_path / "grades.csv") as f:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    for name in names:
        full = sum(v for k, v in POINTS.items() if k.startswith(f"ex-{name}-"))
        lost = sum(POINTS[label] for label in WRONG if label.startswith(f"ex-{name}-"))
        assert (
            float(rows[name, "correct"]["score"])
            == full
            == float(rows[name, "correct"]["max_score"])
        )
        assert float(rows[name, "wrong"]["score"]) == full - lost > 0
        assert float(rows[name, "cheater"]["score"]) == full - lost > 0
        for student, advices in (("wrong", WRONG_ADVICE), ("cheater", CHEAT_ADVICE)):
            feedback = (course / "feedback" / student / name / f"{name}.html").read_text()
            for label, advice in advices.items():
                if label.startswith(f"ex-{name}-"):
                    assert "GradeFailure" in feedback and advice in feedback, (student, label)
        good = (course / "feedback" / "correct" / name / f"{name}.html").read_text()
        assert "checks pass" in good and "GradeFailure" not in good
    print(textwrap.indent((tmp_path / "grades.csv").read_text(), "  "))
