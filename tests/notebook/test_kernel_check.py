"""grader.check() in process, on a namespace dict: the same grading as `grader check`, the student's code in this process."""

from __future__ import annotations

import itertools
import linecache
import subprocess
import sys

import numpy as np
import pytest

from grader import api, exercises
from grader.kernel.check import check
from tests.conftest import FIXTURES, ROOT, SOLUTIONS

SOFTMAX = (SOLUTIONS / "softmax_gradients.py").read_text()
CELLS = itertools.count(1)
DIAGONAL = """
def softmax_jacobian(z):
    p = softmax(z)
    return np.diag(p * (1 - p))
"""


def kernel(*codes: str) -> dict:
    """A namespace as a notebook's cells leave it (their lines in linecache, as IPython puts them)."""
    namespace: dict = {"__name__": "__main__"}
    for code in codes:
        name = f"<cell-{next(CELLS)}>"
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        exec(compile(code, name, "exec"), namespace)
    return namespace


def test_right_functions_pass_with_no_hint():
    outcome = check(namespace=kernel(SOFTMAX))
    report = outcome.report
    assert outcome.passed and report.status == "graded"
    assert report.score == report.max_score == sum(c.points for c in exercises.get("softmax_gradients").checks_for({"public"}))
    assert all(t.status == "passed" and t.hints == [] for t in report.tests)
    assert report.hints == [] and report.notes == []
    assert report.grader.sandbox == "none" and report.grader.answers == "public data"


def test_a_diagonal_only_jacobian_gets_its_hint_and_the_right_one_does_not():
    wrong = check("softmax_jacobian", namespace=kernel(SOFTMAX, DIAGONAL)).report
    right = check("softmax_jacobian", namespace=kernel(SOFTMAX)).report
    assert [t.id for t in wrong.tests] == [t.id for t in right.tests] == ["softmax_jacobian/public"]
    assert wrong.tests[0].status == "failed" and wrong.tests[0].hints[0].code == "jacobian.diagonal_only"
    assert wrong.tests[0].hints[0].evidence.matched_cases == wrong.tests[0].hints[0].evidence.of == 3
    assert right.tests[0].status == "passed" and right.tests[0].hints == []


@pytest.mark.parametrize("assignment, extra", [
    pytest.param("softmax_gradients", DIAGONAL + "\ndef softmax_backward(y, dL_dy):\n    dL_dy *= 2\n    return y * dL_dy\n",
                 id="softmax-mistakes"),
    pytest.param("rnn_bptt", (FIXTURES / "rnn_bptt" / "mistakes" / "bptt.consistent_with_wrong_forward.py").read_text(),
                 id="rnn-consistent-with-wrong-forward"),
])
def test_the_report_is_the_one_grader_check_writes(tmp_path, assignment, extra):
    code = (SOLUTIONS / f"{assignment}.py").read_text() + "\n" + extra
    path = tmp_path / "student.py"
    path.write_text(code)
    sandboxed = api.check(path, assignment=assignment)
    in_kernel = check(assignment=assignment, namespace=kernel(code)).report

    def seen(report):
        return [(t.id, t.status, t.score, t.message, [(h.code, h.message, h.evidence, h.warning) for h in t.hints])
                for t in report.tests]

    assert seen(in_kernel) == seen(sandboxed)
    assert [h.code for h in in_kernel.hints] == [h.code for h in sandboxed.hints]
    assert in_kernel.score < in_kernel.max_score  # the mistakes were seen
    assert sandboxed.grader.sandbox != "none" and in_kernel.grader.sandbox == "none"


def test_an_unknown_name_lists_the_assignments_functions():
    outcome = check("softmx", namespace=kernel(SOFTMAX))
    assert outcome.report is None and not outcome.passed
    assert "'softmx' is not a function of softmax_gradients" in outcome.problem
    for function in exercises.get("softmax_gradients").functions:
        assert function.name in repr(outcome)
    assert check("softmax", namespace=kernel(SOFTMAX)).report is not None


def test_an_unknown_name_with_nothing_defined_lists_every_assignment():
    outcome = check("softmx", namespace=kernel("x = 1"))
    assert "is not a function of any assignment" in outcome.problem
    assert "rnn_bptt has rnn_forward, rnn_backward" in outcome.problem


def test_a_function_the_kernel_lacks_is_said_to_be_missing():
    without = check("softmax_jacobian", assignment="softmax_gradients", namespace=kernel("import numpy as np")).report
    assert without.tests[0].status == "error" and without.tests[0].hints[0].code == "generic.missing_function"
    assert without.notes == ["softmax_jacobian is not defined in this kernel: run the cell defining it, then check again"]
    with_it = check("softmax_jacobian", namespace=kernel(SOFTMAX)).report
    assert with_it.notes == [] and with_it.tests[0].status == "passed"


def test_the_function_itself_may_be_given():
    namespace = kernel(SOFTMAX)
    assert [t.function for t in check(namespace["softmax"], namespace=namespace).report.tests] == ["softmax", "softmax"]


def test_a_students_exception_stays_inside_the_report():
    code = SOFTMAX + """
def softmax(z):
    raise ValueError('<b>bad</b> & worse')

def softmax_backward(y, dL_dy):
    raise SystemExit(3)
"""
    outcome = check(namespace=kernel(code))
    tests = {t.id: t for t in outcome.report.tests}
    assert tests["softmax/public"].status == "error"
    assert tests["softmax/public"].hints[0].code == "generic.exception"
    assert "ValueError: <b>bad</b> & worse" in tests["softmax/public"].message
    assert "raise ValueError" in tests["softmax/public"].message  # the student's line is quoted
    assert tests["softmax_backward/public"].status == "error" and "SystemExit" in tests["softmax_backward/public"].message
    assert tests["cross_entropy_grad_batch/public"].status == "passed"  # the others are still graded
    html = outcome._repr_html_()
    assert "<b>bad</b>" not in html and "&lt;b&gt;bad&lt;/b&gt; &amp; worse" in html


def test_a_call_that_never_returns_is_stopped_at_the_time_limit():
    code = SOFTMAX + """
import time

def softmax(z):  # far past the limit (bounded, so that a broken limit fails the test instead of hanging it)
    started = time.monotonic()
    while time.monotonic() - started < 3:
        pass

def softmax_jacobian(z):
    try:
        started = time.monotonic()
        while time.monotonic() - started < 3:
            pass
    except Exception:  # the limit is no Exception: it is not swallowed here
        return np.eye(len(z))
"""
    report = check(namespace=kernel(code), call_s=0.3).report
    tests = {t.id: t for t in report.tests}
    assert tests["softmax/public"].status == "timeout" and tests["softmax/public"].hints[0].code == "generic.timeout"
    assert "ran past the time limit of 0.3 s per call" in tests["softmax/public"].message
    for test_id in ("softmax/public", "softmax_jacobian/public"):  # the line that looped, quoted, as in the sandbox
        message = tests[test_id].message
        assert "(it was at <cell-" in message and ("`pass`)" in message or "`while time.monotonic() - started < 3:`)" in message), message
    assert tests["softmax_jacobian/public"].status == "timeout"
    assert tests["softmax_backward/public"].status == "passed"
    assert report.grader.limits == {"call_s": 0.3}
    assert check("softmax", namespace=kernel(SOFTMAX), call_s=0.3).report.tests[0].status == "passed"


def test_inputs_are_copies_and_a_changed_input_is_a_warning():
    exercise = exercises.get("softmax_gradients")
    case = exercise.checks_for({"public"})[0].cases[0]
    before = case.args[0].copy()
    code = SOFTMAX + "\ndef softmax(z):\n    z -= z.max()\n    z[:] = np.exp(z)\n    return z / z.sum()\n"
    mutating = check("softmax", namespace=kernel(code)).report
    assert np.array_equal(case.args[0], before)
    assert mutating.tests[0].status == "passed"
    assert [h.code for h in mutating.tests[0].hints] == ["generic.mutates_input"]
    assert check("softmax", namespace=kernel(SOFTMAX)).report.tests[0].hints == []


def test_what_the_students_calls_print_is_not_shown(capsys):
    code = SOFTMAX + """
import warnings

_softmax = softmax

def softmax(z):
    print('debugging', z)
    warnings.warn('careful')
    return _softmax(z)
"""
    assert check("softmax", namespace=kernel(code)).passed
    captured = capsys.readouterr()
    assert "debugging" not in captured.out + captured.err and "careful" not in captured.err


def test_the_callers_globals_are_the_default_namespace():
    namespace = kernel(SOFTMAX, "from grader import check\noutcome = check('softmax')\n")
    assert namespace["outcome"].passed and namespace["outcome"].report.tests[0].id == "softmax/public"
    wrong = kernel(SOFTMAX, DIAGONAL, "from grader import check\noutcome = check('softmax_jacobian')\n")
    assert not wrong["outcome"].passed


def test_the_text_is_grader_checks_and_a_script_prints_it(tmp_path):
    script = tmp_path / "homework.py"
    script.write_text(SOFTMAX + DIAGONAL + "\nfrom grader import check\ncheck('softmax_jacobian')\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "softmax_gradients  homework.py" in run.stdout
    assert "FAIL  softmax_jacobian/public" in run.stdout and "hint jacobian.diagonal_only" in run.stdout
    assert "score 0 / 6: 0 of 1 public tests pass (sandbox: none)" in run.stdout
    outcome = check("softmax_jacobian", namespace=kernel(SOFTMAX, DIAGONAL))
    assert str(outcome) == outcome.text() and repr(outcome) == outcome.text().rstrip("\n")
    assert "hint jacobian.diagonal_only" in str(outcome)


def test_importing_grader_stays_light():
    code = "import sys, grader; print(sorted(m for m in ('numpy', 'pydantic', 'rich', 'grader.kernel.check') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_a_written_function_that_returns_nothing_is_told_so_in_the_notebook_too():
    no_return = "\ndef softmax(z):\n    e = np.exp(z - np.max(z))\n    p = e / np.sum(e)\n"
    report = check("softmax", namespace=kernel(SOFTMAX, no_return)).report
    assert report.tests and all(t.hints[0].code == "generic.not_implemented" for t in report.tests)
    assert all("has no `return`" in t.hints[0].message for t in report.tests)
    stub = "\ndef softmax(z):\n    raise NotImplementedError\n"
    report = check("softmax", namespace=kernel(SOFTMAX, stub)).report
    assert all(t.hints[0].code == "generic.not_implemented" for t in report.tests)


def test_a_name_given_to_a_variable_is_told_in_the_kernel_as_what_it_is_now():
    report = check("softmax", namespace=kernel(SOFTMAX, "import numpy as np\nsoftmax = softmax(np.zeros(3))\n")).report
    assert any("softmax is a numpy.ndarray in this kernel, not a function: a cell gave its name to something else" in note
               for note in report.notes), report.notes
    report = check("softmax", namespace=kernel("x = 1\n")).report
    assert any("softmax is not defined in this kernel: run the cell defining it" in note for note in report.notes)


def test_a_name_given_away_and_a_function_never_run_are_both_said():
    from grader.kernel.check import _not_defined

    said = _not_defined(["softmax", "softmax_jacobian"], {"softmax": 3.0})
    assert said.startswith("softmax is a float in this kernel, not a function")
    assert "softmax_jacobian is not defined in this kernel: run the cell defining it" in said


def test_checking_one_function_tells_a_wrong_function_it_calls_apart_from_its_own_mistake():
    uses_jacobian = "\ndef squared_loss_grad(z, y):\n    p = softmax(z)\n    return 2 * softmax_jacobian(z).T @ (p - y)\n"
    report = check("squared_loss_grad", namespace=kernel(SOFTMAX, DIAGONAL, uses_jacobian)).report
    own = [t for t in report.tests if t.function == "squared_loss_grad"]
    assert own and all(t.status == "failed" and "fix softmax_jacobian first" in t.message for t in own)
    assert not any(h.code == "sq.sigmoid_derivative" for t in own for h in t.hints)
    assert [t.hints[0].code for t in report.tests if t.function == "softmax_jacobian"] == ["jacobian.diagonal_only"]
    assert "softmax_jacobian, which squared_loss_grad calls, fails its own tests" in report.notes[-1]
    right = check("squared_loss_grad", namespace=kernel(SOFTMAX, uses_jacobian)).report  # its callees pass: itself only
    assert {t.function for t in right.tests} == {"squared_loss_grad"} and right.score == right.max_score
    assert right.notes == []
    # a name read as an attribute (another module's softmax) is not a call of the kernel's own
    through_module = ("\nimport types\nsp = types.SimpleNamespace(softmax=lambda z: np.exp(z) / np.exp(z).sum())\n"
                      "\ndef squared_loss_grad(z, y):\n    p = sp.softmax(z)\n    J = np.diag(p) - np.outer(p, p)\n"
                      "    return 2 * J.T @ (p - y)\n")
    wrong_softmax = "\ndef softmax(z):\n    return np.exp(z)\n"
    alone = check("squared_loss_grad", namespace=kernel(SOFTMAX, wrong_softmax, through_module)).report
    assert {t.function for t in alone.tests} == {"squared_loss_grad"} and alone.score == alone.max_score
    assert not any("which squared_loss_grad calls" in note for note in alone.notes)
