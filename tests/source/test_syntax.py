"""What is read of student code without running it: the names its functions read, the types they name."""

from __future__ import annotations

import dis
import marshal

from grader.source import syntax
from tests.conftest import FIXTURES

STUDENT_CODE = sorted(FIXTURES.glob("**/*.py"))


def test_the_global_names_read_from_the_bytes_are_those_dis_finds():
    """The fast reading of a code object's bytes (EXTENDED_ARG, inline caches, LOAD_GLOBAL's flag bit) agrees
    with the instructions dis decodes, on every student file of the fixtures."""
    compared = 0
    for path in STUDENT_CODE:
        try:
            code = compile(path.read_text(), path.name, "exec")
        except SyntaxError:  # the Python 2 fixtures
            continue
        for inner in (code, *syntax._nested(code)):
            found = {i.argval for i in dis.get_instructions(inner) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
            assert set(syntax._globals_in(inner)) == found, (path.name, inner.co_name)
            compared += 1
    assert compared > 200
    many = compile("def f():\n    return " + " + ".join(f"g{i}" for i in range(300)) + "\n", "many.py", "exec")
    assert syntax.names_used_by([marshal.dumps(many)], "f") == {f"g{i}" for i in range(300)}  # past EXTENDED_ARG


def test_single_precision_is_found_through_the_functions_called_not_through_attributes_of_the_same_name():
    code = '''
import numpy as np

def softmax(z):
    return np.exp(z.astype("float32"))

class Helpers:
    @staticmethod
    def softmax(x):
        return x

def through_a_helper(z):
    return step(z)

def step(z):
    return softmax(z)

def by_attribute(z):
    return Helpers.softmax(z)

def own(z):
    return z.astype(np.float32)

def eps(z):
    return z / (z.sum() + np.finfo(np.float32).eps)

def check(z):
    return z.astype(float) if z.dtype == np.float32 else z
'''
    chunks, compiled = [("student.py", code)], [marshal.dumps(compile(code, "student.py", "exec"))]
    assert syntax.uses_single_precision(chunks, compiled, "softmax") and syntax.uses_single_precision(chunks, compiled, "own")
    assert syntax.uses_single_precision(chunks, compiled, "through_a_helper")
    assert not syntax.uses_single_precision(chunks, compiled, "by_attribute")
    assert not syntax.uses_single_precision(chunks, compiled, "eps") and not syntax.uses_single_precision(chunks, compiled, "check")
