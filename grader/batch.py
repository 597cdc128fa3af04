"""A class's batch, once its fixed part is ready: every submission graded, its page and report written,
the summary and the class page gathered as the reports come.

With one job everything runs in this process; with more, in forked grading processes
(:mod:`grader.shards`), each with its own sandbox worker. Either way each submission goes
through :meth:`Batch.prepare` (its code read and run in the sandbox, while the submission before it is
judged: :mod:`grader.run_ahead`), :meth:`Batch.grade_one` (where it is judged) and then :meth:`Batch.take` (here).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from grader.errors import GraderError
from grader.exercises.base import Exercise
from grader.grading import GRADER_FAILED, FirstRun, Grading, first_run, grade_source, grader_failure
from grader.report.html.site import Pages
from grader.report.names import Owner, report_names, report_owners
from grader.report.model import Report
from grader.report.summary import Summary
from grader.report.write import remove_leftovers, write_atomic
from grader.run_ahead import RunAhead
from grader.sandbox import spares
from grader.sandbox.pool import WorkerPool, installed, likely_preload
from grader.shards import Shards
from grader.source import Source, read_submission
from grader.source.modules import add_modules
from grader.source.reader import peek
from grader.submissions import Submission


SWITCH_S = 0.0005  # how soon the thread that runs ahead gets the GIL it asks for while a submission is judged
# (Python's default, 5 ms, held its next job back: a batch of one job graded 75 submissions/s instead of 88)
STOP_S = 15.0  # how long a lane waits for its thread to end once its pool is closed (a worker's start, at most)
PEEK_BYTES = 4 << 20  # of each file, searched for the packages a sandbox worker can preload


@dataclass
class Usage:
    """What the batch cost, as the sandbox and the grading processes measured it."""

    sandbox_cpu_s: float = 0.0  # CPU time spent in the sandbox, all workers together
    grading_cpu_s: float = 0.0  # CPU time of the grading processes (0 when it all ran in this one)
    sandbox_page_faults: int = 0  # page faults of the submission processes, all together


class Batch:
    """The submissions ``found`` of one assignment, graded into ``out_dir``."""

    def __init__(self, found: list[Submission], exercise: Exercise, grading: Grading, out_dir: Path, *,
                 force: bool = False, on_start: Callable[[int], None] | None = None,
                 on_report: Callable[[Report, bool], None] | None = None) -> None:
        """``on_start(count)`` is called once grading starts (the processes that grade forked: it may start a thread),
        ``on_report(report, reused)`` for each submission done."""
        self.found, self.exercise, self.grading, self.out_dir = found, exercise, grading, out_dir
        self.force, self.on_start, self.on_report = force, on_start or (lambda count: None), on_report
        self.previous = report_owners(out_dir)  # the reports already there, and who each is of
        self.names = report_names([Owner(s.student, s.lms, s.lms_id) for s in found], self.previous)
        self.summary = Summary(exercise.name, [f.name for f in exercise.functions])
        self.usage = Usage()
        self.pages = BatchPages(out_dir)
        self.none_defined = 0  # submissions graded that define none of the assignment's functions (a wrong -a?)
        self.missing_packages: Counter[str] = Counter()  # packages submissions import that this Python has not:
        self.missing_in = 0  # how many submissions import each, and how many import any

    def run(self, jobs: int) -> str:
        """Grade every submission, ``jobs`` at a time; write the summaries and the class page.

        Returns why the HTML pages could not all be built ('' when they were).
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.out_dir)
        jobs = max(1, min(jobs, len(self.found)))
        limits, launcher = self.grading.limits, self.grading.launcher
        if jobs == 1:  # here, in this process
            with WorkerPool(1, launcher, limits) as pool, self.lane(pool) as grade:
                spares.give(pool)
                self.on_start(len(self.found))
                for index in range(len(self.found)):
                    coming = index + 1 if index + 1 < len(self.found) else None
                    self.take(grade(index, coming, as_json=False), elsewhere=False)
        else:  # in ``jobs`` grading processes, each with its own sandbox worker
            if any(s.path.suffix.lower() == ".ipynb" for s in self.found):
                importlib.import_module("grader.source.magics")  # nbconvert imported once, here, not in each process

            handover = spares.Handover()  # each grading process takes one of the workers started as the sandbox's check

            @contextmanager
            def start():
                with WorkerPool(1, launcher, limits, pools=jobs) as pool, self.lane(pool) as grade:
                    handover.adopt(pool)
                    yield grade

            patience = 3 * limits.submission_s + 180  # a submission's two jobs, the next one's run ahead (which
            # its second job may wait for), a worker's start, and margins
            with Shards(jobs, start, patience_s=patience, before_fork=handover.before_fork,
                        after_fork=handover.after_fork) as shards:
                shards.spawn(jobs)
                self.on_start(len(self.found))
                for answer in shards.map(list(range(len(self.found))), self.worker_kinds()):
                    self.take(answer, elsewhere=True)
                shards.hang_up()  # they stop their workers while the summaries are written
                return self._finish()
        return self._finish()

    def stray_reports(self) -> tuple[list[str], list[tuple[str, str]]]:
        """The reports in the output folder of no submission of this batch (a student's file removed since); and,
        of those, the ones of an LMS student graded in this batch under another name (Participant in a blind-marked
        download, then their name), each with this batch's report of them."""
        mine = {f"{name}.json" for name in self.names} | {"summary.json"}
        strays = sorted(p.name for p in self.out_dir.glob("*.json")
                        if p.name not in mine and b'"schema_version"' in peek(p, 256))  # a report, not an export
        ours = [(Owner("", s.lms, s.lms_id), f"{name}.json") for s, name in zip(self.found, self.names) if s.lms_id]
        superseded = []
        for stray in strays:  # there before the batch: its owner read then
            owner = self.previous.get(stray.removesuffix(".json"))
            by = next((name for me, name in ours if owner is not None and me.is_(owner)), None)
            if by is not None:
                superseded.append((stray, by))
        return [s for s in strays if s not in dict(superseded)], superseded

    def worker_kinds(self) -> dict[int, str]:
        """The submissions that will likely need a sandbox worker with heavy modules loaded (SciPy), by which:
        handed to one grading process, they make only it start such a worker (about 0.4 s of CPU each)."""
        kinds = {index: ",".join(likely_preload(peek(submission.path, PEEK_BYTES)))
                 for index, submission in enumerate(self.found)}
        return {index: kind for index, kind in kinds.items() if kind}

    def _finish(self) -> str:
        """Write the summaries and the class page; why the pages could not all be built ('' when they were)."""
        self.summary.write(self.out_dir)
        return self.pages.finish()

    @contextmanager
    def lane(self, pool: WorkerPool) -> Iterator[Callable[..., dict]]:
        """Grading in this process, with ``pool``: ``grade(index, coming, as_json=True)`` grades submission
        ``index`` (see :meth:`grade_one`) while ``coming``, the one to grade next if known, runs in the sandbox."""
        ahead = RunAhead(lambda index: self.prepare(index, pool))
        spent = Spent(pool)
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_S)

        def grade(index: int, coming: int | None = None, as_json: bool = True) -> dict:
            prepared = ahead.take(index)
            if coming is not None:
                ahead.want(coming)
            return {**self.grade_one(index, prepared, pool, as_json), **spent.since_last()}

        try:
            yield grade
        finally:
            sys.setswitchinterval(switch)
            ahead.stop()
            pool.close()  # now, not only after (its own context closes it again): a run under way ends at once, and
            ahead.join(STOP_S)  # a worker the thread is starting is stopped by that thread, which is waited for

    def prepare(self, index: int, pool: WorkerPool) -> Prepared:
        """What is done of submission ``index`` before it is judged: its code read, its report reused if it
        may be, else its first run in the sandbox made."""
        submission, source = self.found[index], None
        try:
            source = self.source_of(index)
            reused = None if self.force else reusable(self.report_path(index), source, submission, self.grading)
            if reused is not None:
                return Prepared(source, reused)
            return Prepared(source, first=first_run(source, self.grading, pool))
        except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
            return Prepared(source or self.unread(index), failure=exc)

    def grade_one(self, index: int, prepared: Prepared, pool: WorkerPool, as_json: bool = True) -> dict:
        """Grade (or reuse the report of) submission ``index``, ``prepared``; what the batch keeps of it.

        ``as_json``: the report as JSON text, for a grading process to send (else the Report itself).
        """
        submission, source, report = self.found[index], prepared.source, prepared.reused
        reused = report is not None
        if prepared.failure is not None:
            report = self.failed(index, source, prepared.failure)
        elif report is None:
            try:
                report = grade_source(source, submission.student, self.grading, pool, prepared.first)
                submission.describe(report.submission)
            except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
                report = self.failed(index, source, exc)
        text = report.model_dump_json(indent=2) + "\n" if as_json or not reused else ""  # dumped once: filed and sent
        return {"i": index, "reused": reused, "page_problem": self.write(index, report, text, reused),
                "report": text if as_json else report}

    def take(self, answer: dict, elsewhere: bool) -> None:
        """One submission done: into the summary, the class page, the progress.

        ``elsewhere``: the answer comes from a grading process (a trusted fork of this one), as JSON.
        """
        index = answer["i"]
        if "lost" in answer:  # its grading process died, or failed on it: a report that says so, graded again next run
            report = self.failed(index, self.unread(index), RuntimeError(answer["lost"]))
            answer["page_problem"] = self.write(index, report, report.model_dump_json(indent=2) + "\n")
        elif elsewhere:
            report = Report.model_validate_json(answer["report"])
        else:
            report = answer["report"]
        self.usage.sandbox_cpu_s += answer.get("sandbox_cpu_s", 0.0)
        self.usage.sandbox_page_faults += answer.get("page_faults", 0)
        if elsewhere:  # the CPU time of other processes than this one
            self.usage.grading_cpu_s += answer.get("grading_cpu_s", 0.0)
        self.summary.add(report, order=index, report_file=self.report_path(index).name)
        if report.status == "graded" and report.tests and all(
                t.hints and t.hints[0].code == "generic.missing_function" for t in report.tests):
            self.none_defined += 1
        self.missing_packages.update(report.missing_packages)
        self.missing_in += bool(report.missing_packages)
        self.pages.count(self.names[index], report, answer.get("page_problem"))
        if self.on_report:
            self.on_report(report, bool(answer.get("reused")))

    def source_of(self, index: int) -> Source:
        """The submission's code, read, with the note on which of the student's files it is."""
        submission = self.found[index]
        used: list[str] = []
        if submission.problem:  # nothing of the student's can be read: the report says why
            source = Source(path=str(submission.path), kind="unknown", sha256="", error=submission.problem)
        else:
            source = read_submission(submission.path)
            used = add_modules(source, submission.beside)
        if submission.display:
            source.path = submission.display
        if (note := submission.note(used)):
            source.notes.insert(0, note)
        return source

    def unread(self, index: int) -> Source:
        """Submission ``index`` as a report names it when its code is not read (the grader failed on it)."""
        submission = self.found[index]
        return Source(path=submission.display or str(submission.path), kind="unknown", sha256="")

    def report_path(self, index: int) -> Path:
        return self.out_dir / f"{self.names[index]}.json"

    def failed(self, index: int, source: Source, exc: BaseException) -> Report:
        """The report of a submission the grader itself failed on (graded again next run)."""
        report = grader_failure(source, self.found[index].student, self.grading, exc)
        self.found[index].describe(report.submission)
        return report

    def write(self, index: int, report: Report, text: str, reused: bool = False) -> str:
        """The student's page, then the report, ``text`` (so that a report is never newer than its page).

        Returns why the page could not be written ('' when it was); a report that cannot be written
        (a full disk) stops the batch with a GraderError.
        """
        problem = ""
        try:
            self.pages.here().student(self.names[index], report, keep=reused)
        except Exception as exc:  # noqa: BLE001 - a bug in the pages must not lose the report
            problem = _why(exc)
        if not reused:  # an interrupt before this leaves no report: the next run grades it again
            path = self.report_path(index)
            try:
                write_atomic(path, text)
            except OSError as exc:
                raise GraderError(f"cannot write {path} ({exc.strerror or exc})") from None
        return problem


@dataclass
class Prepared:
    """A submission before it is judged (:meth:`Batch.prepare`): its code; its report, when one may be reused;
    else its first run in the sandbox, or what failed in the grader while making it."""

    source: Source
    reused: Report | None = None
    first: FirstRun | None = None
    failure: Exception | None = None


class Spent:
    """The CPU time (the sandbox's and this process's) and the sandbox's page faults since the last submission
    done: each submission's share, though the next one's run overlaps its judging."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self.last = self._now()

    def _now(self) -> tuple[float, int, float]:
        return self.pool.cpu_s, self.pool.page_faults, time.process_time()

    def since_last(self) -> dict:
        now = self._now()
        sandbox_cpu_s, page_faults, grading_cpu_s = (a - b for a, b in zip(now, self.last))
        self.last = now
        return {"sandbox_cpu_s": sandbox_cpu_s, "page_faults": page_faults, "grading_cpu_s": grading_cpu_s}


def reusable(path: Path, source: Source, submission: Submission, grading: Grading) -> Report | None:
    """The report already written for this very file (and LMS record) by this grader, if any, judged against
    the same answers (reference solutions that answer otherwise grade again) under the same limits, and saying
    the same of where the file came from (its path, and which of the student's files it is: a new file beside
    it, or the class's archive downloaded again, grades it again, so that the report says so) and of who the
    student is (their name, which gains their id beside a namesake)."""
    try:
        report = Report.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    then = report.grader
    same = (report.submission.sha256 == source.sha256 and report.assignment == grading.plan.exercise.name
            and report.submission.modules == source.module_hashes()
            and report.student == submission.student  # "John Smith (4246)" once a namesake is graded with them
            and (then.version, then.code_sha256, then.assignment_version, then.answers_sha256, then.limits) == grading.reuse_key
            and (report.submission.lms_id, report.submission.late, report.submission.lms)
            == (submission.lms_id, submission.late, submission.lms)
            and _same_place(report.submission.path, source.path) and report.notes[:len(source.notes)] == source.notes)
    failed = (report.message or "").startswith(GRADER_FAILED)
    failed = failed or any(installed(package) for package in report.missing_packages)  # installed since
    # a file read (its hash), or nothing to read and the same reason said (a folder with no .py, a Canvas student
    # with only a PDF); not a file that could not be read this time, which may be readable the next
    known = bool(source.sha256) or bool(submission.problem) and report.message == submission.problem
    return report if same and known and not failed else None


def _same_place(said: str, path: str) -> bool:
    """Whether a report's path is the file's: the same text, or the same file named from another folder
    (``grade cls`` then ``grade $PWD/cls``)."""
    return said == path or os.path.abspath(said) == os.path.abspath(path)


class BatchPages:
    """The batch's HTML: each student's page written where its report is graded (in whichever process),
    the class page from every report, counted as they come, written at the end.

    A failure to build them (a bug) is said in the batch's summary; the reports stand whatever happens.
    """

    def __init__(self, out_dir: Path) -> None:
        self.problem = ""
        try:
            self.site: Pages | None = Pages(out_dir)  # the renderer, and the class page's tally
        except Exception as exc:  # noqa: BLE001
            self.site, self.problem = None, _why(exc)

    def here(self) -> Pages:
        """The pages of this process (a grading process has its own copy, forked)."""
        if self.site is None:
            raise RuntimeError(self.problem)
        return self.site

    def count(self, stem: str, report: Report, problem: str | None) -> None:
        self.problem = self.problem or problem or ""
        if self.site is not None and not self.problem:
            try:
                self.site.add(stem, report)
            except Exception as exc:  # noqa: BLE001
                self.problem = _why(exc)

    def finish(self) -> str:
        """Write the class page; say why the pages could not all be built, if they could not ('' when they were)."""
        if not self.problem and self.site is not None:
            try:
                self.site.write_class_page()
            except Exception as exc:  # noqa: BLE001
                self.problem = _why(exc)
        if self.problem:
            return f"the HTML pages could not be built ({self.problem}); the reports are whole"
        return ""


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"
