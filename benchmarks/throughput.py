"""Grading throughput against a cold-start baseline, measured in the same run.

    python benchmarks/throughput.py [-n 1000] [-j 2] [--kind py|ipynb|both] [-a softmax_gradients|rnn_bptt|both]

Builds a batch of distinct submissions (right ones and ones
with catalogued mistakes, each file different), grades it with ``grader.api.grade``,
then runs the baseline: starting one ``python -c "import numpy"`` process per
submission, ``-j`` at a time, which is the least any process-per-submission grader
pays. Prints both, their ratio, the CPU time per submission of the grader (its own process and its grading processes)
and of the sandbox (so that the figures mean something on a busy machine too), and
the grader's peak memory (its own process's, and the largest of the processes it started).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PLAIN_ENV = dict(os.environ)  # the baseline's: NumPy as it starts by default
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as ``grader`` (its command line) sets it, before NumPy is imported

from grader import api  # noqa: E402
from grader.authoring.templates import to_notebook  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SKIPPED = ("python2", "generic.timeout", "generic.missing_function", "bptt.consistent_with_wrong_forward")


def build_batch(folder: Path, n: int, kind: str, assignment: str = "softmax_gradients", seed: int = 0) -> None:
    """Write ``n`` distinct submissions: right styles and base-plus-mistake files."""
    rng = random.Random(seed)
    fixtures = FIXTURES / assignment
    base = (fixtures / "right" / "vectorised.py").read_text()
    rights = [p.read_text() for p in sorted((fixtures / "right").glob("*.py"))]
    mistakes = [p.read_text() for p in sorted((fixtures / "mistakes").glob("*.py")) if p.stem not in SKIPPED]
    for i in range(n):
        text = rng.choice(rights) if rng.random() < 0.4 else base + "\n\n" + rng.choice(mistakes)
        text = f"# submission {i}: {rng.random()}\n" + text
        if kind == "ipynb":
            (folder / f"s{i:05d}.ipynb").write_text(to_notebook("# %%\n" + text))
        else:
            (folder / f"s{i:05d}.py").write_text(text)


def baseline(n: int, jobs: int) -> float:
    """Seconds to start n Python+NumPy processes, ``jobs`` at a time."""
    argv = [sys.executable, "-c", "import numpy"]
    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda _: subprocess.run(argv, check=True, env=PLAIN_ENV), range(n)))
    return time.perf_counter() - started


def grade_batch(n: int, kind: str, assignment: str, jobs: int, work: Path) -> dict:
    """Build and grade one batch; its wall time, the CPU time of the grader and of the sandbox."""
    subs, out = work / f"{assignment}-{kind}", work / f"{assignment}-{kind}-out"
    subs.mkdir()
    build_batch(subs, n, kind, assignment)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    batch = api.grade([subs], assignment=assignment, out_dir=out, jobs=jobs)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    parent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) + batch.grading_cpu_s
    # Kept until the script ends: on a file system that holds freed inodes back for a while (ext4 without
    # a journal), thousands of files deleted here would slow the file creations of the next batch.
    return {"wall": wall, "parent_cpu": parent, "sandbox_cpu": batch.sandbox_cpu_s, "sandbox": batch.sandbox,
            "graded": batch.statistics["graded"], "errors": batch.statistics["errors"],
            "faults": batch.sandbox_page_faults}


def _file_creation_ms(folder: Path, count: int = 200) -> float:
    """What creating, writing and renaming one small file costs here, as each report and page is written.

    Not a constant of the file system: on ext4 without a journal, inode allocation skips over the inodes
    lately freed in the folder's block group, which made it 0.06 ms in one folder and 0.4 ms in another of
    the same disk (two files a submission). The files are kept until the script ends, like the batches.
    """
    probe = folder / "file-creation-probe"
    probe.mkdir()
    started = time.perf_counter()
    for i in range(count):
        temporary = probe / f"{i}.tmp"
        temporary.write_bytes(b"x" * 4096)
        temporary.replace(probe / str(i))
    return (time.perf_counter() - started) / count * 1e3


def _file_system(path: Path) -> str:
    """The type of the file system holding ``path`` (from /proc/mounts), or "unknown"."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    resolved, best = str(path.resolve()), ("", "unknown")
    for fields in mounts:
        point = fields[1]
        if len(fields) > 2 and (resolved == point or resolved.startswith(point.rstrip("/") + "/")) and len(point) >= len(best[0]):
            best = (point, fields[2])
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("-j", type=int, default=2)
    parser.add_argument("--kind", choices=["py", "ipynb", "both"], default="both")
    parser.add_argument("-a", "--assignment", choices=["softmax_gradients", "rnn_bptt", "both"], default="both")
    parser.add_argument("--baseline-n", type=int, default=200, help="processes started for the baseline (scaled to n)")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the batches and their reports (default: the system's temporary folder)")
    args = parser.parse_args()
    kinds = ["py", "ipynb"] if args.kind == "both" else [args.kind]
    assignments = ["softmax_gradients", "rnn_bptt"] if args.assignment == "both" else [args.assignment]
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grader-bench-", dir=args.work))
    print(f"batches and reports in {work} ({_file_system(work)}; a small file created, written and renamed "
          f"there in {_file_creation_ms(work):.2f} ms)")
    try:
        cold = baseline(args.baseline_n, args.j) * args.n / args.baseline_n
        print(f"baseline: one `python -c 'import numpy'` per submission, {args.j} at a time: "
              f"{cold:.2f} s for {args.n}, {args.n / cold:.1f} submissions/s")
        print(f"{'batch':28} {'sandbox':8} {'wall s':>7} {'subs/s':>7} {'ratio':>6} "
              f"{'grader ms':>10} {'sandbox ms':>11} {'faults':>7} {'cpu bound/s':>12}  graded/errors")
        for assignment in assignments:
            for kind in kinds:
                r = grade_batch(args.n, kind, assignment, args.j, work)
                per = 1000 / args.n
                cpu = (r["parent_cpu"] + r["sandbox_cpu"]) / args.n
                print(f"{args.n} {kind:5} {assignment:17} {r['sandbox']:8} {r['wall']:7.2f} {args.n / r['wall']:7.1f} "
                      f"{r['wall'] / cold:6.3f} {r['parent_cpu'] * per:10.2f} {r['sandbox_cpu'] * per:11.2f} {r['faults'] / args.n:7.0f} "
                      f"{os.cpu_count() / cpu:12.0f}  {r['graded']}/{r['errors']}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest process it reaped
        print("ratio: the batch's wall time over the baseline's; grader ms and sandbox ms: CPU time per submission "
              "of the grader (its own process and its grading processes) and of the sandboxed workers; faults: page faults "
              "per submission in the sandbox (each page a submission process writes is copied or zeroed); cpu bound: the rate these CPU times allow on "
              f"{os.cpu_count()} cores when nothing else runs")
        print(f"grader peak memory: {peak_mb:.0f} MB max RSS of the grader's own process, "
              f"{child_mb:.0f} MB of the largest process it started and reaped (its grading processes, one per -j, "
              "are the largest: the sandbox workers and the baseline's processes are smaller)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
