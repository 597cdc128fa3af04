"""Per-worker cgroups (v1 pids and memory): one submission's fork or memory bomb stays inside its worker.

All sandboxes run as the same host user, so RLIMIT_NPROC (counted per user) would let a
fork bomb in one worker starve the others. A pids cgroup and a memory cgroup per worker
bound each worker's whole process tree instead. They need root and cgroup v1 controllers
mounted at /sys/fs/cgroup/{pids,memory}; without them the grader falls back to rlimits.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("pids", "memory")
_counter = itertools.count()
_OWNER = os.getpid()  # the process that imported this module, the grader's own: its forked grading processes
# inherit the value, so every group of a batch is named after the grader (and a stale one is told by it)


def available() -> bool:
    """True when per-worker pids and memory cgroups can be made here."""
    if os.geteuid() != 0:
        return False
    return all(os.access(ROOT / c, os.W_OK) and (ROOT / c / "cgroup.procs").exists() for c in CONTROLLERS)


@dataclass
class WorkerCgroup:
    """The pids and memory cgroups of one worker; created on construction, removed by ``remove``."""

    name: str
    pids_max: int
    memory_mb: int

    @classmethod
    def create(cls, pids_max: int, memory_mb: int) -> "WorkerCgroup":
        group = cls(f"grader-{_OWNER}-{os.getpid()}-{next(_counter)}", pids_max, memory_mb)
        for controller in CONTROLLERS:
            (ROOT / controller / group.name).mkdir(exist_ok=True)
        (ROOT / "pids" / group.name / "pids.max").write_text(str(pids_max))
        limit = str(memory_mb << 20)
        (ROOT / "memory" / group.name / "memory.limit_in_bytes").write_text(limit)
        swap = ROOT / "memory" / group.name / "memory.memsw.limit_in_bytes"
        if swap.exists():
            try:
                swap.write_text(limit)
            except OSError:
                pass
        return group

    def wrap(self, argv: list[str]) -> list[str]:
        """A command that joins both cgroups, then execs ``argv`` (every descendant inherits them)."""
        procs = " ".join(str(ROOT / c / self.name / "cgroup.procs") for c in CONTROLLERS)
        script = f'for f in {procs}; do echo $$ > "$f" || exit 99; done; exec "$@"'
        return ["/bin/sh", "-c", script, "grader-worker", *argv]

    def pids(self) -> set[int]:
        """Every process in the worker's cgroups: the worker and whatever the submissions left running."""
        found: set[int] = set()
        for controller in CONTROLLERS:
            try:
                found.update(int(p) for p in (ROOT / controller / self.name / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill_others(self, keep: set[int]) -> None:
        """SIGKILL every process of the cgroups but ``keep`` (a daemon that escaped its session, say)."""
        for pid in self.pids() - keep:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def remove(self) -> None:
        """Kill what is left in the cgroups and remove them."""
        for _ in range(100):
            self.kill_others(set())
            try:
                for controller in CONTROLLERS:
                    if (ROOT / controller / self.name).exists():
                        (ROOT / controller / self.name).rmdir()
                return
            except OSError:
                time.sleep(0.02)



def remove_stale() -> None:
    """Remove the cgroups of grader processes that are gone (a batch that was killed, say)."""
    for controller in CONTROLLERS:
        for path in (ROOT / controller).glob("grader-*-*"):
            owner = path.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                WorkerCgroup(path.name, 0, 0).remove()
