"""The plain-text math of the hints (``p_i``, ``yhat(t)``, ``1_{i=y}``, ``W^T``) as HTML, escaped first.

Only math-looking tokens change: a subscript needs a one-letter base (or ``dz``-style, ``yhat``, ``delta``,
``grad``, ``sum``, the indicator ``1``) and a short index, so Python names such as ``rnn_forward`` or
``bptt_truncate`` stay as they are.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

_BASE = r"(?P<base>[xyzhop]hat|delta|grad|sum|d?[A-Za-z]|1)"
_INDEX = r"(?P<index>\{[^{}]{1,40}\}|[A-Za-z0-9]{1,3})"
_TOKEN = re.compile(
    rf"(?<![A-Za-z0-9_.]){_BASE}_{_INDEX}(?![A-Za-z0-9_])"  # p_i, yhat_y, delta_ij, 1_{{i=y}}, dz_i
    r"|(?<![A-Za-z0-9_])(?P<hat>[xyzhop])hat(?![A-Za-z0-9])"  # yhat, yhat(t)
    r"|\^(?P<power>T|-?\d+|\{[^{}]{1,20}\})(?![A-Za-z0-9])"  # W^T, a^2, x^{-1}
    r"|(?P<op>!=|&lt;=|&gt;=)"
)
_SYMBOL = {"delta": "\u03b4", "grad": "\u2207", "sum": "\u2211"}
_OP = {"!=": "\u2260", "&lt;=": "\u2264", "&gt;=": "\u2265"}


@lru_cache(maxsize=4096)  # a class gets the same few hints many times over
def math_html(text: str) -> Markup:
    """``text`` escaped for HTML, with its subscripts, hats, powers and the indicator typeset."""
    return Markup(_typeset(str(escape(text))))


def _typeset(escaped: str) -> str:
    return _TOKEN.sub(_replace, escaped)


def _replace(match: re.Match) -> str:
    if match.group("base"):
        return f"{_base(match.group('base'))}<sub>{_typeset(_unbrace(match.group('index')))}</sub>"
    if match.group("hat"):
        return _hat(match.group("hat"))
    if match.group("power"):
        return f"<sup>{_typeset(_unbrace(match.group('power')))}</sup>"
    return _OP[match.group("op")]


def _base(base: str) -> str:
    if base == "1":
        return '<span class="indicator">1</span>'
    if len(base) == 4 and base.endswith("hat"):
        return _hat(base[0])
    return _SYMBOL.get(base, base)


def _hat(letter: str) -> str:
    return f'<span class="hat">{letter}\u0302</span>'


def _unbrace(index: str) -> str:
    return index[1:-1] if index.startswith("{") else index
