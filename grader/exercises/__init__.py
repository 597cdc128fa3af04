"""The registry of assignments: one module each."""

from __future__ import annotations

import re

from grader.exercises import rnn_bptt, softmax_gradients
from grader.exercises.base import Exercise
from grader.source.reader import peek

EXERCISES: dict[str, Exercise] = {e.name: e for e in (softmax_gradients.EXERCISE, rnn_bptt.EXERCISE)}


def get(name: str) -> Exercise:
    """The exercise called ``name`` (KeyError lists the known ones)."""
    try:
        return EXERCISES[name]
    except KeyError:
        raise KeyError(f"unknown assignment {name!r}; known: {', '.join(sorted(EXERCISES))}") from None


def guess(defined: set[str]) -> Exercise | None:
    """The exercise whose functions a submission defines the most of (None when it defines none)."""
    scored = [(len(defined & {f.name for f in e.functions}), e.name) for e in EXERCISES.values()]
    best, name = max(scored)
    return EXERCISES[name] if best else None


DEFINITION = re.compile(rb"(?:\\n|\b)def\s+([A-Za-z_]\w*)\s*\(")  # in a .py, and in a notebook's JSON strings too
READ_BYTES = 1 << 20  # of a submission's file, searched for the functions it defines


def defined_in(text: bytes) -> set[str]:
    """The names of the functions a file's text defines (read from the text, not run)."""
    return {name.decode() for name in DEFINITION.findall(text)}


def guess_file(path) -> Exercise | None:
    """The exercise whose functions a file's text defines the most of (read from its first READ_BYTES, not run)."""
    return guess(defined_in(peek(path, READ_BYTES)))


def most_of(names: set[str], assignment: str | None) -> int:
    """How many of ``assignment``'s functions ``names`` holds (of whichever assignment's it holds the most of,
    when ``assignment`` is None or unknown)."""
    wanted = [EXERCISES[assignment]] if assignment in EXERCISES else list(EXERCISES.values())
    return max(len(names & {f.name for f in exercise.functions}) for exercise in wanted)
