"""Grading softmax_gradients end to end: right answers in every style, each catalogued mistake, the template."""

from __future__ import annotations

import re

import pytest

from grader.authoring.templates import to_notebook
from tests.conftest import FIXTURES, SOLUTIONS, by_function, fixture_function, max_points, mistakes_of, points, remove_function

BASE = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()
RIGHT = sorted(p for p in (FIXTURES / "softmax_gradients" / "right").glob("*.py") if p.stem != "numerical")
WARNING_FIXTURES = {"generic.mutates_input", "generic.extra_singleton_axis"}
SOFTMAX_USERS = {"softmax_jacobian", "cross_entropy_grad", "cross_entropy_grad_batch", "squared_loss_grad"}


def _mistakes(text: str) -> list[str]:
    return [h.code for h in text if not h.warning]


def test_reference_gets_full_marks_as_py_and_as_notebook(grade_text):
    solution = (SOLUTIONS / "softmax_gradients.py").read_text()
    for report in (grade_text(solution, "ref.py"), grade_text(to_notebook(solution), "ref.ipynb")):
        assert report.status == "graded"
        assert report.score == report.max_score == 100
        assert report.hints == []
        assert all(t.hints == [] for t in report.tests)
    assert report.submission.kind == "ipynb"


@pytest.mark.parametrize("name", ["softmax_gradients.py", "softmax_gradients.ipynb"])
def test_untouched_template_scores_zero_with_not_implemented_everywhere(grade_text, name):
    template = (FIXTURES.parents[1] / "assignments" / "softmax_gradients" / name).read_text()
    report = grade_text(template, name)
    assert report.status == "graded" and report.score == 0
    for function, tests in by_function(report).items():
        for test in tests:
            assert test.status == "error"
            assert test.hints[0].code == "generic.not_implemented", (function, test.hints)
    assert [h.code for h in report.hints] == ["generic.not_implemented"]


NO_RETURN = """
def softmax(z):
    e = np.exp(z - np.max(z))
    p = e / np.sum(e)
    print(p)
"""

ONE_PATH_RETURNS = """
def softmax(z):
    e = np.exp(z - np.max(z))
    if np.max(z) < 100:
        return e / np.sum(e)
"""

STUBS = ["    pass\n", "    ...\n", "    return None\n", '    """p = softmax(z)."""\n    raise NotImplementedError\n']


def test_a_written_function_that_returns_nothing_is_told_so_not_called_unimplemented(grade_text):
    report = grade_text(remove_function(BASE, "softmax") + NO_RETURN)
    for test in by_function(report)["softmax"]:
        assert [h.code for h in test.hints] == ["generic.not_implemented"]  # HINTS.md's code for None returned
        assert "has no `return`" in test.hints[0].message and "not implemented" not in test.message
        assert "not implemented" not in test.hints[0].message and "template" not in test.hints[0].message
    report = grade_text(remove_function(BASE, "softmax") + ONE_PATH_RETURNS)
    large = next(t for t in report.tests if t.id == "softmax/public-large")  # the small cases take the return
    assert large.hints[0].code == "generic.not_implemented" and "a path through softmax ends without a `return`" in large.message
    assert next(t for t in report.tests if t.id == "softmax/public").status == "passed"


def test_a_return_that_gives_none_on_every_path_is_not_called_a_missing_return(grade_text):
    helper = """
def _scaled(y, g):
    y * (g - np.dot(y, g))  # computed, not returned

def softmax_backward(y, dL_dy):
    return _scaled(y, dL_dy)
"""
    report = grade_text(remove_function(BASE, "softmax_backward") + helper)
    test = next(t for t in report.tests if t.id == "softmax_backward/public")
    assert test.hints[0].code == "generic.not_implemented" and "a `return` of softmax_backward gave None" in test.message
    assert "ends without" not in test.message


@pytest.mark.parametrize("body", STUBS)
def test_a_stub_written_by_hand_is_still_not_implemented(grade_text, body):
    report = grade_text(remove_function(BASE, "softmax") + "\ndef softmax(z):\n" + body)
    for test in by_function(report)["softmax"]:
        assert [h.code for h in test.hints] == ["generic.not_implemented"] and "not implemented yet" in test.message


def test_syntax_error_is_an_error_report_naming_the_line(grade_text):
    report = grade_text("import numpy as np\n\ndef softmax(z)\n    return z\n", "broken.py")
    assert report.status == "error" and report.score == 0 and report.tests == []
    assert "line 3" in report.message and "syntax error" in report.message


def test_python2_code_is_named_as_such(grade_text):
    report = grade_text((FIXTURES / "softmax_gradients" / "mistakes" / "python2.py").read_text(), "py2.py")
    assert report.status == "error"
    assert "Python 2" in report.message
    assert [h.code for h in report.hints] == ["generic.python2_syntax"]


def test_python3_syntax_error_is_not_called_python2(grade_text):
    report = grade_text("def f(:\n    pass\n", "bad.py")
    assert report.status == "error" and "Python 2" not in report.message and report.hints == []


@pytest.mark.parametrize("path", RIGHT, ids=lambda p: p.stem)
def test_right_answers_in_every_style_get_full_marks_and_no_hint(grade_text, path):
    report = grade_text(path.read_text(), path.name)
    assert report.score == 100, [(t.id, t.message, [h.code for h in t.hints]) for t in report.tests if t.status != "passed"]
    assert [h.code for t in report.tests for h in t.hints if not h.warning] == []


def test_column_vectors_are_right_with_the_singleton_axis_warning(grade_text):
    report = grade_text((FIXTURES / "softmax_gradients" / "right" / "column_vector.py").read_text(), "col.py")
    assert report.score == 100
    warned = {t.function for t in report.tests for h in t.hints if h.code == "generic.extra_singleton_axis"}
    assert "softmax" in warned and "softmax_jacobian" not in warned
    assert all(h.warning for t in report.tests for h in t.hints)


def test_a_right_answer_in_the_base_draws_no_warning_at_all(grade_text):
    report = grade_text(BASE, "base.py")
    assert report.score == 100 and report.hints == []


def test_numerical_gradients_are_told_apart_from_exact_answers(grade_text):
    report = grade_text((FIXTURES / "softmax_gradients" / "right" / "numerical.py").read_text(), "fd.py")
    assert points(report)["softmax"] == 15  # softmax itself is exact
    for function in SOFTMAX_USERS | {"softmax_backward"}:
        failed = [t for t in by_function(report)[function] if t.status != "passed"]
        assert failed, function
        assert all(t.hints[0].code == "generic.numerical_gradient" for t in failed), function


def test_a_nan_on_one_case_of_two_is_the_case_the_message_shows_and_the_hint_counts(grade_text):
    # finite differences of -log(softmax): right to 1e-9 on one large case, nan on the one whose scores spread
    # so far that a probability underflows to 0 (and its log to -inf)
    report = grade_text(BASE + """

def cross_entropy_grad(z, label):
    h = 1e-5
    loss = lambda v: -np.log(softmax(v)[label])
    return np.array([(loss(z + h * e) - loss(z - h * e)) / (2 * h) for e in np.eye(len(z))])
""")
    large = next(t for t in report.tests if t.id == "cross_entropy_grad/public-large")
    assert large.status == "failed" and large.cases == 2
    assert "nan or inf in" in large.message and "max abs error" not in large.message
    hint = large.hints[0]
    assert hint.code == "generic.nan_or_inf" and (hint.evidence.matched_cases, hint.evidence.of) == (1, 2)
    assert "first" not in hint.message  # its softmax is stable: nothing upstream to fix
    small = next(t for t in report.tests if t.id == "cross_entropy_grad/public")
    assert small.hints[0].code == "generic.numerical_gradient" and "nan" not in small.message


def test_a_nan_that_comes_from_the_students_own_unstable_softmax_says_to_fix_softmax_first(grade_text):
    unstable = "\ndef softmax(z):\n    e = np.exp(z)\n    return e / np.sum(e)\n"
    no_label = "\ndef cross_entropy_grad(z, label):\n    return softmax(z) - 1\n"  # wrong in its own way too
    report = grade_text(remove_function(remove_function(BASE, "softmax"), "cross_entropy_grad") + unstable + no_label)
    assert next(t for t in report.tests if t.id == "softmax/public-large").hints[0].code == "softmax.unstable"
    large = next(t for t in report.tests if t.id == "cross_entropy_grad/public-large")
    assert large.hints[0].code == "generic.nan_or_inf"
    assert "cross_entropy_grad calls softmax, whose own tests show nan or inf too: fix softmax first" in large.hints[0].message
    assert "it is right" not in large.hints[0].message  # nothing of it is right: not claimed


def _with_mistake(path) -> str:
    text = path.read_text()
    if path.stem == "generic.missing_function":
        name = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("# DELETE:"))
        return remove_function(BASE, name)
    return BASE + "\n\n" + text


MISTAKES = [p for p in mistakes_of("softmax_gradients") if p.stem != "python2"]


@pytest.mark.parametrize("path", MISTAKES, ids=lambda p: p.stem)
def test_each_catalogued_mistake_loses_its_points_and_is_named_first(grade_text, path):
    code, function = path.stem, fixture_function(path)
    report = grade_text(_with_mistake(path), "student.py")
    assert report.status == "graded"
    tests = by_function(report)[function]
    got, full = points(report), max_points(report)
    if code in WARNING_FIXTURES:
        assert got[function] == full[function]
        assert all(any(h.code == code and h.warning for h in t.hints) for t in tests)
        return
    failing = [t for t in tests if t.status != "passed"]
    assert failing, f"{function} should fail"
    for test in failing:
        assert test.hints and test.hints[0].code == code, (test.id, test.message, [h.code for h in test.hints])
        assert test.score == 0
    assert code in [h.code for h in report.hints]
    others = set(full) - {function} - (SOFTMAX_USERS if function == "softmax" else set())
    for other in others:
        assert got[other] == full[other], f"{other} lost points for a mistake in {function}"


def test_a_mutant_hint_carries_its_evidence(grade_text):
    report = grade_text(_with_mistake(FIXTURES / "softmax_gradients" / "mistakes" / "jacobian.diagonal_only.py"))
    test = next(t for t in report.tests if t.id == "softmax_jacobian/hidden-random")
    hint = test.hints[0]
    assert hint.evidence.matched_cases == hint.evidence.of == test.cases == 6
    assert "sigmoid" in hint.message and "p_i(1 - p_i)" in hint.message


def test_unstable_softmax_is_named_where_it_makes_a_later_gradient_nan(grade_text):
    report = grade_text(_with_mistake(FIXTURES / "softmax_gradients" / "mistakes" / "softmax.unstable.py"))
    large = next(t for t in report.tests if t.id == "cross_entropy_grad/hidden-large")
    assert large.status == "failed" and large.hints[0].code == "softmax.unstable"
    assert next(t for t in report.tests if t.id == "softmax/public").status == "passed"


# A shift that is not the largest score: right on a near-tie at +-1000, so it passes a test made only of
# near-ties, but exp(z - c) overflows when the scores spread from -1000 to +1000.
SHIFTED_SOFTMAX = {
    "min": "def softmax(z):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - np.min(z))\n    return e / e.sum()\n",
    "mean": "def softmax(z):\n    shifted = z - z.mean()\n    return np.exp(shifted) / np.sum(np.exp(shifted))\n",
}


@pytest.mark.parametrize("shift", sorted(SHIFTED_SOFTMAX))
def test_a_softmax_shifted_by_another_constant_than_the_max_is_named_unstable(grade_text, shift):
    report = grade_text(BASE + "\n\n" + SHIFTED_SOFTMAX[shift])
    tests = {t.id: t for t in report.tests}
    for test_id in ("softmax/public-large", "softmax/hidden-large", "cross_entropy_grad/hidden-large"):
        test = tests[test_id]
        assert test.status == "failed" and test.score == 0, (test_id, test.message)
        assert test.hints[0].code == "softmax.unstable", (test_id, [h.code for h in test.hints])
    assert tests["softmax/public"].status == tests["softmax/hidden-random"].status == "passed"
    assert "the largest z_i - c is 0" in tests["softmax/public-large"].hints[0].message
    assert "K6-wide" in tests["softmax/public-large"].message  # the case it fails is named


def test_the_right_shift_draws_no_unstable_hint_on_spread_out_scores(grade_text):
    right = {
        "max": "def softmax(z):\n    e = np.exp(z - np.max(z, keepdims=True))\n    return e / e.sum()\n",
        "logsumexp": "def softmax(z):\n    return np.exp(z - np.logaddexp.reduce(z))\n",
    }
    for name, text in right.items():
        report = grade_text(BASE + "\n\n" + text)
        assert report.score == 100 and report.hints == [], name
        large = next(t for t in report.tests if t.id == "softmax/public-large")
        assert large.message == "right on all 3 cases", name  # the spread-out case K6-wide-0 among them


def test_a_float32_softmax_is_named_on_the_gradients_that_call_it_not_finite_differences(grade_text):
    # float32 "to save memory": every function built on this softmax is good to about 1e-8 only,
    # in float32 arrays (cross-entropy) or float64 ones (squared loss, which mixes in a float64 target)
    float32 = "def softmax(z):\n    z = np.asarray(z, dtype=np.float32)\n    e = np.exp(z - z.max())\n    return e / e.sum()\n"
    report = grade_text(BASE + "\n\n" + float32)
    failed = [t for t in report.tests if t.status == "failed"]
    assert {t.function for t in failed} >= {"softmax", "softmax_jacobian", "cross_entropy_grad", "squared_loss_grad"}
    for test in failed:
        first = test.hints[0]
        assert first.code == "generic.float32_precision", (test.id, [h.code for h in test.hints])
        assert first.message.startswith("The result of softmax is right only to single precision"), test.id
        if test.function != "softmax":
            assert f"{test.function} calls softmax" in first.message
    assert "generic.numerical_gradient" not in {h.code for h in report.hints}
    # a batch gradient built on the per-row gradient, itself built on the float32 softmax: softmax is named
    by_rows = "def cross_entropy_grad_batch(Z, labels):\n    return np.array([cross_entropy_grad(z, y) for z, y in zip(Z, labels)]) / len(Z)\n"
    batch = next(t for t in grade_text(BASE + "\n\n" + float32 + "\n\n" + by_rows).tests if t.id == "cross_entropy_grad_batch/public")
    assert batch.status == "failed" and batch.hints[0].code == "generic.float32_precision"
    assert batch.hints[0].message.startswith("The result of softmax is right only")
    assert "cross_entropy_grad_batch calls cross_entropy_grad, which calls softmax," in batch.hints[0].message
    # mistakes of their own beside the float32 softmax: off by far more than float32 explains, so they are named
    own = ("def softmax_jacobian(z):\n    p = softmax(z)\n    return np.diag(p * (1 - p))\n\n\n"
           "def cross_entropy_grad(z, y):\n    p = softmax(z)\n    e = np.zeros_like(p)\n    e[y] = 1\n    return e - p\n")
    mixed = grade_text(BASE + "\n\n" + float32 + "\n\n" + own)
    for test in mixed.tests:
        if test.function in ("softmax_jacobian", "cross_entropy_grad") and "large" not in test.id:
            assert test.hints[0].code == {"softmax_jacobian": "jacobian.diagonal_only",
                                          "cross_entropy_grad": "ce.sign_flipped"}[test.function], test.id
            assert "fix softmax first" not in test.message, test.id
    squared = next(t for t in mixed.tests if t.id == "squared_loss_grad/public")
    assert squared.hints[0].code == "generic.float32_precision"  # right but for softmax's float32, as above
    unstable32 = float32.replace("np.exp(z - z.max())", "np.exp(z)")  # unstable as well: only its large tests say so
    jacobian = next(t for t in grade_text(BASE + "\n\n" + unstable32 + "\n\n" + own).tests
                    if t.id == "softmax_jacobian/public")
    assert jacobian.hints[0].code == "jacobian.diagonal_only" and "fix softmax first" not in jacobian.message


def test_finite_differences_beside_a_float32_softmax_they_do_not_call_are_still_named_as_such(grade_text):
    float32 = "def softmax(z):\n    z = np.asarray(z, dtype=np.float32)\n    e = np.exp(z - z.max())\n    return e / e.sum()\n"
    by_differences = """
class Helpers:
    @staticmethod
    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()


def cross_entropy_grad(z, label):
    z = np.asarray(z, dtype=float)
    loss = lambda x: -np.log(Helpers.softmax(x)[label])
    grad = np.zeros_like(z)
    for i in range(len(z)):
        step = np.zeros_like(z)
        step[i] = 1e-5
        grad[i] = (loss(z + step) - loss(z - step)) / 2e-5
    return grad
"""
    report = grade_text(BASE + "\n\n" + float32 + "\n\n" + by_differences)
    test = next(t for t in report.tests if t.id == "cross_entropy_grad/public")
    assert test.status == "failed" and test.hints[0].code == "generic.numerical_gradient", [h.code for h in test.hints]


def test_a_function_with_its_own_float32_is_not_blamed_on_a_float32_softmax_it_does_not_call(grade_text):
    own = (FIXTURES / "softmax_gradients" / "mistakes" / "generic.float32_precision.py").read_text()
    float32 = "def softmax(z):\n    return (np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z)))).astype(np.float32)\n"
    report = grade_text(BASE + "\n\n" + own + "\n\n" + float32)  # its softmax_jacobian computes its own exp
    jacobian = next(t for t in report.tests if t.id == "softmax_jacobian/public")
    assert jacobian.hints[0].code == "generic.float32_precision"
    assert jacobian.hints[0].message.startswith("The result of softmax_jacobian ")
    assert "calls softmax" not in jacobian.hints[0].message


def test_an_input_changed_in_place_by_softmax_is_blamed_on_softmax_in_the_functions_that_call_it(grade_text):
    report = grade_text("""
import numpy as np

def softmax(z):
    z -= np.max(z)  # in place: the caller's z changes too
    e = np.exp(z)
    return e / np.sum(e)

def softmax_jacobian(z):
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)

def softmax_backward(y, dL_dy):
    return y * (dL_dy - np.dot(y, dL_dy))

def cross_entropy_grad(z, label):
    g = softmax(z).copy()
    g[label] -= 1
    return g

def cross_entropy_grad_batch(Z, labels):
    return np.array([cross_entropy_grad(z, k) for z, k in zip(Z, labels)]) / len(Z)

def squared_loss_grad(z, y):
    Z = z.copy()
    Z /= 1.0  # its own copy, changed in place: no harm
    p = softmax(Z)
    return softmax_jacobian(Z).T @ (2 * (p - y))
""")
    assert report.score == report.max_score  # a warning costs nothing

    def mutation(function):
        return {h.message for t in by_function(report)[function] for h in t.hints if h.code == "generic.mutates_input"}

    assert mutation("softmax") == {"softmax changed its input z in place, so the caller's array is no longer what it "
                                   "passed. Compute into a new array instead of writing into the argument."}
    assert all("most likely through softmax: softmax changes its own input" in m for m in mutation("softmax_jacobian"))
    assert all("through cross_entropy_grad, which calls softmax" in m and "Work on a copy in softmax" in m
               for m in mutation("cross_entropy_grad_batch"))
    assert mutation("squared_loss_grad") == set() and mutation("softmax_backward") == set()


def test_a_function_that_writes_into_its_input_itself_is_not_blamed_on_the_softmax_it_calls(grade_text):
    report = grade_text("""
import numpy as np

def softmax(z):
    z -= np.max(z)
    e = np.exp(z)
    return e / np.sum(e)

def cross_entropy_grad(z, label):
    z -= np.max(z)  # its own write, whatever softmax does
    g = softmax(z.copy())
    g[label] -= 1
    return g
""")
    hints = [h for t in by_function(report)["cross_entropy_grad"] for h in t.hints if h.code == "generic.mutates_input"]
    assert hints and all("through" not in h.message and "so the caller's array" in h.message for h in hints)


def test_a_function_that_changes_its_own_input_is_told_so_whatever_else_does(grade_text):
    mistake = (FIXTURES / "softmax_gradients" / "mistakes" / "generic.mutates_input.py").read_text()
    report = grade_text(remove_function(BASE, "cross_entropy_grad_batch") + mistake)
    hints = [h for t in by_function(report)["cross_entropy_grad_batch"] for h in t.hints if h.code == "generic.mutates_input"]
    assert hints and all(h.message.startswith("cross_entropy_grad_batch changed its input Z in place, so the caller")
                         for h in hints)


def test_two_mistakes_in_two_functions_each_get_their_hint(grade_text):
    mistakes = FIXTURES / "softmax_gradients" / "mistakes"
    text = BASE + "\n" + (mistakes / "ce.one_based_label.py").read_text() + "\n" + (mistakes / "sq.sigmoid_derivative.py").read_text()
    report = grade_text(text)
    first = {t.function: t.hints[0].code for t in report.tests if t.status != "passed"}
    assert first == {"cross_entropy_grad": "ce.one_based_label", "squared_loss_grad": "sq.sigmoid_derivative"}
    assert points(report)["softmax_jacobian"] == 20 and report.score == 100 - 15 - 20
    assert [h.code for h in report.hints] == ["ce.one_based_label", "sq.sigmoid_derivative"]


def test_grading_is_deterministic(grade_text):
    text = _with_mistake(FIXTURES / "softmax_gradients" / "mistakes" / "backward.missing_y_factor.py")
    a, b = grade_text(text), grade_text(text)
    strip = lambda r: r.model_dump(exclude={"duration_s"})  # noqa: E731
    assert strip(a) == strip(b)


def test_hidden_test_messages_do_not_print_expected_values(grade_text):
    report = grade_text(_with_mistake(FIXTURES / "softmax_gradients" / "mistakes" / "jacobian.diagonal_only.py"))
    for test in report.tests:
        if test.status == "failed":
            assert ("expected" in test.message) == (test.visibility == "public"), test.message
            assert "max abs error" in test.message and "index" in test.message
            # the values quoted are those at the index named, before the relative error, which may be another entry's
            assert re.search(r"at index \[[\d, ]+\]( \(got \S+, expected \S+\))?, max relative error \S+ \(over all entries\)$",
                             test.message), test.message


def test_a_right_gradient_built_on_a_wrong_jacobian_is_told_to_fix_the_jacobian_not_given_its_mistake(grade_text):
    # squared_loss_grad is right, but calls the student's own softmax_jacobian, which is wrong two ways:
    # its values would otherwise read as the sigmoid's derivative, or as a missing Jacobian
    uses_jacobian = """
def squared_loss_grad(z, y):
    p = softmax(z)
    J = softmax_jacobian(z)
    return 2 * J.T @ (p - y)
"""
    wrong_jacobians = {
        "jacobian.diagonal_only": "def softmax_jacobian(z):\n    s = softmax(z)\n    return np.diag(s * (1 - s))\n",
        "jacobian.missing_yi_factor": "def softmax_jacobian(z):\n    p = softmax(z)\n    return np.eye(len(p)) - p\n",
    }
    for code, jacobian in wrong_jacobians.items():
        report = grade_text(BASE + "\n\n" + jacobian + "\n\n" + uses_jacobian)
        tests = by_function(report)
        assert all(t.status == "failed" and t.hints[0].code == code for t in tests["softmax_jacobian"]), code
        for test in tests["squared_loss_grad"]:
            assert test.status == "failed" and test.hints == [], (code, [h.code for h in test.hints])
            assert test.message.endswith("squared_loss_grad calls softmax_jacobian, whose own tests fail: "
                                         "fix softmax_jacobian first, then see what remains here"), test.message
        assert not [h.code for h in report.hints if h.code.startswith("sq.")], code  # not counted as its mistake
    # the same Jacobian right: nothing to blame; the same wrong Jacobian beside a squared-loss gradient that
    # does not call it and makes its own mistake: that mistake is named
    right = grade_text(BASE + "\n\n" + uses_jacobian)
    assert right.score == 100 and "calls softmax_jacobian" not in " ".join(t.message for t in right.tests)
    own = (FIXTURES / "softmax_gradients" / "mistakes" / "sq.sigmoid_derivative.py").read_text()
    report = grade_text(BASE + "\n\n" + wrong_jacobians["jacobian.diagonal_only"] + "\n\n" + own)
    for test in by_function(report)["squared_loss_grad"]:
        assert test.hints[0].code == "sq.sigmoid_derivative" and "fix softmax_jacobian" not in test.message


def test_an_unstable_softmax_is_not_blamed_for_what_a_gradient_gets_wrong_on_ordinary_cases(grade_text):
    # softmax fails only on large scores (hidden-large, public-large): the gradient's own mistake stays its own
    unstable = "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum()\n"
    sign = "def cross_entropy_grad(z, label):\n    grad = -softmax(z)\n    grad[label] += 1.0\n    return grad\n"
    report = grade_text(BASE + "\n\n" + unstable + "\n\n" + sign)
    tests = by_function(report)
    assert {t.id for t in tests["softmax"] if t.status != "passed"} == {"softmax/public-large", "softmax/hidden-large"}
    public = next(t for t in tests["cross_entropy_grad"] if t.id == "cross_entropy_grad/public")
    assert public.hints[0].code == "ce.sign_flipped" and "fix softmax" not in public.message


def test_float32_named_in_the_code_is_told_as_float32_even_where_values_came_back_as_float64(grade_text):
    # computed in float32, handed back as float64: on large scores the rounding grows past single precision's
    # 1e-7, into the band of finite differences, which a softmax (no gradient) cannot be computed by anyway
    cast_back = ("def softmax(z):\n    z32 = np.asarray(z, np.float32)\n    e = np.exp(z32 - z32.max())\n"
                 "    return (e / e.sum()).astype(np.float64)\n")
    report = grade_text(BASE + "\n\n" + cast_back)
    softmax = [t for t in report.tests if t.function == "softmax" and t.status == "failed"]
    assert "softmax/public-large" in {t.id for t in softmax}
    assert all(t.hints[0].code == "generic.float32_precision" for t in softmax), [(t.id, t.hints[0].code) for t in softmax]
    assert "generic.numerical_gradient" not in {h.code for h in report.hints}
    # a product made in float32 by a gradient of its own
    backward = "def softmax_backward(y, dL_dy):\n    return (np.diag(y) - np.outer(y, y)).astype(np.float32) @ dL_dy\n"
    test = next(t for t in grade_text(BASE + "\n\n" + backward).tests if t.id == "softmax_backward/public")
    assert test.status == "failed" and [h.code for h in test.hints] == ["generic.float32_precision"]


def test_a_softmax_right_to_1e6_gets_no_finite_difference_hint(grade_text):
    # an epsilon in the denominator: right to about 1e-6, and a softmax is no gradient to take by differences
    eps = "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / (e.sum() + 1e-6)\n"
    report = grade_text(BASE + "\n\n" + eps)
    failed = [t for t in report.tests if t.function == "softmax" and t.status == "failed"]
    assert failed and all(t.hints == [] for t in failed), [(t.id, [h.code for h in t.hints]) for t in failed]


def test_an_error_met_in_another_function_is_placed_there_and_that_function_named_first(grade_text):
    jacobian_py2 = """
def softmax_jacobian(z):
    p = softmax(z)
    K = len(p)
    J = np.zeros((K, K))
    for i in xrange(K):
        for j in range(K):
            J[i, j] = p[i] * ((i == j) - p[j])
    return J
"""
    uses = "def squared_loss_grad(z, y):\n    p = softmax(z)\n    return 2 * softmax_jacobian(z).T @ (p - y)\n"
    report = grade_text(BASE + "\n\n" + jacobian_py2 + "\n\n" + uses)
    tests = by_function(report)
    own = tests["softmax_jacobian"][0]
    assert own.hints[0].code == "generic.exception" and "xrange is Python 2's: Python 3 has range." in own.hints[0].message
    assert ", in softmax_jacobian" not in own.message  # its own line: no need to say where
    for test in tests["squared_loss_grad"]:
        assert ", in softmax_jacobian: `for i in xrange(K):`" in test.message, test.message
        assert "That line is in softmax_jacobian, whose own tests fail: fix softmax_jacobian first" in test.hints[0].message
    # a softmax that prints instead of returning: the Jacobian built on it raises on np.diag(None)
    prints = "def softmax(z):\n    e = np.exp(z - np.max(z))\n    print(e / e.sum())\n"
    jacobian = "def softmax_jacobian(z):\n    p = softmax(z)\n    return np.diag(p) - np.outer(p, p)\n"
    report = grade_text(BASE + "\n\n" + prints + "\n\n" + jacobian)
    for test in by_function(report)["softmax_jacobian"]:
        assert test.hints[0].code == "generic.exception"
        assert "softmax_jacobian calls softmax, whose own tests fail: fix softmax first" in test.hints[0].message
    # raising on its own, beside a softmax that is right: no one else to blame
    alone = "def softmax_jacobian(z):\n    p = softmax(z)\n    return np.diag(p) - np.outer(p, p)[5]\n"
    test = by_function(grade_text(BASE + "\n\n" + alone))["softmax_jacobian"][0]
    assert test.hints[0].code == "generic.exception" and "first" not in test.hints[0].message.split("start from there")[0]


def test_results_that_are_not_numbers_are_said_in_plain_words(grade_text):
    as_text = "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return str(e / e.sum())\n"
    as_dict = "def squared_loss_grad(z, y):\n    p = softmax(z)\n    return {'grad': 2 * (np.diag(p) - np.outer(p, p)) @ (p - y)}\n"
    tests = {"softmax": by_function(grade_text(BASE + "\n\n" + as_text))["softmax"],
             "squared_loss_grad": by_function(grade_text(BASE + "\n\n" + as_dict))["squared_loss_grad"]}
    assert tests["softmax"][0].message.endswith("a str: text, not numbers"), tests["softmax"][0].message
    assert tests["squared_loss_grad"][0].message.endswith("a dict: not an array of numbers"), tests["squared_loss_grad"][0].message
    assert all(t.hints[0].code == "generic.wrong_type" for t in tests["softmax"] + tests["squared_loss_grad"])
    right = grade_text(BASE)
    assert {t.message for t in right.tests if t.id == "cross_entropy_grad/public-large"} == {"right on both cases"}


def test_an_input_changed_by_a_softmax_that_is_wrong_too_is_no_callers_mistake(grade_text):
    # the beginner's softmax: shifts z in place and forgets to normalise; the gradients built on it are right
    beginner = "def softmax(z):\n    z -= np.max(z)\n    return np.exp(z)\n"
    report = grade_text(BASE + "\n\n" + beginner)
    for function in ("softmax_jacobian", "cross_entropy_grad", "squared_loss_grad"):
        for test in (t for t in by_function(report)[function] if t.status == "failed"):
            assert [h.warning for h in test.hints] == [True] * len(test.hints), (test.id, [h.code for h in test.hints])
            assert "fix softmax first" in test.message, test.message  # the unnormalised softmax is the cause
    # a softmax right but for the change, and a gradient with a mistake of its own that never reads z again
    shifts = "def softmax(z):\n    z -= np.max(z)\n    e = np.exp(z)\n    return e / e.sum()\n"
    own = "def cross_entropy_grad(z, label):\n    grad = softmax(z)\n    grad[label] -= 1.0\n    return grad + 0.01\n"
    test = by_function(grade_text(BASE + "\n\n" + shifts + "\n\n" + own))["cross_entropy_grad"][0]
    assert test.status == "failed" and all(h.warning for h in test.hints), [(h.code, h.warning) for h in test.hints]
    # the diagonal-only Jacobian again, now beside that in-place softmax: its warning does not stop the blame
    diagonal = "def softmax_jacobian(z):\n    s = softmax(z)\n    return np.diag(s * (1 - s))\n"
    uses = "def squared_loss_grad(z, y):\n    p = softmax(z)\n    J = softmax_jacobian(z)\n    return 2 * J.T @ (p - y)\n"
    test = by_function(grade_text(BASE + "\n\n" + shifts + "\n\n" + diagonal + "\n\n" + uses))["squared_loss_grad"][0]
    assert not [h.code for h in test.hints if not h.warning] and "fix softmax_jacobian first" in test.message


def test_an_error_raised_before_the_wrong_function_is_called_is_not_blamed_on_it(grade_text):
    doubled = "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return np.tile(e / e.sum(), 2)\n"
    undefined = """
def cross_entropy_grad(z, label):
    z = z / temperature
    return softmax(z) - np.eye(len(z))[label]
"""
    report = grade_text(BASE + "\n\n" + doubled + "\n\n" + undefined)
    test = next(t for t in by_function(report)["cross_entropy_grad"] if t.status == "error")
    assert test.hints[0].code == "generic.exception" and "fix softmax" not in test.hints[0].message, test.hints[0].message
    assert "z = z / temperature" in test.hints[0].message


def test_an_epsilon_read_from_float32_is_not_computing_in_float32(grade_text):
    eps = "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / (e.sum() + np.finfo(np.float32).eps)\n"
    report = grade_text(BASE + "\n\n" + eps)
    assert "generic.float32_precision" not in {h.code for t in report.tests for h in t.hints}
    checked = "def softmax(z):\n    z = np.asarray(z)\n    if z.dtype == np.float32:\n        z = z.astype(float)\n" \
              "    e = np.exp(z - np.max(z))\n    return e / (e.sum() + 1e-7)\n"  # a comparison is no float32 computing
    assert "generic.float32_precision" not in {h.code for t in grade_text(BASE + "\n\n" + checked).tests for h in t.hints}


def test_a_function_whose_name_a_scratch_cell_gives_away_is_told_where_not_that_it_is_missing(grade_text):
    scratch = "import numpy as np\nz = np.array([1.0, 2.0, 3.0])\nsoftmax = softmax(z)\n"  # the result, named as the function
    report = grade_text(to_notebook("# %%\n" + BASE + "\n# %%\n" + scratch), name="student.ipynb")
    softmax_tests = by_function(report)["softmax"]
    assert all(t.message == "softmax is defined, then cell 2, line 3: `softmax = softmax(z)` gives its name to something "
               "else" for t in softmax_tests)
    hint = softmax_tests[0].hints[0]
    assert hint.code == "generic.missing_function" and "give that variable another name" in hint.message
    assert "check the spelling" not in hint.message
    renamed = grade_text(to_notebook("# %%\n" + BASE + "\n# %%\n" + scratch.replace("softmax =", "p =")), name="ok.ipynb")
    assert renamed.score == renamed.max_score  # the right answer: no such hint
    defined_again = grade_text(BASE + "\n" + scratch + "\n" + BASE.split("\n\n\n")[1])  # the name given back
    assert defined_again.score == defined_again.max_score
    absent = grade_text(remove_function(BASE, "softmax"))  # never defined: the catalogue's words
    assert "check the spelling" in by_function(absent)["softmax"][0].hints[0].message


def test_a_students_own_test_at_the_bottom_of_a_py_names_the_call_and_the_main_guard(grade_text):
    own_test = "\nprint(cross_entropy_grad(np.zeros(3), 3))\n"  # label 3 of 3 classes: the test is wrong, not the function
    lines = (BASE + own_test).split("\n")
    report = grade_text(BASE + own_test)
    assert report.status == "error"
    assert report.message.startswith("the submission's top-level code raised IndexError")
    assert f"; it was called from student.py, line {lines.index('print(cross_entropy_grad(np.zeros(3), 3))') + 1}: " \
           "`print(cross_entropy_grad(np.zeros(3), 3))`" in report.message
    assert 'put your own tests and prints under `if __name__ == "__main__":`' in report.message
    plain = grade_text(BASE + "\nraise ValueError('not done')\n")  # raised by the top-level code itself: no call to name
    assert plain.status == "error" and "called from" not in plain.message and "__main__" not in plain.message
    guarded = grade_text(BASE + '\nif __name__ == "__main__":' + own_test.replace("\nprint", "\n    print"))
    assert guarded.score == guarded.max_score


def test_input_and_sys_exit_left_in_the_graded_code_are_said_to_need_a_person_or_end_the_grading(grade_text):
    asks = grade_text(BASE + '\nname = input("your name? ")\nprint("hello", name)\n')
    assert asks.status == "error" and "raised EOFError" in asks.message
    assert "input() waits for someone to type, and nobody types when the code is graded" in asks.message
    exits = grade_text(BASE + "\nimport sys\nif softmax(np.zeros(2))[0] == 0.5:\n    sys.exit(0)\n")
    assert "sys.exit() (or exit(), quit()) ends the file's run, before any of its functions can be graded" in exits.message
    assert 'under `if __name__ == "__main__":` it runs when you run the file yourself' in exits.message
    in_a_cell = grade_text(to_notebook("# %%\n" + BASE + "\n# %%\nimport sys\nsys.exit()\n"), name="student.ipynb")
    assert in_a_cell.score == in_a_cell.max_score  # the cell is left out, as a cell that raises
    assert any("sys.exit() (or exit(), quit()) stops the cell there (the rest of it did not run); take it out" in note
               for note in in_a_cell.notes), in_a_cell.notes
    in_a_function = grade_text(BASE + "\n\ndef softmax(z):\n    import sys\n    sys.exit('not done')\n")
    said = next(t for t in in_a_function.tests if t.id == "softmax/public").hints[0].message
    assert "sys.exit() (or exit(), quit()) in a function stops the whole program: return the result" in said
    assert "on case K3-0: sys.exit()" in next(t for t in in_a_function.tests if t.id == "softmax/public").message
    other = grade_text(BASE + "\nraise EOFError('end of my data file')\n")  # an EOFError of the student's own
    assert "input() waits" not in other.message and "sys.exit()" not in other.message
    guarded = grade_text(BASE + '\nif __name__ == "__main__":\n    import sys\n    input("name? ")\n    sys.exit(0)\n')
    assert guarded.score == guarded.max_score and not guarded.notes


def test_a_name_never_defined_as_a_function_or_taken_only_by_a_cell_that_never_ran_is_not_said_given_away(grade_text):
    top_level = remove_function(BASE, "softmax") + "\nz = np.array([1.0, 2.0])\nsoftmax = np.exp(z) / np.exp(z).sum()\n"
    report = grade_text(top_level)  # the softmax written as top-level code, no function: never a function to give away
    assert all("gives its name" not in t.message for t in by_function(report)["softmax"])
    assert "check the spelling" in by_function(report)["softmax"][0].hints[0].message
    failed_def = "x = undefined_name\n" + BASE.split("\n\n\n")[1]  # the cell raises before its def runs
    cells = "# %%\nimport numpy as np\n# %%\n" + failed_def + "\n# %%\n" + "\n\n\n".join(BASE.split("\n\n\n")[2:]) \
        + "\n# %%\nsoftmax = softmax(np.zeros(3))\n"  # raises too: softmax was never defined
    report = grade_text(to_notebook(cells), name="stale.ipynb")
    assert all("gives its name" not in t.message for t in by_function(report)["softmax"])
    attribute = BASE + "\nsoftmax.calls = 0\nseen = {}\nseen[softmax] = 1\n"  # an attribute, a key: the name stays
    assert grade_text(attribute).score == grade_text(BASE).score


def test_of_two_files_one_with_a_syntax_error_the_one_with_the_functions_is_graded_and_its_error_said(tmp_path):
    from grader.submissions import choose

    broken = tmp_path / "softmax_gradients.py"
    broken.write_text(BASE + "\ndef oops(:\n    pass\n")
    template = tmp_path / "softmax_gradients.ipynb"
    template.write_text((SOLUTIONS.parent / "assignments" / "softmax_gradients" / "softmax_gradients.ipynb").read_text())
    assert choose([broken, template], "softmax_gradients", tmp_path) == broken


def test_a_result_with_an_axis_too_many_is_not_told_that_a_sum_removed_one(grade_text):
    backward_as_jacobian = BASE.replace("def softmax_backward(y, dL_dy):", "def softmax_backward(y, dL_dy):\n"
                                        "    return np.diag(y) - np.outer(y, y)  # the Jacobian, not yet applied to dL_dy\n", 1)
    assert backward_as_jacobian != BASE
    hint = by_function(grade_text(backward_as_jacobian))["softmax_backward"][0].hints[0]
    assert hint.code == "generic.shape_mismatch"
    assert "whether an axis is left over: a product or a sum the result still needs" in hint.message
    assert "removed one" not in hint.message
    summed = BASE.replace("def softmax_jacobian(z):", "def softmax_jacobian(z):\n"
                          "    return (np.diag(softmax(z)) - np.outer(softmax(z), softmax(z))).sum(axis=0)\n", 1)
    hint = by_function(grade_text(summed))["softmax_jacobian"][0].hints[0]
    assert hint.code == "generic.shape_mismatch" and "whether a sum or a squeeze removed one" in hint.message


def test_a_function_in_a_notebook_cell_skipped_for_its_syntax_error_is_said_to_be_there(grade_text):
    jacobian = "def softmax_jacobian(z)\n    p = softmax(z)\n    return np.diag(p) - np.outer(p, p)\n"  # the colon left out
    cells = "# %%\n" + remove_function(BASE, "softmax_jacobian") + "\n# %%\n" + jacobian
    report = grade_text(to_notebook(cells), name="student.ipynb")
    hint = by_function(report)["softmax_jacobian"][0].hints[0]
    assert hint.code == "generic.missing_function"
    assert "cell 2, which defines it, has a syntax error" in hint.message and "spelling" not in hint.message
    fixed = grade_text(to_notebook(cells.replace("softmax_jacobian(z)\n", "softmax_jacobian(z):\n")), name="ok.ipynb")
    assert fixed.score == fixed.max_score
    other = cells.replace("def softmax_jacobian(z)\n", "def helper(z)\n")  # the broken cell defines something else
    report = grade_text(to_notebook(other), name="other.ipynb")
    assert "syntax error" not in by_function(report)["softmax_jacobian"][0].hints[0].message


def test_a_misspelled_function_is_told_the_name_it_has_and_a_py_is_not_told_of_cells(grade_text):
    misspelled = BASE.replace("def softmax_jacobian(", "def softmax_jacobain(")
    report = grade_text(misspelled)
    hint = by_function(report)["softmax_jacobian"][0].hints[0]
    assert hint.code == "generic.missing_function" and "but softmax_jacobain is" in hint.message
    assert "cell" not in hint.message
    only_batch = remove_function(BASE, "cross_entropy_grad")  # another function of the assignment is no misspelling
    hint = by_function(grade_text(only_batch))["cross_entropy_grad"][0].hints[0]
    assert "cross_entropy_grad_batch" not in hint.message and "top level of the file" in hint.message


def test_a_softmax_written_with_math_exp_that_overflows_is_told_it_is_unstable(grade_text):
    with_math = """
import math

def softmax(z):
    exps = [math.exp(v) for v in z]
    s = sum(exps)
    return np.array([e / s for e in exps])
"""
    report = grade_text(BASE + "\n" + with_math)
    large = next(t for t in report.tests if t.id == "softmax/public-large")
    assert "OverflowError" in large.message and [h.code for h in large.hints] == ["softmax.unstable"]
    assert "math.exp" in large.hints[0].message
    assert next(t for t in report.tests if t.id == "softmax/public").status == "passed"
    stable = with_math.replace("math.exp(v) for v in z", "math.exp(v - max(z)) for v in z")
    report = grade_text(BASE + "\n" + stable)
    assert report.score == report.max_score and not any(t.hints for t in report.tests)
    elsewhere = BASE + "\nimport math\n\n_right = softmax_backward\n\n" \
        "def softmax_backward(y, dL_dy):\n    math.exp(1e4)\n    return _right(y, dL_dy)\n"
    test = by_function(grade_text(elsewhere))["softmax_backward"][0]  # no softmax there: the exception itself
    assert [h.code for h in test.hints] == ["generic.exception"]


def test_the_missing_p_i_factor_written_with_the_other_index_is_the_same_mistake(grade_text):
    columns = "def softmax_jacobian(z):\n    p = softmax(z)\n    return np.eye(len(p)) - p[:, None]\n"  # delta_ij - p_i
    for test in by_function(grade_text(BASE + "\n\n" + columns))["softmax_jacobian"]:
        assert test.status == "failed" and [h.code for h in test.hints] == ["jacobian.missing_yi_factor"]
    right = columns.replace("np.eye(len(p)) - p[:, None]", "p[:, None] * (np.eye(len(p)) - p[None, :])")
    report = grade_text(BASE + "\n\n" + right)
    assert report.score == report.max_score and not any(t.hints for t in report.tests)


def test_one_based_labels_in_the_batch_gradient_are_the_same_mistake_as_in_one_row(grade_text):
    batch = """
def cross_entropy_grad_batch(Z, labels):
    N = Z.shape[0]
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    for n in range(N):
        P[n, labels[n] - 1] -= 1  # "classes 1..n, as in the book"
    return P / N
"""
    tests = by_function(grade_text(BASE + "\n\n" + batch))["cross_entropy_grad_batch"]
    assert all(t.status == "failed" and [h.code for h in t.hints] == ["ce.one_based_label"] for t in tests)
    right = grade_text(BASE + "\n\n" + batch.replace("labels[n] - 1]", "labels[n]]"))
    assert right.score == right.max_score and not any(t.hints for t in right.tests)


def test_notes_about_cells_come_in_the_notebooks_order(grade_text):
    cells = ("# %%\n" + BASE + "\n# %%\nx = 1 / 0\n# %%\nprint 'done'\n# %%\ny = undefined_name\n")
    report = grade_text(to_notebook(cells), name="student.ipynb")
    assert report.score == report.max_score
    about_cells = [note.split(" ", 2)[1].rstrip(",;:") for note in report.notes if note.startswith("cell ")]
    assert about_cells == ["2", "3", "4"], report.notes  # cell 3's syntax error is found first, when it is read


def test_a_function_whose_cell_stopped_before_its_def_is_said_so_not_misspelled(grade_text):
    first, rest = BASE.split("\n\n\n", 1)  # the imports, then the functions
    cells = f"# %%\n{first}\nprint(np.zeros(3).shape[1])\n\n\n{rest}\n"  # a check of the student's own, which raises
    report = grade_text(to_notebook(cells), name="student.ipynb")
    softmax = next(t for t in report.tests if t.id == "softmax/public")
    assert softmax.hints[0].code == "generic.missing_function"
    assert softmax.hints[0].message.startswith("softmax is not defined: cell 1 defines it after line ")
    assert "check the spelling" not in softmax.hints[0].message
    right = grade_text(to_notebook(f"# %%\n{first}\n\n\n{rest}\n# %%\nprint(np.zeros(3).shape[1])\n"),
                       name="student.ipynb")  # the same error in a cell after the defs: nothing missing
    assert right.score == right.max_score
