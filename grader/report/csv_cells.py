"""Text for a CSV cell that a spreadsheet opens as text: a student id or a file name such as
``=HYPERLINK(...)`` must not become a formula in the instructor's gradebook (CSV injection)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """``value``, with a leading apostrophe when a spreadsheet would read it as a formula (which it then shows
    as the text it is); numbers are never passed here."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
