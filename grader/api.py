"""The grader's keyword-only API; the command line is a thin layer over it."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader import exercises
from grader.errors import GraderError
from grader.evaluation.answers import compute_answers, load_public_answers
from grader.evaluation.reference import find_solutions, load_reference, verify_reference
from grader.exercises.base import Exercise
from grader.grading import GRADER_FAILED, Grading, Plan, grade_source, grader_failure
from grader.report.html.site import Pages
from grader.report.model import Report
from grader.report.summary import Summary
from grader.report.write import remove_leftovers, write_atomic
from grader.sandbox.isolation import choose_launcher
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Launcher, WorkerPool
from grader.shards import Shards
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
    grading_cpu_s: float = 0.0  # CPU time of the grading processes (0 when it all ran in this one)
    sandbox_page_faults: int = 0  # page faults of the submission processes, all together

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
    remove_leftovers(out_dir)
    summary = Summary(exercise.name, [f.name for f in exercise.functions])
    taken: set[str] = set()
    names = [safe_name(s.student, taken) for s in found]  # one file name per submission, even for equal ids
    jobs = min(jobs or os.cpu_count() or 1, len(found))
    used = {"sandbox": 0.0, "grading": 0.0, "page_faults": 0}
    pages = _BatchPages(out_dir)
    if on_start:
        on_start(len(found))

    def source_of(index: int) -> Source:
        submission = found[index]
        source = _read(submission.path)
        if submission.display:
            source.path = submission.display
        return source

    def failed(index: int, source: Source, exc: BaseException) -> Report:
        """The report of a submission the grader itself failed on (graded again next run)."""
        report = grader_failure(source, found[index].student, grading, exc)
        report.submission.lms_id, report.submission.late = found[index].lms_id, found[index].late
        return report

    def write(index: int, report: Report, answer: dict, reused: bool = False) -> None:
        """The student's page, then the report (so that a report is never newer than its page)."""
        try:
            pages.here().student(names[index], report, keep=reused)
        except Exception as exc:  # noqa: BLE001 - a bug in the pages must not lose the report
            answer["page_problem"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        if not reused:  # an interrupt before this leaves no report: the next run grades it again
            write_atomic(out_dir / f"{names[index]}.json", report.model_dump_json(indent=2) + "\n")

    def grade_one(index: int, pool: WorkerPool) -> dict:
        """Grade (or reuse the report of) submission ``index``; what the batch keeps of it."""
        started, sandbox_before, faults_before = time.process_time(), pool.cpu_s, pool.page_faults
        submission, source = found[index], source_of(index)
        report = None if force else _reusable(out_dir / f"{names[index]}.json", source, exercise)
        reused = report is not None
        if report is None:
            if submission.note:
                source.notes.insert(0, submission.note)
            try:
                report = grade_source(source, submission.student, grading, pool)
                report.submission.lms_id, report.submission.late = submission.lms_id, submission.late
            except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
                report = failed(index, source, exc)
        answer = {"i": index, "reused": reused}
        write(index, report, answer, reused)
        answer.update(report=report.model_dump_json(), sandbox_cpu_s=pool.cpu_s - sandbox_before,
                      page_faults=pool.page_faults - faults_before, grading_cpu_s=time.process_time() - started)
        return answer

    def take(answer: dict) -> None:
        """One submission done (in this process or a grading process): into the summary and the progress."""
        index = answer["i"]
        if "lost" in answer:  # its grading process died: a report that says so, graded again next run
            source = source_of(index)
            if found[index].note:
                source.notes.insert(0, found[index].note)
            report = failed(index, source, RuntimeError(answer["lost"]))
            write(index, report, answer)
        else:
            report = Report.model_validate_json(answer["report"])
        used["sandbox"] += answer.get("sandbox_cpu_s", 0.0)
        used["page_faults"] += answer.get("page_faults", 0)
        if jobs > 1:  # the CPU time of other processes than this one
            used["grading"] += answer.get("grading_cpu_s", 0.0)
        summary.add(report)
        pages.count(names[index], report, answer.get("page_problem"))
        if on_report:
            on_report(report, bool(answer.get("reused")))

    if jobs == 1:  # here, in this process
        with WorkerPool(1, launcher, limits) as pool:
            for index in range(len(found)):
                take(grade_one(index, pool))
    else:  # in ``jobs`` grading processes, each with its own sandbox worker

        @contextmanager
        def start():
            with WorkerPool(1, launcher, limits, pools=jobs) as pool:
                yield lambda index: grade_one(index, pool)

        patience = 2 * limits.submission_s + 180  # a submission's two jobs, a worker's start, and margins
        with Shards(jobs, start, patience_s=patience) as shards:
            for answer in shards.map(list(range(len(found)))):
                take(answer)
    summary.write(out_dir)
    return BatchSummary(summary, out_dir, launcher.name, used["sandbox"], pages.finish(), used["grading"],
                        used["page_faults"])


class _BatchPages:
    """The batch's HTML: each student's page written where its report is graded (in whichever process),
    the class page from every report, counted as they come, written at the end.

    A failure to build them (a bug) is said in the batch's summary; the reports stand whatever happens.
    """

    def __init__(self, out_dir: Path) -> None:
        self.problem = ""
        try:
            self.classes: Pages | None = Pages(out_dir)
        except Exception as exc:  # noqa: BLE001
            self.classes, self.problem = None, f"{type(exc).__name__}: {str(exc)[:200]}"

    def here(self) -> Pages:
        """The pages of this process (a grading process has its own copy, forked)."""
        if self.classes is None:
            raise RuntimeError(self.problem)
        return self.classes

    def count(self, stem: str, report: Report, problem: str | None) -> None:
        self.problem = self.problem or problem or ""
        if self.classes is not None and not self.problem:
            try:
                self.classes.add(stem, report)
            except Exception as exc:  # noqa: BLE001
                self.problem = f"{type(exc).__name__}: {str(exc)[:200]}"

    def finish(self) -> str:
        """Write the class page; say why the pages could not all be built, if they could not ('' when they were)."""
        if not self.problem and self.classes is not None:
            try:
                self.classes.write_class_page()
            except Exception as exc:  # noqa: BLE001
                self.problem = f"{type(exc).__name__}: {str(exc)[:200]}"
        if self.problem:
            return f"the HTML pages could not be built ({self.problem}); the reports are whole"
        return ""
