"""Grading throughput against a cold-start baseline, measured in the same run.

    python benchmarks/throughput.py [-n 1000] [-j 2] [--rounds 3] [--kind py|ipynb|both] [-a softmax_gradients|rnn_bptt|both]

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
import statistics
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


def grade_batch(subs: Path, out: Path, assignment: str, jobs: int) -> dict:
    """Grade one batch already built into a new folder of reports; its wall time, the CPU time of the grader
    and of the sandbox."""
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


def machine_speed_ms(repeat: int = 5) -> float:
    """The fastest of ``repeat`` timings of a fixed piece of pure Python: how fast this machine's CPU is
    just now. On a shared VM it is not a constant (seen here: 0.22 to 0.36 s for the same loop within a
    minute), which moves every figure of a round, CPU times included; the ratio, measured in the same
    round, moves much less."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - started)
    return best * 1e3


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
    parser.add_argument("--rounds", type=int, default=3,
                        help="times the baseline and every batch are measured, one after the other (default 3)")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the batches and their reports (default: the system's temporary folder)")
    args = parser.parse_args()
    kinds = ["py", "ipynb"] if args.kind == "both" else [args.kind]
    assignments = ["softmax_gradients", "rnn_bptt"] if args.assignment == "both" else [args.assignment]
    batches = [(assignment, kind) for assignment in assignments for kind in kinds]
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grader-bench-", dir=args.work))
    print(f"batches and reports in {work} ({_file_system(work)}; a small file created, written and renamed "
          f"there in {_file_creation_ms(work):.2f} ms)")
    try:
        for assignment, kind in batches:
            (work / f"{assignment}-{kind}").mkdir()
            build_batch(work / f"{assignment}-{kind}", args.n, kind, assignment)
        results: dict[tuple[str, str], list[tuple[float, float]]] = {b: [] for b in batches}  # (subs/s, ratio) a round
        print(f"{'round':5} {'batch':28} {'sandbox':8} {'wall s':>7} {'subs/s':>7} {'ratio':>6} "
              f"{'grader ms':>10} {'sandbox ms':>11} {'faults':>7} {'cpu bound/s':>12}  graded/errors")
        for round_ in range(1, args.rounds + 1):
            speed = machine_speed_ms()
            cold = baseline(args.baseline_n, args.j) * args.n / args.baseline_n
            print(f"{round_:<5} baseline: one `python -c 'import numpy'` per submission, {args.j} at a time: "
                  f"{cold:.2f} s for {args.n}, {args.n / cold:.1f} submissions/s; the fixed loop: {speed:.0f} ms")
            for assignment, kind in batches:
                r = grade_batch(work / f"{assignment}-{kind}", work / f"{assignment}-{kind}-out{round_}", assignment, args.j)
                results[(assignment, kind)].append((args.n / r["wall"], r["wall"] / cold))
                per = 1000 / args.n
                cpu = (r["parent_cpu"] + r["sandbox_cpu"]) / args.n
                print(f"{round_:<5} {args.n} {kind:5} {assignment:17} {r['sandbox']:8} {r['wall']:7.2f} "
                      f"{args.n / r['wall']:7.1f} {r['wall'] / cold:6.3f} {r['parent_cpu'] * per:10.2f} "
                      f"{r['sandbox_cpu'] * per:11.2f} {r['faults'] / args.n:7.0f} {os.cpu_count() / cpu:12.0f}  "
                      f"{r['graded']}/{r['errors']}")
        print("ratio: the batch's wall time over the baseline's of the same round; grader ms and sandbox ms: CPU time "
              "per submission of the grader (its own process and its grading processes) and of the sandboxed workers; "
              "faults: page faults per submission in the sandbox (each page a submission process writes is copied or "
              f"zeroed); cpu bound: the rate these CPU times allow on {os.cpu_count()} cores when nothing else runs; "
              "the fixed loop: how long a fixed piece of pure Python took just before the round (this machine's "
              "speed then: every figure of a round moves with it)")
        if args.rounds > 1:
            print(f"over {args.rounds} rounds:")
            for (assignment, kind), rounds in results.items():
                rates, ratios = sorted(r for r, _ in rounds), sorted(q for _, q in rounds)
                print(f"  {args.n} {kind:5} {assignment:17} subs/s median {statistics.median(rates):6.1f} "
                      f"(from {rates[0]:.1f} to {rates[-1]:.1f}); ratio median {statistics.median(ratios):.3f} "
                      f"(from {ratios[0]:.3f} to {ratios[-1]:.3f})")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest process it reaped
        print(f"grader peak memory: {peak_mb:.0f} MB max RSS of the grader's own process, "
              f"{child_mb:.0f} MB of the largest process it started and reaped (its grading processes, one per -j, "
              "are the largest: the sandbox workers and the baseline's processes are smaller)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
