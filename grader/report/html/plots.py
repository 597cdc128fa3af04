"""The class page's plots, drawn by matplotlib as inline SVG (imported only when a page is built).

Figures are made with ``matplotlib.figure.Figure``, never through pyplot, so no GUI backend is chosen and
no global state is touched (the same as the Agg backend, for SVG). Text stays text (``svg.fonttype``
none: no font is embedded or fetched), ``$`` in a label is not mathtext, and ids are salted per plot so
that the output is the same on every run and two plots on one page share no id.
"""

from __future__ import annotations

import io
import re
from typing import Sequence

_STYLE = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",  # shipped with matplotlib
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_GRADED, _ERROR, _BAR = "#3b6ea8", "#c0392b", "#2e8b57"


def score_histogram(scores: Sequence[float], errors: int, max_score: float) -> str:
    """A histogram of the scores out of ``max_score``; the ``errors`` ungraded submissions stacked at 0."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    top = max_score if max_score > 0 else max([*scores, 1.0])
    edges = [top * i / 10 for i in range(11)]
    with _style("grader-histogram"):
        fig = Figure(figsize=(6.4, 2.8))
        ax = fig.add_subplot()
        ax.hist([list(scores), [0.0] * errors], bins=edges, stacked=True, color=[_GRADED, _ERROR],
                label=["graded", "could not be graded (0)"], edgecolor="white")
        ax.set_xlim(0, top)
        ax.set_xlabel(f"score (out of {top:g})")
        ax.set_ylabel("students")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if errors:
            fig.legend(frameon=False, loc="upper right", ncols=2)
        fig.subplots_adjust(left=0.09, right=0.97, bottom=0.18, top=0.86)  # fixed: tight_layout costs a draw
        return _svg(fig, "histogram")


def pass_rate_bars(parts: Sequence[str], rates: Sequence[float]) -> str:
    """Horizontal bars: the share of students passing each part, in percent."""
    from matplotlib.figure import Figure

    with _style("grader-pass-rates"):
        fig = Figure(figsize=(6.4, 0.9 + 0.32 * len(parts)))
        ax = fig.add_subplot()
        rows = range(len(parts))
        ax.barh(rows, [100 * r for r in rates], color=_BAR)
        ax.set_yticks(list(rows), labels=list(parts))
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("students passing every test (%)")
        for y, r in zip(rows, rates):
            ax.text(min(100 * r + 1, 88), y, f"{100 * r:.0f}%", va="center")
        width, height = fig.get_size_inches()
        longest = max((len(p) for p in parts), default=1)
        fig.subplots_adjust(left=min(0.6, (0.2 + 0.075 * longest) / width), right=0.97,
                            bottom=0.6 / height, top=1 - 0.15 / height)  # about 0.075 in a character
        return _svg(fig, "pass-rates")


def warm_up() -> None:
    """Import matplotlib and draw one throwaway figure (its fonts and first draw are the slow part).

    A batch does this in a thread while its submissions are graded, so that the class page at the
    end costs only its own drawing; the output is not kept.
    """
    score_histogram([1.0], 1, 1.0)
    pass_rate_bars(["warm-up"], [1.0])


def _style(salt: str):
    import matplotlib

    return matplotlib.rc_context({**_STYLE, "svg.hashsalt": salt})


def _svg(fig, prefix: str) -> str:
    """The ``<svg>`` element alone (no XML prolog, no metadata), its ids prefixed to be unique in a page."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)
    return text.replace(' id="', f' id="{prefix}-').replace("url(#", f"url(#{prefix}-").replace(
        'href="#', f'href="#{prefix}-')
