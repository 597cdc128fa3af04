"""What an exercise is made of: its functions, graded checks over seeded cases, and its mutants."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Literal

import numpy as np

Visibility = Literal["public", "hidden"]


@dataclass(frozen=True)
class Function:
    """A function students write: its name, parameters and what it returns."""

    name: str
    params: tuple[str, ...]
    returns: Literal["array", "tuple", "dict"] = "array"
    keys: tuple[str, ...] = ()  # for dict results, each key graded on its own
    key_aliases: dict[str, str] = field(default_factory=dict)  # e.g. "dW" -> "W", read with a warning
    time_keys: tuple[str, ...] = ()  # keys whose first axis is time t = 1..T (wrong steps are located)
    derivative: bool = True  # computes a gradient or a Jacobian (which finite differences could stand in for)


@dataclass(frozen=True)
class Case:
    """One set of inputs, the same for every student (seeded)."""

    name: str
    args: tuple[Any, ...]
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Check:
    """One graded test: a function (or one key of its result) on a group of cases."""

    function: str
    name: str
    visibility: Visibility
    cases: tuple[Case, ...]
    points: float
    key: str | None = None
    tags: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        """The stable test id of the report, e.g. ``softmax/hidden-large`` or ``rnn_backward[W]/public``."""
        target = f"{self.function}[{self.key}]" if self.key else self.function
        return f"{target}/{self.name}"


Compute = Callable[..., Any]  # (reference module, *case args) -> an output


@dataclass(frozen=True)
class Mutant:
    """A known mistake: functions of the reference and the inputs that compute its wrong answers.

    ``variants`` are alternative forms of the same mistake (``2 (p - y)`` or ``p - y``);
    a student's output matches when one variant matches on every case.
    """

    code: str
    function: str
    variants: tuple[Compute, ...]
    message: str
    key: str | None = None  # for dict results: which key this mistake changes (None: any)

    def outputs(self, reference: ModuleType, case: Case) -> list[Any]:
        """Every variant's wrong answer on one case (floating-point warnings silenced)."""
        with np.errstate(all="ignore"):
            return [variant(reference, *case.args) for variant in self.variants]


@dataclass(frozen=True)
class Tolerance:
    """How close is right: ``max |actual - expected| <= rel * max(|expected|, floor)``."""

    rel: float = 1e-12
    floor: float = 1.0
    match_rel: float = 1e-8  # looser, for telling which mistake an output is


@dataclass(frozen=True)
class Consistency:
    """Is a wrong backward pass the exact gradient of the student's own (wrong) forward pass?

    The sandbox differentiates ``loss`` (a loss the worker knows by name) of the student's
    ``forward`` by central differences, on the first ``cases`` cases of the backward checks.
    """

    forward: str
    backward: str
    keys: tuple[str, ...]
    loss: str
    code: str
    cases: int = 3
    max_steps: int = 12


@dataclass(frozen=True)
class Exercise:
    """An assignment: contract, cases, mutants and points. Adding one is adding one module."""

    name: str
    version: str
    title: str
    functions: tuple[Function, ...]
    checks: tuple[Check, ...]
    mutants: tuple[Mutant, ...]
    tolerance: Tolerance = Tolerance()
    forward: dict[str, Compute] = field(default_factory=dict)  # (ref, *args) -> (point, f): f's derivative is graded
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (function, words): codes that are not mutants
    consistency: Consistency | None = None
    overflows: dict[str, tuple[str, str]] = field(default_factory=dict)  # function -> (code, words): the hint of a
    # function that raises OverflowError (math.exp past about 709), where NumPy's exp gives inf and a mutant's nan

    def function(self, name: str) -> Function:
        """The function called ``name``."""
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)

    def checks_for(self, visibility: set[str]) -> tuple[Check, ...]:
        """The checks of the given visibilities, in order."""
        return tuple(c for c in self.checks if c.visibility in visibility)

    def codes(self) -> list[str]:
        """The exercise's own hint codes, most specific first (mutants, then notes)."""
        return list(dict.fromkeys([m.code for m in self.mutants] + list(self.notes)))

    def words(self, code: str) -> str:
        """The message of one of the exercise's own codes."""
        if code in self.notes:
            return self.notes[code][1]
        return next(m.message for m in self.mutants if m.code == code)

    def mutants_for(self, function: str, key: str | None = None) -> tuple[Mutant, ...]:
        """The mutants that apply to a function (and key)."""
        return tuple(m for m in self.mutants if m.function == function and (m.key is None or m.key == key))

    @property
    def max_score(self) -> float:
        """Points of every check."""
        return float(sum(c.points for c in self.checks))
