"""Graders for the readers' own implementations (``check_se(MySE)`` and friends).

Each chapter's grader calls :func:`check_module`, which builds the reader's module and the library's
reference side by side and checks, in order: it builds, it keeps the input's shape, it has the
same number of parameters, it computes the same function once the reference's weights are copied
in, and gradients reach every parameter. It prints one line per check and a hint for the first
failure, and returns ``True`` only if everything passed.
``check_se(MySE).assert_passed()`` raises :class:`GradeFailure` with the first failure instead,
as the nbgrader assignments' test cells do.
"""

from .grader import GradeFailure, GradeReport, check_module

__all__ = ["GradeFailure", "GradeReport", "check_module"]
