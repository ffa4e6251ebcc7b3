"""Built figures kept between script runs: pages call ``cached_figure(builder, *args)`` instead of ``builder(*args)``.

Building a plotly figure validates every property it sets, tens of milliseconds per chart: on a warm
rerun that is most of a page's script time, spent rebuilding figures whose inputs have not changed.
The builders of :mod:`multires.figures` are pure functions of their arguments, so a built figure is
kept (``st.cache_resource``: one copy shared by every session) and found again by the builder's
name and its hashed arguments; changing any input builds a new one.

A kept figure holds its numeric arrays already encoded the way ``st.plotly_chart`` would send them
(Plotly's base64 typed arrays, :func:`_plotly_utils.utils.to_typed_array_spec`): the JSON is the
same, but a rerun does not convert, copy and encode every array again.

Finding a figure again hashes its arguments on every rerun. For a large argument (a results
table, a list of arrays) that hashing can cost more than the rest of the page: wrap it as
``Named(name, value)``, where ``name`` is a small value that changes whenever ``value`` does (a file
path and its modification time, an upload's digest, the inputs ``value`` was computed from). Only
the name is hashed; the builder receives ``value``.

A kept figure is never modified: :func:`ui.charts.show` copies a figure before enlarging it for
presentation mode, and a page that wants to change a built figure builds the change into a builder
of its own and caches that.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from _plotly_utils.utils import to_typed_array_spec

from multires.plaintext import plain_figure

__all__ = ["HASH_NAMED", "Named", "cached_figure", "unwrap"]

#: Built figures kept (least recently used dropped first); each is small once its data are reduced
#: to its pixel budget (:mod:`multires.figures.reduce`), well under 1 MB.
MAX_FIGURES = 256


@dataclass(frozen=True)
class Named:
    """An argument of a cached function found again by ``name`` alone: ``name`` must change whenever
    ``value`` does (see the module docstring)."""

    name: Hashable
    value: Any = field(compare=False, repr=False)


def _name_of(arg: Named) -> Hashable:
    return arg.name


#: For ``st.cache_data`` / ``st.cache_resource`` functions that take :class:`Named` arguments.
HASH_NAMED = {Named: _name_of}


def unwrap(arg: Any) -> Any:
    """``arg.value`` for a :class:`Named` argument, else ``arg``."""
    return arg.value if isinstance(arg, Named) else arg


@st.cache_resource(show_spinner=False, max_entries=MAX_FIGURES, hash_funcs=HASH_NAMED)
def _built(name: str, _builder: Callable[..., go.Figure], args: tuple, kwargs: dict[str, Any]) -> go.Figure:
    fig = _builder(*map(unwrap, args), **{key: unwrap(value) for key, value in kwargs.items()})
    return encode_arrays(plain_figure(fig))  # text made plain once, when built (ui.charts.show skips it then)


def encode_arrays(fig: go.Figure) -> go.Figure:
    """Replace every numeric array of ``fig``'s traces by the typed-array spec its JSON would hold; returns ``fig``."""
    for trace in fig.data:
        for name, value in trace.to_plotly_json().items():
            if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.size:
                trace[name] = to_typed_array_spec(value)
    return fig


def cached_figure(builder: Callable[..., go.Figure], *args: Any, **kwargs: Any) -> go.Figure:
    """``builder(*args, **kwargs)``, built once per distinct arguments (:class:`Named` ones by their
    name, passed to ``builder`` as their value); do not modify the result."""
    code = getattr(builder, "__code__", None)  # pages all run as __main__: their file tells them apart
    where = code.co_filename if code is not None else ""
    return _built(f"{builder.__module__}.{builder.__qualname__}@{where}", builder, args, kwargs)
