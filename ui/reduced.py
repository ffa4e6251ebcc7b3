"""A chart drawn from reduced data says so under it and offers the exact values as a CSV download.

Figures of :mod:`multires.figures` reduce long data to their pixel budget and record it
(:func:`multires.figures.reduce.mark_reduced`). :func:`show_chart` draws any figure like
:func:`ui.charts.show`; when the figure is reduced it adds one line ("showing 1,600 of 40,960
points; …") and a download button whose CSV holds every exact value. The CSV is written only when
the button is clicked (Streamlit's deferred download), so an unclicked button costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from multires.figures.reduce import reduction_of
from ui.charts import show

__all__ = ["csv_bytes", "show_chart"]

Columns = Mapping[str, np.ndarray]


def csv_bytes(columns: Columns) -> bytes:
    """A CSV file of named columns (the header is the names); a shorter column ends in empty cells.

    >>> csv_bytes({"t": np.arange(2), "x": np.array([0.5, -1.0]), "k": np.array([3])}).decode().splitlines()
    ['t,x,k', '0,0.5,3.0', '1,-1.0,']
    """
    table = pd.DataFrame({name: pd.Series(np.asarray(values)) for name, values in columns.items()})
    return table.to_csv(index=False).encode()


def show_chart(fig: go.Figure, key: str, exact: Callable[[], Columns] | None = None, file_name: str | None = None,
               **kwargs: Any) -> Any:
    """Draw ``fig`` (:func:`ui.charts.show`); if it is reduced, say so and offer ``exact()`` as a CSV.

    ``exact`` returns the chart's exact data as named columns; it is called only when the user
    clicks the download button. Returns ``st.plotly_chart``'s value (the selection event).
    """
    event = show(fig, key=key, **kwargs)
    reduction = reduction_of(fig)
    if reduction is None or not reduction.reduced:
        return event
    if exact is None:
        st.caption(reduction.note().removesuffix("; download for all") + ".")
        return event
    note, button = st.columns([3, 2], vertical_alignment="center")
    note.caption(f"Reduced for display: {reduction.note()}.")
    with button:
        st.download_button("Exact values", lambda: csv_bytes(exact()), file_name=file_name or f"{key}.csv",
                           mime="text/csv", key=f"{key}_exact", on_click="ignore", icon=":material/download:",
                           help="A CSV file of every value of this chart, not only the points drawn.")
    return event
