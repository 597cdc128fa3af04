"""Small pieces of the grader's English, said the same way everywhere."""

from __future__ import annotations


def some(names: list[str], shown: int = 5) -> str:
    """'ann, bob' or 'ann, bob, cal, dan, eve and 3 more'."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
