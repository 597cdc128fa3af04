"""The class page's plots, drawn by pygal as inline SVG (imported only when a page is built).

pygal writes SVG with text as text and its style inside the ``<svg>``, scoped to the chart's id, which is
fixed here (pygal's default is random) so that the output is the same on every run and two plots on
one page share no id. The script pygal adds for its tooltips is left out: the pages run only their own.
Importing pygal and drawing both plots takes a few hundredths of a second.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Sequence

_GRADED, _ERROR, _BAR = "#3b6ea8", "#c0392b", "#2e8b57"
_FONT = "DejaVu Sans, Verdana, sans-serif"
BINS = 10  # the histogram's bars: each a tenth of the points


def load() -> None:
    """Import pygal (a twentieth of a second), ahead of the first plot."""
    import pygal  # noqa: F401


def score_histogram(scores: Sequence[float], errors: int, max_score: float) -> str:
    """A histogram of the scores out of ``max_score``; the ``errors`` ungraded submissions stacked at 0."""
    import pygal

    top = max_score if max_score > 0 else max([*scores, 1.0])
    counts = bin_counts(scores, top)
    chart = pygal.StackedBar(**_config(_GRADED, _ERROR), width=640, height=290, show_legend=bool(errors),
                             legend_at_bottom=True, legend_at_bottom_columns=2,
                             x_title=f"score (out of {top:g})", y_title="students", spacing=2,
                             y_labels=integer_ticks(max(c + (errors if i == 0 else 0) for i, c in enumerate(counts))))
    chart.x_labels = [f"{top * i / BINS:g}–{top * (i + 1) / BINS:g}" for i in range(BINS)]
    chart.add("graded", counts)
    chart.add("could not be graded (scored 0)", [errors] + [0] * (BINS - 1))
    return _svg(chart, "histogram")


def pass_rate_bars(parts: Sequence[str], rates: Sequence[float]) -> str:
    """Horizontal bars: the share of students passing each part, in percent, the first part on top."""
    import pygal

    chart = pygal.HorizontalBar(**_config(_BAR), width=640, height=90 + 32 * len(parts), show_legend=False,
                                x_title="students passing every test (%)", range=(0, 100),
                                y_labels=list(range(0, 101, 10)), print_values=True,
                                value_formatter=lambda v: f"{v:.0f}%")
    chart.x_labels = list(reversed(parts))  # pygal draws the first row at the bottom
    chart.add("students passing", [100 * r for r in reversed(rates)])
    return _svg(chart, "pass-rates")


def bin_counts(scores: Sequence[float], top: float) -> list[int]:
    """How many scores fall in each tenth of ``[0, top]`` (the last tenth includes ``top``)."""
    counts = [0] * BINS
    for score in scores:
        counts[min(BINS - 1, max(0, int(BINS * score / top)))] += 1
    return counts


def integer_ticks(highest: int) -> list[int]:
    """Whole-number ticks from 0 to at least ``highest``: at most nine, 1, 2 or 5 times a power of ten apart."""
    highest = max(1, highest)
    step = next(s for s in (m * 10 ** k for k in itertools.count() for m in (1, 2, 5)) if highest / s <= 8)
    return list(range(0, step * math.ceil(highest / step) + 1, step))


def _config(*colors: str) -> dict:
    from pygal.style import Style

    style = Style(background="transparent", plot_background="transparent", foreground="#333",
                  foreground_strong="#222", foreground_subtle="#ccc", colors=colors, font_family=_FONT,
                  label_font_size=11, major_label_font_size=11, title_font_size=12, legend_font_size=12,
                  value_font_size=11, opacity=".9", opacity_hover=".9", transition="0s")
    return dict(style=style, js=[], disable_xml_declaration=True, explicit_size=True, truncate_label=-1,
                truncate_legend=-1, show_y_guides=True, show_x_guides=False, margin=8)


_SCRIPT = re.compile(r"<script\b.*?</script>\s*", re.S)


def _svg(chart, name: str) -> str:
    """The ``<svg>`` element alone, its id ``chart-<name>``, without pygal's script."""
    chart.uuid = name
    return _SCRIPT.sub("", chart.render(is_unicode=True))
