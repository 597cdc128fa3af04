"""Exit codes and the errors the grader itself raises (never for a student's mistake)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit statuses of the command line (CONTRACT.md section 2)."""

    OK = 0
    TESTS_FAILED = 1
    USAGE_ERROR = 2


class GraderError(Exception):
    """The grader cannot do what it was asked: bad usage, missing reference, unreadable input."""
