"""Show user-supplied text as plain text inside Streamlit's Markdown.

``st.warning``, ``st.error``, ``st.info``, ``st.success``, ``st.caption``, ``st.markdown``,
``st.toast``, tab and expander labels all render Markdown (GitHub-flavoured, with LaTeX ``$...$``,
``:color[...]`` / ``:material/...:`` directives, emoji shortcodes and bare-URL autolinks). A link
parameter, a file name, a CSV column, a dataset label or a model name from a checkpoint must never
become a link, an image the browser fetches, a heading or a formula: every such string goes
through :func:`plain` before it is put into one of those elements. Plotly titles, legends and
hover texts understand a little HTML (``<a href>``, ``<b>``, ``<br>``): user strings go into them
through :func:`figure_text`.

CommonMark lets a backslash escape *any* ASCII punctuation character, and the escaped character
is then shown literally; so escaping all of them (and folding line breaks, which could start a
heading, list or block) leaves nothing for the parser to interpret, while the reader sees the
original characters. One thing escapes cannot stop: GitHub-flavoured Markdown turns bare
addresses (``https://...``, ``www.``, ``name@host``) in the *parsed text* into links (in
Chromium, ``https\\:\\/\\/evil\\.example`` is shown as ``<a href="https://evil.example">``). So
:func:`plain` also puts an invisible WORD JOINER (U+2060) inside ``://``, after ``www`` and before
``@``: the text looks the same, but no address pattern matches any more.

Examples
--------
>>> plain("[Session expired: click here](https://evil.example/login)")
'\\\\[Session expired\\\\: click here\\\\]\\\\(https\\\\:\\u2060\\\\/\\\\/evil\\\\.example\\\\/login\\\\)'
>>> plain("line 1\\n# line 2")
'line 1 \\\\# line 2'
>>> unescape(plain("![x](http://127.0.0.1:9/t.png)"))
'![x](http://127.0.0.1:9/t.png)'
"""

from __future__ import annotations

import re
import string

from multires.plaintext import figure_text as _figure_text
from multires.plaintext import short

__all__ = ["figure_text", "option_label", "plain", "unescape"]

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_JOINER = "\u2060"  # WORD JOINER: invisible, and breaks the autolink patterns (scheme://, www., user@host)
_AUTOLINK = re.compile(r"(?i)(:)(?=//)|(www)(?=\.)|(?=@)")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_ESCAPED = re.compile("\\\\([" + re.escape(string.punctuation) + "])")


def plain(value: object) -> str:
    """``str(value)`` escaped for Streamlit Markdown: every ASCII punctuation character gets a
    backslash, line breaks become spaces, and web/e-mail addresses get an invisible word joiner.
    Shown, it reads exactly as ``str(value)`` (on one line)."""
    text = _AUTOLINK.sub(lambda m: (m.group(1) or m.group(2) or "") + _JOINER, _LINE_BREAKS.sub(" ", str(value)))
    return _PUNCTUATION.sub(r"\\\1", text)


def option_label(value: object, limit: int = 60) -> str:
    """A user-derived option of a widget that renders Markdown (``st.radio``'s options, any widget's
    label): shortened (:func:`multires.plaintext.short`) and :func:`plain`. Pass it as ``format_func``."""
    return plain(short(value, limit))


def unescape(markdown: str) -> str:
    """What a reader sees of text escaped by :func:`plain` (for tests and logs)."""
    return _ESCAPED.sub(r"\1", markdown).replace(_JOINER, "")


def figure_text(value: object) -> str:
    """``str(value)`` for a Plotly title, legend or hover text (:func:`multires.plaintext.figure_text`):
    shortened, and ``<``, ``>``, ``&`` and quotes as entities, so no tag (a link, bold) is ever made
    from it. Every figure also passes :func:`multires.plaintext.plain_figure` in ``ui.charts.show``.

    >>> figure_text('<a href="https://evil.example">x</a>')
    '&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;'
    """
    return _figure_text(value)
