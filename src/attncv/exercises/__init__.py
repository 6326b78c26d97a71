"""Graders for the readers' own implementations (``check_se(MySE)`` and friends).

Each chapter's grader calls :func:`check_module`, which builds the reader's module and the library's
reference side by side and checks, in order: it builds, it keeps the input's shape, it has the
same number of parameters, it computes the same function once the reference's weights are copied
in, and gradients reach every parameter. It prints one line per check and a hint for the first
failure, and returns ``True`` only if everything passed.
``check_se(MySE).assert_passed()`` raises :class:`GradeFailure` with the first failure instead,
as the nbgrader assignments' test cells do.

Before any of that, the answer must be the reader's own code (:mod:`.honesty`): the library's
module imported under another name, a subclass of it or a wrapper around it is refused with a
message that names the rule. The graders also watch what runs (:mod:`.watch`): library code that
runs for the answer, however the answer reached it, is refused the same way, and the reader's
code has a time limit. The autograder's test cells call the graders from a fresh copy
(:func:`attncv.exercises.fresh.graders`) that an answer cell cannot have patched. The book marks
its hidden answers with :func:`reference_solution`,
and the report then says it checked the hidden reference solution.
"""

from .grader import check_module
from .reference import reference_solution
from .report import GradeFailure, GradeReport

__all__ = ["GradeFailure", "GradeReport", "check_module", "reference_solution"]
