"""The grader's keyword-only API; the command line is a thin layer over it."""

from __future__ import annotations

import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader import exercises
from grader.errors import GraderError
from grader.evaluation.answers import compute_answers, load_public_answers
from grader.evaluation.reference import find_solutions, load_reference, verify_reference
from grader.exercises.base import Exercise
from grader.grading import GRADER_FAILED, Grading, Plan, grade_source, grader_failure
from grader.report.html import build_site
from grader.report.model import Report
from grader.report.summary import Summary
from grader.report.write import write_atomic
from grader.sandbox.isolation import choose_launcher
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Launcher, WorkerPool
from grader.source import Source, read_submission
from grader.submissions import collect, safe_name

_convert_lock = threading.Lock()  # nbconvert's exporter is shared, and not known to be thread-safe


@dataclass
class BatchSummary:
    """What ``grade`` did: the summary of the class and where the reports are."""

    summary: Summary
    out_dir: Path
    sandbox: str
    sandbox_cpu_s: float = 0.0  # CPU time spent in the sandbox, all workers together
    pages_problem: str = ""  # why index.html and the student pages could not be built, if they could not

    @property
    def statistics(self) -> dict:
        return self.summary.statistics()


def default_launcher(limits: Limits | None = None, *, require_sandbox: bool = False) -> Launcher:
    """How submissions are isolated on this machine (bubblewrap when it works)."""
    return choose_launcher(limits or Limits(), require_sandbox=require_sandbox)


def _read(path: Path) -> Source:
    with _convert_lock:
        return read_submission(path)


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
        unreadable = f" ({source.error})" if source is not None and source.error else ""
        raise GraderError(f"cannot tell the assignment from the submission{unreadable}; pass -a NAME "
                          f"(one of {', '.join(sorted(exercises.EXERCISES))})")
    return guessed


def _reusable(path: Path, source: Source, exercise: Exercise) -> Report | None:
    """The report already written for this very file by this grader, if any."""
    from grader import __version__

    try:
        report = Report.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (report.submission.sha256 == source.sha256 and report.grader.version == __version__
            and report.assignment == exercise.name and report.grader.assignment_version == exercise.version)
    failed = (report.message or "").startswith(GRADER_FAILED)
    return report if same and source.sha256 and not failed else None


def _guess_batch(found) -> Exercise:
    """The assignment of a batch given without -a: told by the first submissions that say it."""
    for submission in found[:20]:
        try:
            return _resolve(None, _read(submission.path))
        except GraderError:
            continue
    return _resolve(None, None)


def check(path: str | Path, *, assignment: str | None = None, limits: Limits | None = None,
          launcher: Launcher | None = None) -> Report:
    """A student's local check: the public tests, answers from the shipped public data."""
    path = Path(path)
    source = _read(path)
    exercise = _resolve(assignment, source)
    limits = limits or Limits()
    launcher = launcher or default_launcher(limits)
    grading = Grading(Plan.build(exercise, exercise.checks_for({"public"})), load_public_answers(exercise), limits, launcher)
    with WorkerPool(1, launcher, limits) as pool:
        return grade_source(source, path.stem, grading, pool)


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
          on_report: Callable[[Report, bool], None] | None = None) -> BatchSummary:
    """Grade every submission under ``paths`` into ``out_dir``: one JSON report each, plus the summaries.

    A submission whose report is already there, for the same file, grader and assignment version,
    is not graded again unless ``force``; ``on_report(report, reused)`` follows the batch.
    """
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="grader-archives-") as scratch:
        found = collect([Path(p) for p in paths], assignment, Path(scratch))
        return _grade_all(found, paths, assignment=assignment, out_dir=out_dir, jobs=jobs, solutions=solutions,
                          limits=limits, launcher=launcher, force=force, on_start=on_start, on_report=on_report)


def _grade_all(found, paths, *, assignment, out_dir, jobs, solutions, limits, launcher, force, on_start,
               on_report) -> BatchSummary:
    if not found:
        raise GraderError("no submissions (.py or .ipynb files) found in " + ", ".join(str(p) for p in paths))
    exercise = _resolve(assignment, None) if assignment else _guess_batch(found)
    limits = limits or Limits()
    launcher = launcher or default_launcher(limits)
    grading = prepare(exercise, solutions, limits, launcher)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = Summary(exercise.name, [f.name for f in exercise.functions])
    taken: set[str] = set()
    names = [safe_name(s.student, taken) for s in found]  # one file name per submission, even for equal ids
    lock = threading.Lock()
    jobs = jobs or os.cpu_count() or 1

    stop = threading.Event()
    regraded: set[str] = set()  # the reports written by this run (the others' pages need not be built again)
    if on_start:
        on_start(len(found))

    def one(submission, name: str, pool: WorkerPool) -> None:
        if stop.is_set():
            return
        source = _read(submission.path)
        if submission.display:
            source.path = submission.display
        path = out_dir / f"{name}.json"
        report = None if force else _reusable(path, source, exercise)
        reused = report is not None
        if not reused:
            regraded.add(name)
        if report is None:
            if submission.note:
                source.notes.insert(0, submission.note)
            try:
                report = grade_source(source, submission.student, grading, pool)
            except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
                report = grader_failure(source, submission.student, grading, exc)
            report.submission.lms_id, report.submission.late = submission.lms_id, submission.late
            if stop.is_set():  # interrupted while grading: no report, so the next run grades it again
                return
            write_atomic(path, report.model_dump_json(indent=2) + "\n")
        with lock:
            summary.add(report)
            if on_report:
                on_report(report, reused)

    with WorkerPool(jobs, launcher, limits) as pool, ThreadPoolExecutor(max_workers=jobs) as executor:
        futures = [executor.submit(one, s, name, pool) for s, name in zip(found, names)]
        try:
            for future in futures:
                future.result()
        except BaseException:  # Ctrl-C, SIGTERM: stop cleanly, leaving only whole reports behind
            stop.set()
            executor.shutdown(wait=False, cancel_futures=True)
            pool.close()
            raise
    summary.write(out_dir)
    try:
        build_site(out_dir, stems=names, unchanged=set(names) - regraded)  # index.html and a page beside each report
        problem = ""
    except Exception as exc:  # noqa: BLE001 - the reports are written: a bug in the pages must not lose the batch
        problem = f"the HTML pages could not be built ({type(exc).__name__}: {str(exc)[:200]}); the reports are whole"
    return BatchSummary(summary, out_dir, launcher.name, pool.cpu_s, problem)
