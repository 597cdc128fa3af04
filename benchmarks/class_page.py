"""Building the HTML class page for a large class, from synthesised reports.

    python benchmarks/class_page.py [-n 2000] [-a softmax_gradients|rnn_bptt] [--keep DIR]

Synthesises ``n`` reports of the assignment's real tests (each function right, or wrong with one of
its catalogued mistakes and that mistake's hint; a few submissions that could not be graded), writes
them as ``<student>.json``, then times ``build_site`` (index.html and one page per student) and prints
the time and the sizes of what it wrote.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import __version__, exercises  # noqa: E402
from grader.report.html import build_site  # noqa: E402
from grader.report.model import (  # noqa: E402
    Evidence, GraderInfo, Hint, HintSummary, Report, SubmissionInfo, TestResult,
)
from grader.report.write import write_atomic  # noqa: E402
from grader.report.names import safe_name  # noqa: E402


def synthesise(n: int, *, assignment: str = "softmax_gradients", seed: int = 0, right: float = 0.6,
               errors: float = 0.02) -> list[Report]:
    """``n`` reports: each function right with probability ``right``, else one of its mistakes."""
    rng = random.Random(seed)
    exercise = exercises.get(assignment)
    mistakes: dict[str, list] = {}
    for mutant in exercise.mutants:
        mistakes.setdefault(mutant.function, []).append(mutant)
    max_score = float(sum(c.points for c in exercise.checks))
    grader = GraderInfo(version=__version__, sandbox="bwrap", assignment_version=exercise.version)
    reports = []
    for i in range(n):
        student = f"s{i:05d}"
        submission = SubmissionInfo(path=f"{student}.py", sha256=f"{i:064x}", kind="py")
        if rng.random() < errors:
            reports.append(Report(assignment=assignment, student=student, submission=submission, status="error",
                                  score=0.0, max_score=max_score, grader=grader,
                                  message=f"{student}.py, line 3: syntax error: invalid syntax"))
            continue
        wrong = {f.name: rng.choice(mistakes[f.name]) for f in exercise.functions
                 if f.name in mistakes and rng.random() > right}
        tests = [_test(check, wrong.get(check.function)) for check in exercise.checks]
        hints = list({h.code: HintSummary(code=h.code, message=h.message, function=t.function)
                      for t in tests for h in t.hints}.values())
        reports.append(Report(assignment=assignment, student=student, submission=submission, status="graded",
                              score=sum(t.score for t in tests), max_score=max_score, tests=tests, hints=hints,
                              grader=grader))
    return reports


def _test(check, mutant) -> TestResult:
    cases = len(check.cases)
    if mutant is None:
        return TestResult(id=check.id, function=check.function, key=check.key, visibility=check.visibility,
                          status="passed", score=float(check.points), max_score=float(check.points),
                          message=f"right on all {cases} cases", cases=cases)
    hint = Hint(code=mutant.code, message=mutant.message, evidence=Evidence(matched_cases=cases, of=cases))
    return TestResult(id=check.id, function=check.function, key=check.key, visibility=check.visibility,
                      status="failed", score=0.0, max_score=float(check.points), cases=cases, hints=[hint],
                      message=f"wrong on {cases} of {cases} cases: max abs error 0.5 at index [0], max relative error 1")


def write_reports(folder: Path, reports: list[Report]) -> list[str]:
    """Each report as ``<stem>.json``, its stem made safe as ``grader grade`` does; returns the stems."""
    taken: set[str] = set()
    stems = []
    for report in reports:
        stem = safe_name(report.student, taken)
        write_atomic(folder / f"{stem}.json", report.model_dump_json(indent=2) + "\n")
        stems.append(stem)
    return stems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("-a", "--assignment", choices=sorted(exercises.EXERCISES), default="softmax_gradients")
    parser.add_argument("--keep", type=Path, default=None, help="write into DIR and keep it (to open the page)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="grader-class-page-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        write_reports(work, synthesise(args.n, assignment=args.assignment))
        started, cpu = time.perf_counter(), time.process_time()
        site = build_site(work)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        pages = [work / f"{p.stem}.html" for p in work.glob("*.json")]
        pages_bytes = sum(p.stat().st_size for p in pages if p.exists())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"class page: {args.n} synthesised reports of {args.assignment}")
        print(f"build:      {took:8.2f} s  ({cpu:.2f} s of CPU: read the reports, write index.html and "
              f"{site.student_pages} student pages)")
        print(f"index.html: {site.class_page.stat().st_size / 1e6:8.2f} MB")
        print(f"students:   {pages_bytes / 1e6:8.2f} MB in all, {pages_bytes / max(1, len(pages)) / 1e3:.1f} kB each")
        print(f"peak memory (max RSS): {peak_mb:.0f} MB")
        if args.keep:
            print(f"open {site.class_page.resolve().as_uri()}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
