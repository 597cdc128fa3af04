"""Grade the one submission an autograder container holds (Gradescope's ``submission/``, PrairieLearn's ``student/``).

The student may upload several files, or a folder: every ``.py`` and ``.ipynb`` under the folder
is a candidate and ``grader grade``'s rule picks one (named after the assignment, else the newest
notebook, else the newest ``.py``); the outcome says which, and what else was there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import api, exercises
from grader.errors import GraderError
from grader.exercises.base import Exercise
from grader.grading import grade_source
from grader.report.model import Report
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Launcher, WorkerPool
from grader.source.modules import read_with_modules
from grader.submissions import SKIPPED_DIRS, SUFFIXES, choose


@dataclass
class Outcome:
    """A report, or why there is none (``problem``), and whose problem that is."""

    report: Report | None = None
    graded_note: str = ""
    problem: str = ""
    grader_side: bool = False  # the autograder is misconfigured or failed: not the student's doing


def candidates(folder: Path) -> list[Path]:
    """The ``.py`` and ``.ipynb`` files under ``folder``, checkpoints, caches and hidden files left out."""
    found = []
    for path in sorted(Path(folder).rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p in SKIPPED_DIRS or p.startswith(".") for p in parts):
            continue
        if path.suffix.lower() in SUFFIXES and (path.is_file() or path.is_symlink()):
            found.append(path)
    return found


def grade_folder(folder: Path, *, assignment: str | None, solutions: str | Path | None, launcher: Launcher,
                 limits: Limits | None = None) -> Outcome:
    """Grade the submission in ``folder`` on the public and hidden tests; never raises."""
    folder = Path(folder)
    files = candidates(folder) if folder.is_dir() else []
    if not files:
        return Outcome(problem=f"No .py or .ipynb file was submitted (nothing found in {folder.name}/): "
                               "upload your notebook or your .py file.")
    chosen = choose(files, assignment, folder)
    source = read_with_modules(chosen)
    used = {chosen.parent / m.label for m in source.modules}  # importable by it
    others = [str(p.relative_to(folder)) for p in files if p != chosen and p not in used]
    note = f"submission file: {chosen.relative_to(folder)}"
    if others:
        note += f" ({len(files)} files were submitted; not graded: {', '.join(others)})"
    source.path = str(chosen.relative_to(folder))
    try:
        exercise = _exercise(assignment, source.defined)
        limits = limits or Limits()
        grading = api.prepare(exercise, solutions, limits, launcher)
        with WorkerPool(1, launcher, limits) as pool:
            report = grade_source(source, chosen.stem, grading, pool)
    except GraderError as exc:
        return Outcome(graded_note=note, problem=f"The autograder is not set up right: {exc}", grader_side=True)
    except Exception as exc:  # noqa: BLE001 - a results file must still be written
        return Outcome(graded_note=note, problem=f"The autograder failed ({type(exc).__name__}: {str(exc)[:300]})",
                       grader_side=True)
    return Outcome(report=report, graded_note=note)


def _exercise(assignment: str | None, defined: set[str]) -> Exercise:
    if assignment:
        try:
            return exercises.get(assignment)
        except KeyError as exc:
            raise GraderError(str(exc.args[0])) from None
    guessed = exercises.guess(defined)
    if guessed is None:
        raise GraderError("the assignment cannot be told from the submission: pass -a NAME")
    return guessed
