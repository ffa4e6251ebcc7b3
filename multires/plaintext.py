"""User data as plain, short text: the one path every user-derived string takes into a message or chart.

A task name from a checkpoint's metrics, a dataset's label, a study table's cell or a file name is
data, not markup: in a Plotly title, legend, subplot title or hover text ``<a href>`` would become a
link, so :func:`figure_text` escapes it (Plotly shows ``&lt;`` as ``<``). In an error message a
1 MB label would be repeated in full (4 MB of text that took a browser tab minutes to render), so
:func:`quote` and :func:`short` shorten it, saying how long it was. The app's Markdown escaping
(``ui.safe_text.plain``) is applied on top of these for Streamlit elements.

Examples
--------
>>> short("x" * 100, 10)
'xxxxxxxxx… (100 characters)'
>>> quote("a\\nb")
"'a\\\\nb'"
>>> figure_text('<a href="javascript:alert(1)">t</a>')
'&lt;a href=&quot;javascript:alert(1)&quot;&gt;t&lt;/a&gt;'
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["MAX_QUOTED_CHARS", "MAX_FIGURE_TEXT_CHARS", "figure_text", "plain_figure", "quote", "short"]

#: A "<" that does not open one of the formatting tags the app's own charts use (Plotly makes links
#: from <a href>, styles from <span style>): escaped by :func:`plain_figure`. Linear: the lookahead
#: reads at most a few characters after each "<".
_UNSAFE_TAG = re.compile(r"<(?!/?(?:br|b|i|em|sup|sub|extra) ?/?>)", re.IGNORECASE)
_MARK = "_multires_plain_text"

#: Longest piece of user data a message quotes in full.
MAX_QUOTED_CHARS = 80
#: Longest user string put into a chart's title, legend or hover text.
MAX_FIGURE_TEXT_CHARS = 120


def short(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """``str(value)``, cut to ``limit`` characters with a note of the full length when longer."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 1, 1)]}… ({len(text):,} characters)"


def quote(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """``repr`` of user data for a message, shortened: a string's first ``limit`` characters, quoted."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):  # np.float64(inf) -> inf
        value = value.item()
    if isinstance(value, (bytes, bytearray)):
        raw, unit = bytes(value), "bytes"
    elif isinstance(value, str):
        raw, unit = value, "characters"
    else:
        return short(repr(value), limit)
    shown = repr(raw[:limit])
    if len(shown) > limit + 3:  # control characters repr as \x.. (4 characters each): bound the shown text too
        shown = shown[:limit] + "…"
    return shown if len(raw) <= limit else f"{shown}… ({len(raw):,} {unit})"


def figure_text(value: object, limit: int = MAX_FIGURE_TEXT_CHARS) -> str:
    """``value`` for a Plotly title, legend, subplot title, axis or hover text: shortened, and ``<``,
    ``>``, ``&`` and quotes as entities, so no tag (a link, bold) is ever made from it."""
    return html.escape(short(value, limit), quote=True)


def _needs_escape(value: Any) -> bool:
    if isinstance(value, str):
        return "<" in value and _UNSAFE_TAG.search(value) is not None
    if isinstance(value, dict):
        return any(_needs_escape(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_needs_escape(v) for v in value)
    if getattr(value, "dtype", None) is not None and value.dtype.kind in "OUS":  # arrays of text
        return any(_needs_escape(v) for v in value.ravel().tolist())
    return False


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return _UNSAFE_TAG.sub("&lt;", value) if "<" in value else value
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    if getattr(value, "dtype", None) is not None and value.dtype.kind in "OUS":
        return [_escaped(v) for v in value.ravel().tolist()] if value.ndim == 1 else value
    return value


def plain_figure(fig: Any) -> Any:
    """``fig`` with every text in it (titles, subplot titles, legends, annotations, hover text and
    templates, text labels, custom data) unable to make a link or a styled span: any ``<`` that does
    not open one of ``<br> <b> <i> <em> <sup> <sub> <extra>`` becomes ``&lt;`` (shown as ``<``).

    The one guard every chart passes before it is drawn (``ui.charts.show``, the study report), so a
    task name, a label or a table cell holding ``<a href="javascript:...">`` shows as text. Returns
    ``fig`` itself when nothing needs escaping (the usual case: no copy), else a new figure.

    >>> import plotly.graph_objects as go
    >>> fig = plain_figure(go.Figure(layout_title_text='<a href="https://evil.example">t</a><br>x'))
    >>> fig.layout.title.text
    '&lt;a href="https://evil.example">t&lt;/a><br>x'
    """
    if getattr(fig, _MARK, False):
        return fig
    if _needs_escape(fig._data) or _needs_escape(fig._layout):
        import plotly.graph_objects as go  # only a figure with text to escape needs plotly here

        fig = go.Figure(_escaped(fig.to_dict()))
    object.__setattr__(fig, _MARK, True)
    return fig
