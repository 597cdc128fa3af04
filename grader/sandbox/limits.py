"""The resource limits a submission runs under, and how they are chosen."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; every value is enforced inside the sandbox or, for wall time, from outside."""

    call_s: float = 5.0  # wall-clock time for one call of a student's function
    load_s: float = 10.0  # wall-clock time to run the submission's top-level code
    submission_s: float = 120.0  # wall-clock time for the whole submission, whatever it does
    cpu_s: int = 60  # CPU seconds per process (soft; the hard limit is 2 s above, so the kill shows)
    memory_mb: int = 2048  # address space per process (NumPy needs at least about 256 MiB)
    file_mb: int = 16  # largest file a submission may write
    open_files: int = 64
    processes: int = 64  # processes of the sandbox user (not enforced for root outside the sandbox)

    def deadline_s(self, calls: int) -> float:
        """The whole submission's wall-clock budget for a job of ``calls`` calls."""
        return min(self.submission_s, self.load_s + calls * self.call_s)

    def as_job(self, calls: int, processes: int | None) -> dict:
        """The limits as the worker reads them from a job; ``processes`` is its RLIMIT_NPROC (None: unset)."""
        values = asdict(self)
        values["deadline_s"] = self.deadline_s(calls)
        values["processes"] = processes
        return values

    def describe(self) -> dict[str, float | int]:
        """The limits for the report."""
        return asdict(self)
