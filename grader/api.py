"""The grader's keyword-only API; the command line is a thin layer over it."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from grader import exercises
from grader.batch import Batch
from grader.errors import GraderError
from grader.evaluation.answers import compute_answers, load_public_answers
from grader.evaluation.reference import find_solutions, load_reference, verify_reference
from grader.exercises.base import Exercise
from grader.grading import Grading, Plan, grade_source
from grader.report.html.site import warm_up as warm_up_pages
from grader.report.model import Report
from grader.report.summary import Summary
from grader.sandbox import spares
from grader.sandbox.isolation import choose_launcher
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Launcher, WorkerPool
from grader.source import Source, read_submission
from grader.source.modules import read_with_modules
from grader.source.reader import peek
from grader.submissions import collect
from grader.wording import some

@dataclass
class BatchSummary:
    """What ``grade`` did: the summary of the class and where the reports are."""

    summary: Summary
    out_dir: Path
    sandbox: str
    sandbox_cpu_s: float = 0.0  # CPU time spent in the sandbox, all workers together
    pages_problem: str = ""  # why index.html and the student pages could not be built, if they could not
    stray_reports: list[str] = field(default_factory=list)  # reports in out_dir of no submission of this batch
    superseded_reports: list[tuple[str, str]] = field(default_factory=list)  # of those, the ones of an LMS student
    # graded in this batch under another name, each with this batch's report of them
    grading_cpu_s: float = 0.0  # CPU time of the grading processes (0 when it all ran in this one)
    sandbox_page_faults: int = 0  # page faults of the submission processes, all together
    none_defined: int = 0  # submissions graded that define none of the assignment's functions (a wrong -a?)
    missing_packages: dict[str, int] = field(default_factory=dict)  # package -> submissions importing it, not installed
    missing_in: int = 0  # submissions importing any such package

    @property
    def statistics(self) -> dict:
        return self.summary.statistics()


def default_launcher(limits: Limits | None = None, *, require_sandbox: bool = False, spares: int = 0) -> Launcher:
    """How submissions are isolated on this machine (bubblewrap when it works).

    ``spares``: the workers about to be used at once, started now as the check that the sandbox works
    (and then used by the pools of ``check`` and ``grade``).
    """
    return choose_launcher(limits or Limits(), require_sandbox=require_sandbox, spares=spares)


def default_jobs(jobs: int | None) -> int:
    """How many submissions are graded at once: ``jobs``, or the number of cores."""
    return jobs or os.cpu_count() or 1


def _resolve(assignment: str | None, source: Source | None) -> Exercise:
    if assignment:
        try:
            return exercises.get(assignment)
        except KeyError as exc:
            raise GraderError(str(exc.args[0])) from None
    guessed = exercises.guess(source.defined) if source and not source.error else None
    if guessed is None and source is not None:  # the code does not say: its file or folder name may
        guessed = next((exercises.EXERCISES[p] for p in reversed(Path(source.path).with_suffix("").parts)
                        if p in exercises.EXERCISES), None)
    if guessed is None:
        names = ", ".join(sorted(exercises.EXERCISES))
        if source is not None and source.error:  # what is wrong with the file comes first: it is what to fix
            raise GraderError(f"{source.error}: fix that first (the assignment is told from the functions of a file "
                              f"that can be read; -a NAME, one of {names}, names it)")
        raise GraderError(f"cannot tell the assignment from the submission; pass -a NAME (one of {names})")
    return guessed


def _guess_batch(found, warn: Callable[[str], None]) -> Exercise:
    """The assignment of a batch given without -a: the one whose functions most submissions define (not the first
    student's, who may have handed in another assignment); the others are told in a warning."""
    votes: Counter = Counter()
    voters: dict[str, list[str]] = {}
    for submission in (s for s in found if not s.problem):
        if (guessed := exercises.guess_file(submission.path)) is not None:
            votes[guessed.name] += 1
            voters.setdefault(guessed.name, []).append(submission.student)
    if not votes:  # no definition found in the text: what the first submissions themselves say (or why not)
        for submission in [s for s in found if not s.problem][:20]:
            try:
                return _resolve(None, read_submission(submission.path))
            except GraderError:
                continue
        return _resolve(None, None)
    (chosen, count), *others = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
    if others:
        rest = "; ".join(f"{n} define those of {name} ({some(voters[name])})" for name, n in others)
        warn(f"without -a, graded as {chosen}: {count} submission{'s' * (count > 1)} define its functions; {rest}, "
             f"and score 0 on {chosen}'s tests. Pass -a NAME to choose, and grade each assignment's submissions apart")
    return exercises.get(chosen)


def check(path: str | Path, *, assignment: str | None = None, limits: Limits | None = None,
          launcher: Launcher | None = None) -> Report:
    """A student's local check: the public tests, answers from the shipped public data."""
    source = read_with_modules(Path(path))
    return check_source(source, assignment=assignment, limits=limits, launcher=launcher)


def check_source(source: Source, *, assignment: str | None = None, limits: Limits | None = None,
                 launcher: Launcher | None = None) -> Report:
    """:func:`check` of a submission already read (whether it could be read is ``source.error``)."""
    path = Path(source.path)
    exercise = _resolve(assignment, source)
    limits = limits or Limits()
    launcher = launcher or default_launcher(limits)
    grading = Grading(Plan.build(exercise, exercise.checks_for({"public"})), load_public_answers(exercise), limits, launcher)
    try:
        with WorkerPool(1, launcher, limits) as pool:
            spares.give(pool)
            return grade_source(source, path.stem, grading, pool)
    finally:
        spares.release()


def prepare(exercise: Exercise, solutions: str | Path | None, limits: Limits, launcher: Launcher) -> Grading:
    """The batch's fixed part: reference loaded and checked against finite differences, answers computed once."""
    reference = load_reference(exercise, find_solutions(solutions))
    problems = verify_reference(exercise, reference)
    if problems:
        raise GraderError("the reference solution disagrees with finite differences:\n" + "\n".join(problems[:10]))
    answers = compute_answers(exercise, reference, exercise.checks)
    return Grading(Plan.build(exercise, exercise.checks), answers, limits, launcher)


def grade(paths: list[str | Path], *, assignment: str | None, out_dir: str | Path, jobs: int | None = None,
          solutions: str | Path | None = None, limits: Limits | None = None, launcher: Launcher | None = None,
          force: bool = False, on_start: Callable[[int], None] | None = None,
          on_report: Callable[[Report, bool], None] | None = None,
          on_warning: Callable[[str], None] | None = None) -> BatchSummary:
    """Grade every submission under ``paths`` into ``out_dir``: one JSON report each, plus the summaries.

    A submission whose report is already there, for the same file, grader and assignment version,
    is not graded again unless ``force``; ``on_report(report, reused)`` follows the batch;
    ``on_warning`` is told of what was found but belongs to no student (an archive's stray entries).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():  # said now, not after the whole batch is graded
        raise GraderError(f"the output folder {out_dir} is a file, not a folder")
    try:
        with tempfile.TemporaryDirectory(prefix="grader-archives-") as scratch:
            found = collect([Path(p) for p in paths], assignment, Path(scratch), warn=on_warning or (lambda m: None))
            own = _resolved(out_dir)  # OUTDIR inside a PATH: its reports are no student's
            found = [s for s in found if not _within(s.path, own)]
            return _grade_all(found, paths, assignment=assignment, out_dir=out_dir, jobs=jobs, solutions=solutions,
                              limits=limits, launcher=launcher, force=force, on_start=on_start, on_report=on_report,
                              warn=on_warning or (lambda m: None))
    finally:
        spares.release()  # those no pool took (a batch of reused reports starts none)


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except OSError:
        return None


ASSIGNMENT_FIELD = re.compile(rb'"assignment"\s*:\s*"([^"\\]{1,200})"')


def _refuse_another_assignments(out_dir: Path, name: str) -> None:
    """GraderError when ``out_dir`` holds another assignment's reports: the summaries and the class page would be
    replaced, and a student of both would lose the other report."""
    summary = out_dir / "summary.json"
    files = [summary] if summary.is_file() else sorted(out_dir.glob("*.json"))[:20] if out_dir.is_dir() else []
    for path in files:
        match = ASSIGNMENT_FIELD.search(peek(path, 4096))
        if match and match.group(1).decode(errors="replace") != name:
            other = match.group(1).decode(errors="replace")
            raise GraderError(f"{out_dir} holds the reports of {other} ({path.name}); grade {name} into another "
                              f"folder (-o), or empty this one first")


def _within(path: Path, folder: Path | None) -> bool:
    """Whether ``path`` is ``folder`` (resolved already) or lies inside it."""
    path = _resolved(path)
    return folder is not None and path is not None and (path == folder or folder in path.parents)


def _grade_all(found, paths, *, assignment, out_dir, jobs, solutions, limits, launcher, force, on_start,
               on_report, warn: Callable[[str], None]) -> BatchSummary:
    if all(submission.problem for submission in found):  # a wrong PATH, most likely: not a gradebook of zeros
        empty = f" ({len(found)} student folders or uploads with nothing to grade)" if found else ""
        archives = "" if found or not any(str(p).lower().endswith(".zip") for p in paths) else (
            "; a .zip is read as Canvas's \"Download Submissions\" archive, whose entries Canvas names "
            "{sortablename}_{userid}_{attachmentid}_{file name}, or as Moodle's \"Download all submissions\", whose "
            "folders Moodle names {full name}_{participant id}_assignsubmission_file: another archive, unzip it and "
            "grade its folder")
        raise GraderError("no submissions (.py or .ipynb files) found in " + ", ".join(str(p) for p in paths) + empty
                          + archives)
    exercise = _resolve(assignment, None) if assignment else _guess_batch(found, warn)
    _refuse_another_assignments(Path(out_dir), exercise.name)
    limits = limits or Limits()
    jobs = default_jobs(jobs)
    pages = threading.Thread(target=warm_up_pages, daemon=True)  # while the workers start (its waits free the GIL)
    pages.start()
    try:
        launcher = launcher or default_launcher(limits, spares=min(jobs, len(found)))
        grading = prepare(exercise, solutions, limits, launcher)
    finally:
        pages.join()  # before any grading process is forked
    batch = Batch(found, exercise, grading, out_dir, force=force, on_start=on_start, on_report=on_report)
    pages_problem = batch.run(jobs)
    strays, superseded = batch.stray_reports()
    return BatchSummary(batch.summary, out_dir, launcher.name, pages_problem=pages_problem,
                        stray_reports=strays, superseded_reports=superseded, none_defined=batch.none_defined,
                        missing_packages=dict(batch.missing_packages.most_common()), missing_in=batch.missing_in,
                        **asdict(batch.usage))
