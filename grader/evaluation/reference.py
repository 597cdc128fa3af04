"""Load the reference solutions (instructor side only) and check them against finite differences."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.errors import GraderError
from grader.evaluation.finite_diff import numerical_jacobian
from grader.exercises.base import Exercise, Function

SOLUTIONS_ENV = "GRADER_SOLUTIONS"


def find_solutions(explicit: str | Path | None = None) -> Path | None:
    """The solutions folder: the one given, ``$GRADER_SOLUTIONS``, ``./solutions``, or the source checkout's."""
    import os

    if explicit is not None:
        if not Path(explicit).is_dir():
            raise GraderError(f"no reference solutions: {explicit} is not a folder")
        return Path(explicit)
    candidates = [os.environ.get(SOLUTIONS_ENV), Path.cwd() / "solutions", Path(__file__).parents[2] / "solutions"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def load_reference(exercise: Exercise, solutions: Path | None) -> ModuleType:
    """Import ``solutions/<assignment>.py`` as a module, or raise GraderError saying what is missing."""
    if solutions is None:
        raise GraderError(
            "no reference solutions found: pass --solutions DIR (a folder holding "
            f"{exercise.name}.py) or set {SOLUTIONS_ENV}"
        )
    path = Path(solutions) / f"{exercise.name}.py"
    if not path.is_file():
        raise GraderError(f"the reference solution {path} does not exist")
    module = _import(path, f"grader_reference_{exercise.name}")
    support = Path(solutions) / f"{exercise.name}_support.py"
    if support.is_file():  # instructor-side helpers of the exercise's mutants (see solutions/rnn_bptt_support.py)
        module.support = _import(support, f"grader_reference_{exercise.name}_support")
    missing = [f.name for f in exercise.functions if not callable(getattr(module, f.name, None))]
    if missing:
        raise GraderError(f"the reference solution {path} does not define {', '.join(missing)}")
    return module


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001
        raise GraderError(f"the reference solution {path} failed to load: {exc!r}") from None
    return module


def verify_reference(exercise: Exercise, reference: ModuleType, rel: float = 1e-6) -> list[str]:
    """Compare the reference with central differences of the forward functions; list every disagreement."""
    problems = []
    for check in exercise.checks:
        target = f"{check.function}[{check.key}]" if check.key else check.function
        forward = exercise.forward.get(target)
        if forward is None:
            continue
        for case in check.cases:
            point, function = forward(reference, *case.args)
            numeric = numerical_jacobian(function, point)
            analytic = np.asarray(extract(getattr(reference, check.function)(*case.args), check.key, exercise.function(check.function)), dtype=float)
            scale = max(1.0, float(np.max(np.abs(numeric))))
            err = float(np.max(np.abs(analytic.reshape(numeric.shape) - numeric))) / scale
            if not err <= rel:
                problems.append(f"{check.id} case {case.name}: reference differs from finite differences by {err:.2e}")
    return problems


def extract(value, key: str | None, function: Function):
    """The part of a result that a check grades: all of it, one key of a dict, or one item of a tuple."""
    if key is None:
        return value
    if function.returns == "tuple":
        return value[function.keys.index(key)]
    return value[key]
