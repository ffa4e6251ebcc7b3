"""Figures of the coefficient tree: the dilated tree as a graph, the tree as a heatmap, per-level views.

Every builder takes plain data (numpy arrays, lists of ``(label, values)`` rows as returned by
:meth:`multires.CoefficientTree.rows`, lists of kept cells) and returns a ``plotly`` Figure.

Examples
--------
>>> import numpy as np
>>> from multires import coefficient_tree, memory_slots, kept_cells
>>> tree = coefficient_tree(np.sin(np.arange(32) / 3), [0.7071, 0.7071], [0.7071, -0.7071], depth=3)
>>> cells = kept_cells(memory_slots("fading", 3, 2), n=20)
>>> fig = tree_heatmap(tree.rows(), "Tree", kept={"fading": cell_coords(cells)}, n=20)
>>> [t.name for t in fig.data]
['coefficients', 'kept by resolution fading']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..treeselect import Slot
from .style import BAND_COLORS, FILTER_COLORS, STRATEGY_COLORS, STRATEGY_LABELS, finish

__all__ = [
    "signal_figure",
    "cell_label",
    "cell_coords",
    "dilated_tree_figure",
    "tree_heatmap",
    "level_traces",
    "level_energy",
    "normalized_level_energy",
    "pool_columns",
    "envelope",
    "KEPT_MARKER_SIZES",
]

Rows = Sequence[tuple[str, np.ndarray]]
Cells = Sequence[tuple[str, int]]

#: Longer signals are pooled for display: a heatmap column / a trace point stands for several samples.
MAX_HEATMAP_COLUMNS = 2048
MAX_TRACE_POINTS = 4096

#: Open-square marker size per strategy, so that cells kept by several strategies show nested squares.
KEPT_MARKER_SIZES: dict[str, int] = {"fading": 19, "uniform": 14, "learned": 9}
_GREY = "#9a9a9a"


def cell_label(slot: Slot) -> str:
    """Row label of the tree band a slot reads: ``"a4"`` for ``a_4``, ``"b2"`` for ``b_2``.

    >>> cell_label(Slot("detail", 2, 4))
    'b2'
    """
    return f"{'a' if slot.band == 'approx' else 'b'}{slot.level}"


def cell_coords(cells: Sequence[tuple[Slot, int]]) -> list[tuple[str, int]]:
    """``(row label, time)`` of every cell from :func:`multires.kept_cells`, in the same order."""
    return [(cell_label(slot), int(t)) for slot, t in cells]


def _strategy_name(strategy: str) -> str:
    return STRATEGY_LABELS.get(strategy, strategy)


def signal_figure(values: np.ndarray, name: str, height: int = 240) -> go.Figure:
    """The input signal on its own, for context above its tree.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace named ``"x"``.
    """
    values = np.asarray(values, dtype=np.float64)
    t, v = envelope(values)
    fig = go.Figure(go.Scatter(x=t, y=v, mode="lines", name="x", line=dict(color="#333333", width=1.4),
                               hovertemplate="x[%{x}] = %{y:.4g}<extra></extra>"))
    return finish(fig, f"Signal: {name} ({values.size} samples)", "time t (samples)", "amplitude",
                  height=height, legend=False)


def _buckets(n: int, max_out: int) -> int:
    return max(1, -(-n // max_out))


def pool_columns(values: np.ndarray, max_columns: int = MAX_HEATMAP_COLUMNS) -> tuple[np.ndarray, np.ndarray, int]:
    """Shrink ``(rows, N)`` to at most ``max_columns`` columns, keeping each bucket's largest ``|value|``.

    Returns the bucket centres (samples), the pooled ``(rows, N')`` values and the bucket size.

    >>> t, v, size = pool_columns(np.array([[1.0, -3.0, 2.0, 0.5]]), max_columns=2)
    >>> t.tolist(), v.tolist(), size
    ([0.5, 2.5], [[-3.0, 2.0]], 2)
    """
    values = np.atleast_2d(values)
    n = values.shape[1]
    size = _buckets(n, max_columns)
    if size == 1:
        return np.arange(n, dtype=float), values, 1
    count = -(-n // size)
    padded = np.pad(values, ((0, 0), (0, count * size - n)))
    blocks = padded.reshape(values.shape[0], count, size)
    pick = np.abs(blocks).argmax(axis=2)
    pooled = np.take_along_axis(blocks, pick[..., None], axis=2)[..., 0]
    centres = np.arange(count) * size + (np.minimum(size, n - np.arange(count) * size) - 1) / 2
    return centres, pooled, size


def envelope(values: np.ndarray, max_points: int = MAX_TRACE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Min/max envelope of a long 1-D series, at most ``max_points`` points, in time order.

    >>> t, v = envelope(np.array([0.0, 5.0, -1.0, 2.0, 3.0, 1.0]), max_points=4)
    >>> t.tolist(), v.tolist()
    ([1, 2, 4, 5], [5.0, -1.0, 3.0, 1.0])
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    size = _buckets(n, max(2, max_points // 2))
    if size == 1:
        return np.arange(n), values
    times = []
    for start in range(0, n, size):
        block = values[start : start + size]
        times += sorted({start + int(block.argmin()), start + int(block.argmax())})
    times = np.asarray(times)
    return times, values[times]


# --- the paper's Figure 2: the dilated tree as a graph ------------------------------------------


def _sources(t: int, level: int, kernel_size: int) -> list[tuple[int, int]]:
    """``(tap i, time)`` of the ``a_{level-1}`` samples that ``a_level[t]`` and ``b_level[t]`` combine."""
    dilation = 2 ** (level - 1)
    out = []
    for i in range(kernel_size):
        s = t - (kernel_size - 1 - i) * dilation
        if s >= 0:  # earlier samples are the causal zero padding: no node, no edge
            out.append((i, s))
    return out


def dilated_tree_figure(
    n_samples: int,
    depth: int,
    kernel_size: int,
    n: int,
    kept: Sequence[tuple[Slot, int]] = (),
    strategy: str = "fading",
    height: int = 560,
) -> go.Figure:
    """The causal dilated tree as nodes and edges, with the memory kept at time ``n`` outlined.

    Row 0 holds the input ``x``; row ``l`` holds ``a_l[t]`` (circle, left) and ``b_l[t]`` (square,
    right) for every time ``t``. Both combine the same ``k`` samples of ``a_{l-1}``, spaced by the
    dilation ``2**(l-1)``: through the shared lowpass ``h0`` into ``a_l`` and the shared highpass
    ``h1`` into ``b_l``. Faint edges show every connection; the computation that produces the kept
    cells (their *cone*, down to the input samples it reads) is drawn in the two filter colours.
    Nodes after ``n`` are faded: they do not exist yet at time ``n``.

    Parameters
    ----------
    n_samples, depth, kernel_size : int
        ``N``, ``J``, ``k`` (keep ``N`` small, e.g. 16, so nodes stay readable).
    n : int
        Current time step, ``0 <= n < N``.
    kept : list of (Slot, int)
        Cells kept at time ``n``, as returned by :func:`multires.kept_cells`.
    strategy : str
        Key of :data:`STRATEGY_COLORS`, for the outline colour and the legend.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces named ``"all connections"``, ``"h0 (lowpass, shared)"``, ``"h1 (highpass, shared)"``,
        ``"input x"``, ``"a (approximation)"``, ``"b (detail)"`` and ``"kept by <strategy>"``.
    """
    if not 0 <= n < n_samples:
        raise ValueError(f"n must be in 0..{n_samples - 1}, got {n}")
    offset = 0.2  # a_l[t] sits left of t, b_l[t] right of it

    def position(band: str, level: int, t: int) -> tuple[float, float]:
        if level == 0:
            return float(t), 0.0
        return (t - offset if band == "approx" else t + offset), float(level)

    # The cone: every edge that contributes to a kept cell, found top-down level by level.
    needed_a: set[tuple[int, int]] = set()  # (level, t) of approximations that must be computed
    cone_edges: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {"h0": [], "h1": []}
    for slot, t in kept:
        if slot.band == "approx":
            needed_a.add((slot.level, t))
        else:
            for _, s in _sources(t, slot.level, kernel_size):
                cone_edges["h1"].append((position("approx", slot.level - 1, s), position("detail", slot.level, t)))
                needed_a.add((slot.level - 1, s))
    for level in range(depth, 0, -1):
        for lvl, t in sorted(needed_a):
            if lvl != level:
                continue
            for _, s in _sources(t, level, kernel_size):
                cone_edges["h0"].append((position("approx", level - 1, s), position("approx", level, t)))
                needed_a.add((level - 1, s))

    def segments(pairs):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for (x0, y0), (x1, y1) in pairs:
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        return xs, ys

    all_edges = []
    for level in range(1, depth + 1):
        for t in range(n_samples):
            for _, s in _sources(t, level, kernel_size):
                src = position("approx", level - 1, s)
                all_edges.append((src, position("approx", level, t)))
                all_edges.append((src, position("detail", level, t)))

    fig = go.Figure()
    xs, ys = segments(all_edges)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="all connections", hoverinfo="skip",
                             line=dict(color="rgba(120,120,120,0.22)", width=1)))
    for key, label in (("h0", "h0 (lowpass, shared)"), ("h1", "h1 (highpass, shared)")):
        xs, ys = segments(cone_edges[key])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=label, hoverinfo="skip",
                                 line=dict(color=FILTER_COLORS[key], width=2.6)))

    def opacity(t: int) -> float:
        return 1.0 if t <= n else 0.25

    times = np.arange(n_samples)
    fig.add_trace(go.Scatter(
        x=times, y=np.zeros(n_samples), mode="markers", name="input x",
        marker=dict(size=11, color="#444444", opacity=[opacity(t) for t in times]),
        hovertemplate="x[%{x}]<extra></extra>",
    ))
    for band, symbol, label, letter, filt in (("approx", "circle", "a (approximation)", "a", "h0"),
                                               ("detail", "square", "b (detail)", "b", "h1")):
        px, py, text, op = [], [], [], []
        for level in range(1, depth + 1):
            for t in range(n_samples):
                x, y = position(band, level, t)
                px.append(x)
                py.append(y)
                src = ", ".join(f"{'x' if level == 1 else f'a{level - 1}'}[{s}]"
                                for _, s in _sources(t, level, kernel_size))
                text.append(f"{letter}{level}[{t}] = {filt} · ({src})")
                op.append(opacity(t))
        fig.add_trace(go.Scatter(
            x=px, y=py, mode="markers", name=label, text=text, hovertemplate="%{text}<extra></extra>",
            marker=dict(size=9, symbol=symbol, color=BAND_COLORS[band], opacity=op,
                        line=dict(color="white", width=1)),
        ))

    kx, ky, ktext = [], [], []
    for slot, t in kept:
        x, y = position(slot.band, slot.level, t)
        kx.append(x)
        ky.append(y)
        ktext.append(f"{slot} = {cell_label(slot)}[{t}]")
    color = STRATEGY_COLORS.get(strategy, "#000000")
    fig.add_trace(go.Scatter(
        x=kx, y=ky, mode="markers", name=f"kept by {_strategy_name(strategy)}", text=ktext,
        hovertemplate="%{text}<extra></extra>",
        marker=dict(size=19, symbol="circle-open", color=color, line=dict(width=3, color=color)),
    ))
    fig.add_vrect(x0=n - 0.45, x1=n + 0.45, fillcolor=color, opacity=0.08, line_width=0)
    fig.add_annotation(x=n, y=depth + 0.45, text=f"n = {n}", showarrow=False, font=dict(color=color, size=14))

    ticktext = ["input x"] + [f"level {lvl}  (dilation {2 ** (lvl - 1)})" for lvl in range(1, depth + 1)]
    fig.update_yaxes(tickvals=list(range(depth + 1)), ticktext=ticktext, range=[-0.5, depth + 0.75],
                     showgrid=False, zeroline=False)
    fig.update_xaxes(tickvals=list(range(n_samples)), range=[-0.7, n_samples - 0.3], showgrid=False,
                     zeroline=False)
    finish(fig, f"The dilated tree at time n = {n}: memory kept by {_strategy_name(strategy)}",
           "time t (samples)", "tree level", height=height)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="center", x=0.5),
                      margin=dict(b=90))
    return fig


# --- the coefficient tree as a heatmap ----------------------------------------------------------


def tree_heatmap(
    rows: Rows,
    title: str,
    kept: Mapping[str, Cells] | None = None,
    n: int | None = None,
    normalize_rows: bool = True,
    x_range: tuple[float, float] | None = None,
    height: int | None = None,
    start: int = 0,
) -> go.Figure:
    """Levels-by-time heatmap of the tree (rows ``a_J, b_J, ..., b_1`` top to bottom).

    Parameters
    ----------
    rows : list of (str, ndarray (N,))
        ``CoefficientTree.rows()``: labels and coefficients in display order.
    title : str
    kept : dict strategy -> list of (row label, time), optional
        Cells to outline, one open-square trace per strategy in its colour
        (use :func:`cell_coords` on :func:`multires.kept_cells`).
    n : int, optional
        Current time step, marked by a dashed vertical line.
    normalize_rows : bool
        Divide each row by its largest ``|coefficient|`` so fine, small details stay visible next
        to the large coarse approximation (hover shows the true value either way).
    x_range : (float, float), optional
        Visible time range (samples); default the whole signal.
    start : int
        Time of the rows' first column, when they are a window ``[start, start + N')`` of the tree.
        Signals longer than :data:`MAX_HEATMAP_COLUMNS` are pooled: each column then shows the
        largest ``|coefficient|`` of its bucket of samples.

    Returns
    -------
    plotly.graph_objects.Figure
        A ``"coefficients"`` heatmap trace, then one ``"kept by ..."`` scatter per strategy.
    """
    labels = [label for label, _ in rows]
    times, values, bucket = pool_columns(np.vstack([np.asarray(v, dtype=np.float64) for _, v in rows]))  # (J+1, N')
    times = times + start
    if bucket > 1:
        title += f" · 1 column = {bucket} samples"
    if normalize_rows:
        scale = np.abs(values).max(axis=1, keepdims=True)
        z = values / np.where(scale > 0, scale, 1.0)
        zmax = 1.0
        bar_title = "÷ row<br>max |c|"
    else:
        z = values
        zmax = float(np.abs(values).max()) or 1.0
        bar_title = "coefficient"
    fig = go.Figure(go.Heatmap(
        z=z, x=times, y=labels, customdata=values, name="coefficients",
        colorscale="RdBu_r", zmid=0.0, zmin=-zmax, zmax=zmax,
        colorbar=dict(title=dict(text=bar_title, side="top", font=dict(size=11)), thickness=10,
                      tickfont=dict(size=11), xpad=4),
        hovertemplate=("%{y}[%{x}] = %{customdata:.4g}" if bucket == 1
                       else f"%{{y}} near t = %{{x:.0f}}: %{{customdata:.4g}} (largest |c| of {bucket})")
        + "<extra></extra>",
    ))
    for strategy, cells in (kept or {}).items():
        color = STRATEGY_COLORS.get(strategy, "#000000")
        fig.add_trace(go.Scatter(
            x=[t for _, t in cells], y=[label for label, _ in cells], mode="markers",
            name=f"kept by {_strategy_name(strategy)}",
            marker=dict(symbol="square-open", size=KEPT_MARKER_SIZES.get(strategy, 12), color=color,
                        line=dict(width=2.5, color=color)),
            hovertemplate="%{y}[%{x}]<extra>" + _strategy_name(strategy) + "</extra>",
        ))
    if n is not None:  # the title names n; a text label here would collide with the legend
        fig.add_vline(x=n, line=dict(color="#333333", width=1.5, dash="dash"))
    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array", categoryarray=labels)
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))
    return finish(fig, title, "time t (samples)", "tree level",
                  height=height or max(300, 110 + 30 * len(labels)))


# --- per-level views ----------------------------------------------------------------------------


def level_traces(rows: Rows, title: str, height_per_row: int = 62) -> go.Figure:
    """Small multiples: one line per tree row (``a_J`` on top), sharing the time axis.

    Returns
    -------
    plotly.graph_objects.Figure
        ``len(rows)`` line traces named by their row labels.
    """
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.012)
    for i, (label, values) in enumerate(rows, start=1):
        band = "approx" if label.startswith("a") else "detail"
        t, v = envelope(values)
        fig.add_trace(go.Scatter(x=t, y=v, mode="lines", name=label,
                                 line=dict(color=BAND_COLORS[band], width=1.2),
                                 hovertemplate=label + "[%{x}] = %{y:.4g}<extra></extra>"), row=i, col=1)
        fig.update_yaxes(title_text=label, title_standoff=4, row=i, col=1, nticks=3, tickfont=dict(size=10))
    finish(fig, title, None, None, height=110 + height_per_row * len(rows), legend=False)
    fig.update_xaxes(title_text="time t (samples)", row=len(rows), col=1)
    fig.update_layout(margin=dict(l=70))
    return fig


def normalized_level_energy(rows: Rows) -> np.ndarray:
    """Energy of each row divided by ``2**level``: for an orthogonal wavelet these sum to ``||x||^2``.

    The undecimated tree repeats each level-``l`` coefficient ``2**l`` times, so its raw energy
    doubles per level; dividing undoes that (exactly, away from the causal zero padding).

    >>> normalized_level_energy([("a1", np.array([1.0, 1.0])), ("b1", np.array([2.0, 0.0]))]).tolist()
    [1.0, 2.0]
    """
    return np.array([float(np.sum(np.asarray(v, dtype=np.float64) ** 2)) / 2 ** int(label[1:])
                     for label, v in rows])


def level_energy(rows: Rows, title: str, height: int = 340) -> go.Figure:
    """Bar chart of each row's share of the (level-normalised) energy, in percent.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace with one bar per row, ``a_J`` first.
    """
    energy = normalized_level_energy(rows)
    share = 100 * energy / (energy.sum() or 1.0)
    labels = [label for label, _ in rows]
    colors = [BAND_COLORS["approx" if lab.startswith("a") else "detail"] for lab in labels]
    fig = go.Figure(go.Bar(
        x=labels, y=share, marker_color=colors, name="energy share",
        text=[f"{s:.1f}%" for s in share], textposition="outside", cliponaxis=False, textfont=dict(size=11),
        customdata=energy, hovertemplate="%{x}: %{y:.2f}% (Σc²/2^l = %{customdata:.4g})<extra></extra>",
    ))
    fig.update_yaxes(range=[0, max(5.0, float(share.max()) * 1.18)])
    fig.update_layout(uniformtext=dict(minsize=9, mode="show"))
    return finish(fig, title, "tree level", "share of energy (%)", height=height, legend=False)
