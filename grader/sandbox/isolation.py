"""Choose how student code is isolated on this machine: bubblewrap (with per-worker cgroups) or a fallback."""

from __future__ import annotations

import os
import sys

from grader.errors import GraderError
from grader.sandbox import bwrap, cgroups
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Launcher
from grader.sandbox.spares import start as start_spares

WORKER_OVERHEAD_PROCESSES = 8  # the worker, bwrap's init, the submission process and its call process
WORKER_OVERHEAD_MB = 512  # the worker itself and the sandbox's /tmp


def sandbox_config() -> bwrap.SandboxConfig:
    """The bubblewrap settings of every worker (RLIMIT_NPROC is set per job, or replaced by a cgroup)."""
    return bwrap.SandboxConfig(tmp_size_mb=64, shm_size_mb=16, nproc=None)


def choose_launcher(limits: Limits, *, require_sandbox: bool = False, allow_sandbox: bool | None = None,
                    spares: int = 0) -> Launcher:
    """bubblewrap when it works here, else separate processes with rlimits (refused with require_sandbox).

    ``spares``: how many workers the caller will use at once. Then the check that bubblewrap works
    is the start of that many workers (kept for the caller's pools, ``grader.sandbox.spares``),
    not a probe of its own; the probe runs only when they do not start, to say why.
    ``GRADER_SANDBOX=off`` in the environment turns the sandbox off (to try the fallback).
    """
    if allow_sandbox is None:
        allow_sandbox = os.environ.get("GRADER_SANDBOX", "").lower() != "off"
    group = None
    if cgroups.available():
        cgroups.remove_stale()
        group = (limits.processes + WORKER_OVERHEAD_PROCESSES, limits.memory_mb + WORKER_OVERHEAD_MB)
    if allow_sandbox:
        config = sandbox_config()
        note = "" if group else "no per-worker cgroups here: processes are limited per sandbox user (shared by the workers)"
        sandboxed = Launcher(name="bwrap", sandbox=config, cgroups=group, note=note)
        if spares > 0 and bwrap.find_bwrap():
            try:
                start_spares(sandboxed, spares)
                return sandboxed
            except Exception:  # noqa: BLE001 - whatever stopped them, the probe says why
                pass
        probe = bwrap.probe(sys.executable, config)
        if probe.usable:
            return sandboxed
        reason = probe.reason
    else:
        reason = "turned off with GRADER_SANDBOX=off"
    if require_sandbox:
        raise GraderError(f"the bubblewrap sandbox is required (--require-sandbox) but is not usable: {reason}")
    return Launcher(
        name="process",
        cgroups=group,
        note=f"bubblewrap is not usable ({reason}); student code runs in separate processes with resource limits only",
    )
