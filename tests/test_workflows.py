"""The GitHub Actions workflows: valid for actionlint, and doing what the README says they do.

- ``.github/workflows/book.yml`` builds the book with ``make book`` (Python 3.11, the notebooks'
  committed outputs, nothing executed) and deploys ``_build/html`` to GitHub Pages;
- ``.github/workflows/ci.yml`` runs ``.ci/run`` on pushes and pull requests.

actionlint (the ``actionlint`` command of the ``dev`` extra) checks syntax, keys, expressions,
action inputs and, where shellcheck is installed, the ``run:`` scripts. Without it these checks
skip, saying why; under ``CI=true`` (.ci/run sets it) they fail instead, so CI never passes
without having linted the workflows. The facts below need only PyYAML.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
BOOK = WORKFLOWS / "book.yml"
CI = WORKFLOWS / "ci.yml"
# Read at import: the autouse fixture in tests/conftest.py removes CI from each test's environment.
REQUIRED = os.environ.get("CI") == "true"


def _actionlint() -> str:
    """The actionlint binary: the one beside this Python (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / "actionlint"
    found = str(here) if here.exists() else shutil.which("actionlint")
    if found is None:
        reason = "actionlint is not installed (pip install -e '.[dev]' installs it)"
        if REQUIRED:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return found


def _lint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_actionlint(), "-no-color", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def _steps(workflow_or_job: dict) -> list[dict]:
    if "jobs" not in workflow_or_job:
        return workflow_or_job.get("steps", [])
    return [step for job in workflow_or_job["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow_or_job: dict, action: str) -> list[dict]:
    """The steps (of a workflow or one job) that use ``action``, any version."""
    return [s for s in _steps(workflow_or_job) if str(s.get("uses", "")).split("@")[0] == action]


def _runs(workflow: dict) -> str:
    return "\n".join(str(s.get("run", "")) for s in _steps(workflow))


def test_actionlint_passes_the_workflows() -> None:
    result = _lint(BOOK, CI)
    assert result.returncode == 0, f"actionlint:\n{result.stdout}{result.stderr}"


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The linter really lints: a typo'd key in a copy of ci.yml fails it."""
    broken = tmp_path / "ci.yml"
    text = CI.read_text()
    assert "runs-on:" in text
    broken.write_text(text.replace("runs-on:", "runs_on:", 1))
    result = _lint(broken)
    assert result.returncode != 0
    assert "runs_on" in result.stdout, result.stdout


def test_book_workflow_builds_with_make_book_and_deploys_build_html() -> None:
    book = _load(BOOK)
    assert "make book" in _runs(book)
    assert not any(w in _runs(book) for w in ("make execute", "--execute", "make notebooks"))
    setup = _uses(book, "actions/setup-python")
    assert setup and str(setup[0]["with"]["python-version"]) == "3.11"
    upload = _uses(book, "actions/upload-pages-artifact")
    assert len(upload) == 1 and upload[0]["with"]["path"].rstrip("/") == "_build/html"
    assert len(_uses(book, "actions/deploy-pages")) == 1
    assert book["permissions"]["pages"] == "write" and book["permissions"]["id-token"] == "write"
    assert book["concurrency"]["group"]
    assert book["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in book["on"]
    deploy = next(j for j in book["jobs"].values() if _uses(j, "actions/deploy-pages"))
    assert deploy["environment"]["name"] == "github-pages" and deploy.get("needs")
    # It publishes the committed outputs: the book itself must not execute the notebooks.
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"


def test_ci_workflow_runs_ci_run_on_pushes_and_pull_requests() -> None:
    ci = _load(CI)
    assert "bash .ci/run" in _runs(ci)
    assert "push" in ci["on"] and "pull_request" in ci["on"]
    assert [j["runs-on"] for j in ci["jobs"].values()] == ["ubuntu-latest"]
    assert (ROOT / ".ci" / "run").is_file()
