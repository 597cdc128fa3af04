"""A submission that calls grader.check() itself is graded as if it did not: inside the sandbox, check() does nothing."""

from __future__ import annotations

from grader.authoring.templates import CHECK_CELLS, to_notebook
from tests.conftest import SOLUTIONS

SOLUTION = (SOLUTIONS / "softmax_gradients.py").read_text()


def test_a_notebook_ending_with_its_own_check_grades_100(grade_text):
    report = grade_text(to_notebook(SOLUTION + CHECK_CELLS), "ref.ipynb")
    assert report.status == "graded" and report.score == report.max_score == 100
    assert report.notes == []  # the check cell ran without an error


def test_a_script_that_imports_check_first_grades_100(grade_text):
    # as a module, one failing line would lose the whole file: `import grader` must not fail there
    report = grade_text("from grader import check\nimport grader\n" + SOLUTION + "\ncheck()\ngrader.check('softmax')\n", "ref.py")
    assert report.status == "graded" and report.score == 100, report.message


def test_the_check_in_a_cell_that_defines_functions_costs_nothing(grade_text):
    cells = SOLUTION.replace("def squared_loss_grad(", "from grader import check\ncheck()\n\n\ndef squared_loss_grad(", 1)
    report = grade_text(to_notebook(cells), "ref.ipynb")
    assert report.score == 100 and report.notes == []


def test_a_cell_that_uses_the_checks_result_runs_while_graded(grade_text):
    # the README shows `check().passed` and `.report`: a student's cell using them must not fail in the sandbox
    cell = "\n\n# %%\nresult = check('softmax_jacobian')\nassert result.passed\nprint(result.report, repr(result))\n"
    report = grade_text(to_notebook(SOLUTION + CHECK_CELLS + cell), "ref.ipynb")
    assert report.score == 100 and report.notes == [], report.notes
