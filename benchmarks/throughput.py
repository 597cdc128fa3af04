"""Grading throughput against a cold-start baseline, measured in the same run.

    python benchmarks/throughput.py [-n 1000] [-j 2] [--kind py|ipynb] [-a softmax_gradients|rnn_bptt]

Builds a batch of distinct submissions (right ones and ones
with catalogued mistakes, each file different), grades it with ``grader.api.grade``,
then runs the baseline: starting one ``python -c "import numpy"`` process per
submission, ``-j`` at a time, which is the least any process-per-submission grader
pays. Prints both, their ratio, and the grader's peak memory.
"""

from __future__ import annotations

import argparse
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
        list(pool.map(lambda _: subprocess.run(argv, check=True), range(n)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("-j", type=int, default=2)
    parser.add_argument("--kind", choices=["py", "ipynb"], default="py")
    parser.add_argument("-a", "--assignment", choices=["softmax_gradients", "rnn_bptt"], default="softmax_gradients")
    parser.add_argument("--baseline-n", type=int, default=200, help="processes started for the baseline (scaled to n)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        subs, out = work / "subs", work / "out"
        subs.mkdir()
        build_batch(subs, args.n, args.kind, args.assignment)
        started = time.perf_counter()
        batch = api.grade([subs], assignment=args.assignment, out_dir=out, jobs=args.j)
        graded = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cold = baseline(args.baseline_n, args.j) * args.n / args.baseline_n
        stats = batch.statistics
        print(f"batch: {args.n} {args.kind} submissions of {args.assignment}, -j {args.j}, sandbox {batch.sandbox}")
        print(f"grader:   {graded:8.2f} s  {args.n / graded:8.1f} submissions/s  (graded {stats['graded']}, errors {stats['errors']})")
        print(f"baseline: {cold:8.2f} s  {args.n / cold:8.1f} submissions/s  (one python+numpy start each, {args.j} at a time)")
        print(f"ratio:    grader time / baseline time = {graded / cold:.3f}")
        print(f"grader peak memory (max RSS of the grading process): {peak_mb:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
