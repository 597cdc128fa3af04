"""Templates and shipped public data are what the solutions produce (they never drift apart)."""

from __future__ import annotations

import json

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
    assert json.loads(data_path(exercise).read_text()) == json.loads(built), f"run: grader build-data -a {name}"
    assert "hidden" not in data_path(exercise).read_text()


def test_markers_must_pair_up():
    with pytest.raises(MarkerError):
        strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(MarkerError):
        strip_solutions("    ### END SOLUTION\n")
    assert strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n") == (
        'def f():\n    raise NotImplementedError("write this function")\n'
    )
