"""Submission files in, code chunks out: ``read_submission`` is the entry point."""

from grader.source.model import Source
from grader.source.reader import read_submission

__all__ = ["Source", "read_submission"]
