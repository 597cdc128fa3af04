"""Expected answers and mutant outputs for every check, computed once per batch.

In ``grader grade`` they come from the reference solutions; in ``grader check``
(on a student's machine, with no reference) from the public data shipped in
``grader/exercises/data/<assignment>.json``, which ``build_public_data`` writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.errors import GraderError
from grader.evaluation.reference import extract
from grader.exercises.base import Check, Exercise

DATA_DIR = Path(__file__).parents[1] / "exercises" / "data"


@dataclass
class CheckAnswers:
    """The right answer on each case of a check, and each mutant's (one list per variant)."""

    expected: list[np.ndarray]
    mutants: dict[str, list[list[np.ndarray | None]]] = field(default_factory=dict)


@dataclass
class Answers:
    """Answers for the checks of one exercise."""

    exercise: Exercise
    checks: dict[str, CheckAnswers]
    origin: str  # "reference" or "public data"

    def __getitem__(self, check_id: str) -> CheckAnswers:
        return self.checks[check_id]

    @cached_property
    def digest(self) -> str:
        """A fingerprint of the expected answers: other reference solutions that answer otherwise change it."""
        h = hashlib.sha256(self.origin.encode())
        for check_id in sorted(self.checks):
            h.update(b"\0" + check_id.encode())
            for array in self.checks[check_id].expected:
                h.update(repr(array.shape).encode() + np.ascontiguousarray(array, dtype=np.float64).tobytes())
        return h.hexdigest()


def _as_array(value) -> np.ndarray | None:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def compute_answers(exercise: Exercise, reference: ModuleType, checks: tuple[Check, ...]) -> Answers:
    """Run the reference and every mutant on the checks' cases (in the trusted process)."""
    out = {}
    for check in checks:
        solve = getattr(reference, check.function)
        function = exercise.function(check.function)
        expected = [np.asarray(extract(solve(*case.args), check.key, function), dtype=np.float64) for case in check.cases]
        mutants = {}
        for mutant in exercise.mutants_for(check.function, check.key):
            per_variant: list[list[np.ndarray | None]] = [[] for _ in mutant.variants]
            for case in check.cases:
                for i, output in enumerate(mutant.outputs(reference, case)):
                    per_variant[i].append(_as_array(extract(output, check.key, function)))
            mutants[mutant.code] = per_variant
        out[check.id] = CheckAnswers(expected, mutants)
    return Answers(exercise, out, "reference")


# ---------------------------------------------------------------- the public data file


def inputs_digest(checks: tuple[Check, ...]) -> str:
    """A fingerprint of the public cases' inputs, to notice when they drift from the shipped answers."""
    h = hashlib.sha256()
    for check in checks:
        h.update(check.id.encode())
        for case in check.cases:
            for arg in case.args:
                h.update(np.asarray(arg, dtype=np.float64).tobytes() if not isinstance(arg, dict) else repr(sorted(arg)).encode())
                if isinstance(arg, dict):
                    for key in sorted(arg):
                        h.update(np.asarray(arg[key], dtype=np.float64).tobytes())
    return h.hexdigest()


def _encode(array: np.ndarray | None):
    if array is None:
        return None
    return {"shape": list(array.shape), "data": [float(v) for v in array.ravel()]}


def _decode(item) -> np.ndarray | None:
    if item is None:
        return None
    return np.array(item["data"], dtype=np.float64).reshape(item["shape"])


def public_data(answers: Answers) -> dict:
    """The public answers as JSON-ready data."""
    checks = answers.exercise.checks_for({"public"})
    return {
        "assignment": answers.exercise.name,
        "version": answers.exercise.version,
        "inputs_sha256": inputs_digest(checks),
        "checks": {
            c.id: {
                "expected": [_encode(a) for a in answers[c.id].expected],
                "mutants": {code: [[_encode(a) for a in v] for v in variants] for code, variants in answers[c.id].mutants.items()},
            }
            for c in checks
        },
    }


def data_path(exercise: Exercise) -> Path:
    """Where an exercise's public data file lives."""
    return DATA_DIR / f"{exercise.name}.json"


def build_public_data(exercise: Exercise, reference: ModuleType) -> str:
    """The text of the public data file for ``exercise``, from the reference."""
    answers = compute_answers(exercise, reference, exercise.checks_for({"public"}))
    return json.dumps(public_data(answers), indent=None, separators=(",", ":"), sort_keys=True) + "\n"


def load_public_answers(exercise: Exercise) -> Answers:
    """The shipped public answers of an exercise (no reference needed)."""
    path = data_path(exercise)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GraderError(f"the public test data of {exercise.name} is missing or unreadable ({path}): {exc}") from None
    checks = exercise.checks_for({"public"})
    if data.get("version") != exercise.version or data.get("inputs_sha256") != inputs_digest(checks):
        raise GraderError(f"the public test data of {exercise.name} is out of date; rebuild it (see docs/authoring.md)")
    out = {}
    for check in checks:
        item = data["checks"][check.id]
        out[check.id] = CheckAnswers(
            [_decode(a) for a in item["expected"]],
            {code: [[_decode(a) for a in v] for v in variants] for code, variants in item["mutants"].items()},
        )
    return Answers(exercise, out, "public data")
