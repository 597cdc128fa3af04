"""Templates and shipped public data are what the solutions produce (they never drift apart)."""

from __future__ import annotations

import json
import math

import pytest

from grader import exercises
from grader.authoring.templates import MarkerError, strip_solutions, templates
from grader.evaluation.answers import build_public_data, data_path
from grader.evaluation.reference import load_reference
from tests.conftest import ROOT, SOLUTIONS


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_committed_templates_are_what_assign_builds(name):
    py, ipynb = templates((SOLUTIONS / f"{name}.py").read_text())
    folder = ROOT / "assignments" / name
    assert (folder / f"{name}.py").read_text() == py, f"run: grader assign solutions/{name}.py -o assignments/{name}"
    assert (folder / f"{name}.ipynb").read_text() == ipynb


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_templates_hold_no_solution(name):
    py, ipynb = templates((SOLUTIONS / f"{name}.py").read_text())
    assert "BEGIN SOLUTION" not in py + ipynb
    assert py.count("raise NotImplementedError") == len(exercises.get(name).functions)
    assert "10.18" in py or name != "softmax_gradients"


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_shipped_public_data_is_what_the_reference_gives(name):
    exercise = exercises.get(name)
    built = build_public_data(exercise, load_reference(exercise, SOLUTIONS))
    differences = list(_differences(json.loads(data_path(exercise).read_text()), json.loads(built)))
    assert not differences, f"run: grader build-data -a {name} ({differences[:3]})"
    assert "hidden" not in data_path(exercise).read_text()


def _differences(shipped, built, where=""):
    """Where the shipped data differs from a fresh build: keys, lengths and text exactly; each number
    to 1e-13, relative or absolute (a tenth of the grading tolerance), since another CPU's BLAS may
    round the last bits otherwise; NaN equals NaN."""
    if isinstance(shipped, dict) and isinstance(built, dict):
        if shipped.keys() != built.keys():
            yield where, sorted(shipped.keys() ^ built.keys())
        for key in shipped.keys() & built.keys():
            yield from _differences(shipped[key], built[key], f"{where}/{key}")
    elif isinstance(shipped, list) and isinstance(built, list):
        if len(shipped) != len(built):
            yield where, (len(shipped), len(built))
        for i, (a, b) in enumerate(zip(shipped, built)):
            yield from _differences(a, b, f"{where}[{i}]")
    elif isinstance(shipped, float) and isinstance(built, float):
        if not (math.isclose(shipped, built, rel_tol=1e-13, abs_tol=1e-13) or (math.isnan(shipped) and math.isnan(built))):
            yield where, (shipped, built)
    elif shipped != built or type(shipped) is not type(built):
        yield where, (shipped, built)


def test_the_drift_check_sees_a_changed_number_but_not_a_last_bit():
    data = {"a": [0.035640268699523670, float("nan"), "x", 3]}
    assert not list(_differences(data, {"a": [0.035640268699523615, float("nan"), "x", 3]}))
    assert list(_differences(data, {"a": [0.03564026870, float("nan"), "x", 3]}))
    assert list(_differences(data, {"a": [0.035640268699523670, float("nan"), "y", 3]}))
    assert list(_differences(data, {"a": [0.035640268699523670, float("nan"), "x"]}))


def test_markers_must_pair_up():
    with pytest.raises(MarkerError):
        strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(MarkerError):
        strip_solutions("    ### END SOLUTION\n")
    assert strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n") == (
        'def f():\n    raise NotImplementedError("write this function")\n'
    )
