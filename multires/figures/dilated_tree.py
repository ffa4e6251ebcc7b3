"""The paper's Figure 2: the causal dilated tree as a graph, still or animated over the time step ``n``.

Row 0 holds the input ``x``; row ``l`` holds ``a_l[t]`` (circle, drawn at ``t - 0.2``) and
``b_l[t]`` (square, at ``t + 0.2``). Both combine the same ``k`` samples of ``a_{l-1}`` spaced by the
dilation ``2**(l-1)``: through the shared lowpass ``h0`` into ``a_l`` and the shared highpass ``h1``
into ``b_l``. :func:`tree_animation_figure` adds one Plotly frame per time step, a play button and a
slider, so the sweep runs in the browser without a server round trip.

Examples
--------
>>> from multires import memory_slots
>>> fig = tree_animation_figure(16, 4, 2, memory_slots("fading", 4, 2), impulse_at=3)
>>> len(fig.frames), fig.frames[5].name
(16, '5')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..treeselect import Slot, kept_cells
from .cells import cell_label
from .style import BAND_COLORS, FILTER_COLORS, TREE_SELECT_COLORS, TREE_SELECT_LABELS, style_figure

__all__ = ["ANIMATED_TRACES", "IMPULSE_COLOR", "dilated_tree_figure", "impulse_cells", "tree_animation_figure"]

#: Names of the traces each animation frame replaces, in frame order.
ANIMATED_TRACES: tuple[str, ...] = ("carries the impulse", "h0 (lowpass, shared)", "h1 (highpass, shared)",
                                    "input x", "a (approximation)", "b (detail)", "kept", "memory z_n")
#: Halo of the nodes that still depend on the impulse (Okabe-Ito yellow, darkened for white paper).
IMPULSE_COLOR = "#E6B800"
_OFFSET = 0.2  # a_l[t] sits left of t, b_l[t] right of it
_STRIP_Y = -1.45  # row of the memory list under the input (its labels sit above it)
Point = tuple[float, float]
#: A trace as a plain dict: the figure validates every trace once, when it is built (building
#: ``go.Scatter`` objects first validated them twice, three times slower for the animation).
Trace = dict[str, Any]


def _scatter(**props: Any) -> Trace:
    return dict(type="scatter", **props)


def _position(band: str, level: int, t: int) -> Point:
    if level == 0:
        return float(t), 0.0
    return (t - _OFFSET if band == "approx" else t + _OFFSET), float(level)


def _sources(t: int, level: int, kernel_size: int) -> list[int]:
    """Times of the ``a_{level-1}`` samples that ``a_level[t]`` and ``b_level[t]`` combine (``>= 0``)."""
    dilation = 2 ** (level - 1)
    times = (t - (kernel_size - 1 - i) * dilation for i in range(kernel_size))
    return [s for s in times if s >= 0]  # earlier samples are the causal zero padding: no node, no edge


def _cone(kept: Sequence[tuple[Slot, int]], depth: int, kernel_size: int) -> dict[str, list[tuple[Point, Point]]]:
    """Every edge that contributes to a kept cell, found top-down level by level, per filter."""
    needed: set[tuple[int, int]] = set()  # (level, t) of approximations that must be computed
    edges: dict[str, list[tuple[Point, Point]]] = {"h0": [], "h1": []}
    for slot, t in kept:
        if slot.band == "approx":
            needed.add((slot.level, t))
            continue
        for s in _sources(t, slot.level, kernel_size):
            edges["h1"].append((_position("approx", slot.level - 1, s), _position("detail", slot.level, t)))
            needed.add((slot.level - 1, s))
    for level in range(depth, 0, -1):
        for lvl, t in sorted(needed):
            if lvl == level:
                for s in _sources(t, level, kernel_size):
                    edges["h0"].append((_position("approx", level - 1, s), _position("approx", level, t)))
                    needed.add((level - 1, s))
    return edges


def _segments(pairs: Sequence[tuple[Point, Point]]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for (x0, y0), (x1, y1) in pairs:
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return xs, ys


def impulse_cells(depth: int, kernel_size: int, impulse_at: int, n: int) -> list[tuple[str, int, int]]:
    """Nodes ``(band, level, t)`` with ``t <= n`` whose value depends on the input sample ``x[impulse_at]``.

    ``a_l[t]`` and ``b_l[t]`` read ``x[t - m]`` for every ``m`` in ``0 .. (k-1)(2**l - 1)``, so the
    impulse stays in level ``l`` for ``(k-1)(2**l - 1) + 1`` steps: it leaves the fine levels first
    and climbs to the coarse ones (band ``"input"`` is ``x`` itself, level 0).

    >>> [c for c in impulse_cells(2, 2, 0, 1) if c[0] != "approx"]
    [('input', 0, 0), ('detail', 1, 0), ('detail', 1, 1), ('detail', 2, 0), ('detail', 2, 1)]
    """
    cells = [("input", 0, impulse_at)] if impulse_at <= n else []
    for band in ("approx", "detail"):
        for level in range(1, depth + 1):
            reach = (kernel_size - 1) * (2**level - 1)
            cells += [(band, level, t) for t in range(impulse_at, min(n, impulse_at + reach) + 1)]
    return sorted(cells, key=lambda c: (c[0] != "input", c[1], c[0], c[2]))


def _strip_x(n_slots: int, n_samples: int) -> np.ndarray:
    inset = 0.3  # keeps the first and last labels inside the plot
    if n_slots == 1:
        return np.array([(n_samples - 1) / 2])
    return np.linspace(inset, n_samples - 1.0 - inset, n_slots)


#: With more slots than this, the memory list's labels alternate above and below the boxes.
_STAGGER_ABOVE = 8


def _strip_text_positions(n_slots: int) -> list[str]:
    if n_slots <= _STAGGER_ABOVE:
        return ["top center"] * n_slots
    return ["top center" if i % 2 == 0 else "bottom center" for i in range(n_slots)]


def _node_traces(n: int, n_samples: int, depth: int, kernel_size: int, *, full: bool) -> list[Trace]:
    """The input and the tree's nodes, faded after ``n`` (they do not exist yet at time ``n``).

    ``full=False`` gives what an animation frame changes, the names and opacities only: Plotly merges
    a frame's traces into the drawn ones, so positions and hover texts are sent once, not per frame
    (a third of the figure's size and build time).
    """
    times = range(n_samples)
    faded = [1.0 if t <= n else 0.22 for t in times]
    if not full:
        return [_scatter(name="input x", marker=dict(opacity=faded))] + [
            _scatter(name=label, marker=dict(opacity=faded * depth))
            for label in ("a (approximation)", "b (detail)")]
    traces = [_scatter(x=list(times), y=[0.0] * n_samples, mode="markers", name="input x",
                         marker=dict(size=11, color="#444444", opacity=faded),
                         hovertemplate="x[%{x}]<extra></extra>")]
    for band, symbol, label, letter, filt in (("approx", "circle", "a (approximation)", "a", "h0"),
                                               ("detail", "square", "b (detail)", "b", "h1")):
        px, py, text = [], [], []
        for level in range(1, depth + 1):
            for t in times:
                x, y = _position(band, level, t)
                px.append(x)
                py.append(y)
                src = ", ".join(f"{'x' if level == 1 else f'a{level - 1}'}[{s}]" for s in _sources(t, level, kernel_size))
                text.append(f"{letter}{level}[{t}] = {filt} · ({src})")
        traces.append(_scatter(x=px, y=py, mode="markers", name=label, text=text,
                                 hovertemplate="%{text}<extra></extra>",
                                 marker=dict(size=9, symbol=symbol, color=BAND_COLORS[band], opacity=faded * depth,
                                             line=dict(color="white", width=1))))
    return traces


def _frame_traces(n: int, n_samples: int, depth: int, kernel_size: int, kept: Sequence[tuple[Slot, int]],
                  tree_select: str, slots: Sequence[Slot] | None, impulse_at: int | None,
                  full: bool = True) -> list[Trace]:
    """The traces that change with ``n``, in the order of :data:`ANIMATED_TRACES` (``full``: see :func:`_node_traces`)."""
    color = TREE_SELECT_COLORS.get(tree_select, "#000000")
    name = TREE_SELECT_LABELS.get(tree_select, tree_select)
    hit = impulse_cells(depth, kernel_size, impulse_at, n) if impulse_at is not None else []
    hx, hy = zip(*[_position(b, lvl, t) for b, lvl, t in hit]) if hit else ((), ())
    traces = [_scatter(x=list(hx), y=list(hy), mode="markers", name=f"carries the impulse x[{impulse_at}]",
                         showlegend=impulse_at is not None, hoverinfo="skip",
                         marker=dict(size=21, color=IMPULSE_COLOR, opacity=0.75))]
    cone = _cone(kept, depth, kernel_size)
    for key, label in (("h0", "h0 (lowpass, shared)"), ("h1", "h1 (highpass, shared)")):
        xs, ys = _segments(cone[key])
        traces.append(_scatter(x=xs, y=ys, mode="lines", name=label, hoverinfo="skip",
                                 line=dict(color=FILTER_COLORS[key], width=2.6)))
    traces += _node_traces(n, n_samples, depth, kernel_size, full=full)
    kx, ky = zip(*[_position(s.band, s.level, t) for s, t in kept]) if kept else ((), ())
    traces.append(_scatter(
        x=list(kx), y=list(ky), mode="markers", name=f"kept by {name}",
        text=[f"{s} = {cell_label(s)}[{t}]" for s, t in kept], hovertemplate="%{text}<extra></extra>",
        marker=dict(size=19, symbol="circle-open", color=color, line=dict(width=3, color=color)),
    ))
    traces.append(_memory_strip(n, n_samples, depth, kernel_size, slots or [], color, impulse_at))
    return traces


def _memory_strip(n: int, n_samples: int, depth: int, kernel_size: int, slots: Sequence[Slot], color: str,
                  impulse_at: int | None) -> Trace:
    """The memory list under the tree: one box per slot, lit when its cell exists at ``n``."""
    holds = set()
    if impulse_at is not None:
        holds = {(b, lvl, t) for b, lvl, t in impulse_cells(depth, kernel_size, impulse_at, n)}
    lit, text, ring = [], [], []
    for s in slots:
        t = n - s.lag
        lit.append(color if t >= 0 else "#e3e3e3")
        text.append(f"{s}<br>{cell_label(s)}[{t}]" if t >= 0 else f"{s}<br>not yet")
        ring.append(IMPULSE_COLOR if (s.band, s.level, t) in holds else "white")
    return _scatter(
        x=_strip_x(len(slots), n_samples), y=[_STRIP_Y] * len(slots), mode="markers+text", name="memory z_n",
        showlegend=False, text=text, textposition=_strip_text_positions(len(slots)),
        textfont=dict(size=13 if len(slots) <= _STAGGER_ABOVE else 11),
        hovertemplate="%{text}<extra>memory slot</extra>",
        marker=dict(size=20, symbol="square", color=lit, line=dict(width=4, color=ring)),
    )


def _impulse_count(n: int, depth: int, kernel_size: int, slots: Sequence[Slot], impulse_at: int) -> int:
    """How many of the memory's slots hold the impulse ``x[impulse_at]`` at time ``n``."""
    holds = set(impulse_cells(depth, kernel_size, impulse_at, n))
    return sum((s.band, s.level, n - s.lag) in holds for s in slots)


def _frame_layout(n: int, n_samples: int, depth: int, kernel_size: int, tree_select: str,
                  slots: Sequence[Slot] | None, impulse_at: int | None) -> dict:
    """Title, the band marking ``n`` and its label: the layout each frame replaces."""
    color = TREE_SELECT_COLORS.get(tree_select, "#000000")
    label = f"n = {n}"
    if impulse_at is not None and slots:
        count = _impulse_count(n, depth, kernel_size, slots, impulse_at)
        label += f" · x[{impulse_at}] is in {count} of {len(slots)} memory slots"
    return dict(
        title=dict(text=f"Time n = {n}: the memory of {TREE_SELECT_LABELS.get(tree_select, tree_select)}"),
        shapes=[dict(type="rect", xref="x", yref="paper", x0=n - 0.45, x1=n + 0.45, y0=0, y1=1,
                     fillcolor=color, opacity=0.08, line_width=0, layer="below")],
        annotations=[dict(x=n + (0.5 if n <= n_samples / 2 else -0.5), y=depth + 0.5, xref="x", yref="y", text=label,
                          showarrow=False, xanchor="right" if n > n_samples / 2 else "left",
                          font=dict(color=color, size=14))],
    )


def _check(n_samples: int, depth: int, kernel_size: int, n: int, impulse_at: int | None) -> None:
    if not 0 <= n < n_samples:
        raise ValueError(f"n must be in 0..{n_samples - 1}, got {n}")
    if impulse_at is not None and not 0 <= impulse_at < n_samples:
        raise ValueError(f"impulse_at must be a time in 0..{n_samples - 1} (or None for no impulse), got {impulse_at}")
    if depth < 1 or kernel_size < 2:
        raise ValueError(f"depth must be >= 1 and kernel_size >= 2, got depth={depth}, kernel_size={kernel_size}")


def dilated_tree_figure(
    n_samples: int,
    depth: int,
    kernel_size: int,
    n: int,
    kept: Sequence[tuple[Slot, int]] = (),
    tree_select: str = "fading",
    height: int = 560,
    *,
    slots: Sequence[Slot] | None = None,
    impulse_at: int | None = None,
) -> go.Figure:
    """The causal dilated tree as nodes and edges, with the memory kept at time ``n`` outlined.

    Faint edges show every connection; the computation that produces the kept cells (their *cone*,
    down to the input samples it reads) is drawn in the two filter colours. Nodes after ``n`` are
    faded: they do not exist yet at time ``n``.

    Parameters
    ----------
    n_samples, depth, kernel_size : int
        ``N``, ``J``, ``k`` (keep ``N`` small, e.g. 16, so nodes stay readable).
    n : int
        Current time step, ``0 <= n < N``.
    kept : list of (Slot, int)
        Cells kept at time ``n``, as returned by :func:`multires.kept_cells`.
    TREESELECT rule : str
        Key of :data:`TREE_SELECT_COLORS`, for the outline colour and the legend.
    slots : list of Slot, optional
        The memory's slots (weight order): drawn as a row of boxes under the input, lit when their
        cell exists at ``n``.
    impulse_at : int, optional
        Time of an input impulse: every node up to ``n`` that depends on it gets a yellow halo.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"all connections"``, ``"carries the impulse x[t]"``, ``"h0 (lowpass, shared)"``,
        ``"h1 (highpass, shared)"``, ``"input x"``, ``"a (approximation)"``, ``"b (detail)"``,
        ``"kept by <TREESELECT rule>"`` and ``"memory z_n"``, in this order.
    """
    _check(n_samples, depth, kernel_size, n, impulse_at)
    all_edges = []
    for level in range(1, depth + 1):
        for t in range(n_samples):
            for s in _sources(t, level, kernel_size):
                src = _position("approx", level - 1, s)
                all_edges += [(src, _position("approx", level, t)), (src, _position("detail", level, t))]
    xs, ys = _segments(all_edges)
    connections = _scatter(x=xs, y=ys, mode="lines", name="all connections", hoverinfo="skip",
                           line=dict(color="rgba(120,120,120,0.22)", width=1))
    fig = go.Figure([connections, *_frame_traces(n, n_samples, depth, kernel_size, kept, tree_select, slots, impulse_at)])
    ticks = {0: "input x", **{lvl: f"level {lvl}  (dilation {2 ** (lvl - 1)})" for lvl in range(1, depth + 1)}}
    bottom = -0.5
    if slots:
        ticks = {_STRIP_Y: "memory z<sub>n</sub>", **ticks}
        bottom = _STRIP_Y - (0.45 if len(slots) <= _STAGGER_ABOVE else 1.0)
    fig.update_yaxes(tickvals=list(ticks), ticktext=list(ticks.values()), range=[bottom, depth + 0.75],
                     showgrid=False, zeroline=False)
    fig.update_xaxes(tickvals=list(range(n_samples)), range=[-0.7, n_samples - 0.3], showgrid=False,
                     zeroline=False)
    style_figure(fig, "", "time t (samples)", "tree level", height=height)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="center", x=0.5),
                      margin=dict(b=80), **_frame_layout(n, n_samples, depth, kernel_size, tree_select, slots, impulse_at))
    return fig


def tree_animation_figure(
    n_samples: int,
    depth: int,
    kernel_size: int,
    slots: Sequence[Slot],
    tree_select: str = "fading",
    impulse_at: int | None = None,
    start: int | None = None,
    height: int = 560,
    frame_ms: int = 650,
) -> go.Figure:
    """:func:`dilated_tree_figure` with one frame per time step, a play/pause button and an ``n`` slider.

    Frame ``n`` (named ``str(n)``) outlines exactly ``kept_cells(slots, n)``, draws their cone, lights
    the memory boxes whose cell exists, and (with ``impulse_at``) haloes every node that still
    depends on ``x[impulse_at]``: the impulse enters at the bottom and climbs to the coarse levels as
    the fine ones forget it. Everything runs in the browser (Plotly animation, no server round trip).

    Parameters
    ----------
    slots : list of Slot
        The memory, e.g. ``memory_slots("uniform", depth, kernel_size, memory_size=8)``.
    start : int, optional
        Time step shown before play is pressed (default the last, ``N - 1``); play always runs
        ``n = 0 .. N-1``.
    frame_ms : int
        Milliseconds per frame.

    Returns
    -------
    plotly.graph_objects.Figure
        The traces of :func:`dilated_tree_figure`; ``N`` frames updating :data:`ANIMATED_TRACES`.
    """
    slots = list(slots)
    start = n_samples - 1 if start is None else start
    fig = dilated_tree_figure(n_samples, depth, kernel_size, start, kept_cells(slots, start), tree_select, height,
                              slots=slots, impulse_at=impulse_at)
    animated = list(range(1, 1 + len(ANIMATED_TRACES)))  # every trace but the static connections
    fig.frames = [
        dict(name=str(n), traces=animated,
                 data=_frame_traces(n, n_samples, depth, kernel_size, kept_cells(slots, n), tree_select, slots, impulse_at,
                                   full=False),
                 layout=_frame_layout(n, n_samples, depth, kernel_size, tree_select, slots, impulse_at))
        for n in range(n_samples)
    ]
    fig.update_xaxes(showticklabels=False, title_text=None)  # the slider under the plot is the time axis
    play = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0), fromcurrent=False,
                mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=1.0, y=1.02, xanchor="right", yanchor="bottom",
                          pad=dict(t=0, r=0), showactive=False, font=dict(size=14),
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate", args=[[None], pause])])],
        sliders=[dict(active=start, x=0.0, len=1.0, y=0.0, yanchor="top", pad=dict(t=8, b=0, l=0, r=0),
                      currentvalue=dict(prefix="time step n = ", font=dict(size=14), xanchor="left"),
                      font=dict(size=14),
                      steps=[dict(label=str(n), method="animate",
                                  args=[[str(n)], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                                       transition=dict(duration=0))])
                             for n in range(n_samples)])],
        showlegend=False,  # the caption explains the colours; a legend would crowd the title on a projector
        margin=dict(b=95, t=50, r=10),
    )
    return fig
