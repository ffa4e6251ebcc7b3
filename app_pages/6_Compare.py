"""Compare: every model of the session and the shipped ones, in one table and three charts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from multires.figures.training import grouped_metric_figure, lag_r2_figure, summary_row
from ui import state


TABLE_COLUMNS = ["name", "source", "task", "strategy", "init", "test score", "parameters",
                 "memory slots / step", "width × layers", "training time (s)"]

models = state.all_models()
rows = [summary_row(name, e.source, e.config, e.metrics, e.net.n_parameters(), e.net.convs[0].n_slots)
        for name, e in models.items()]
table = pd.DataFrame(rows)

st.title("Compare models")
st.markdown(
    "Every shipped model and every model you trained or uploaded in this session. Test scores are on the same "
    "held-out split of each task (seed 0): **accuracy** for the classification tasks, mean **R²** over lags "
    "for the memory task."
)

st.dataframe(
    table[TABLE_COLUMNS],
    key="compare_table",
    hide_index=True,
    width="stretch",
    column_config={
        "name": st.column_config.TextColumn("model", width="medium"),
        "source": st.column_config.TextColumn("source", width="small"),
        "task": st.column_config.TextColumn("task", width="small"),
        "strategy": st.column_config.TextColumn("strategy", width="small"),
        "test score": st.column_config.NumberColumn("test score", format="%.3f", width="small",
                                                    help="Accuracy for digits and signals, mean R² over lags for "
                                                         "the memory task."),
        "parameters": st.column_config.NumberColumn("parameters", format="%d", width="small"),
        "width × layers": st.column_config.TextColumn("W × L", width="small", help="Width (channels) × layers."),
        "memory slots / step": st.column_config.NumberColumn(
            "slots / step", width="small", help="Coefficients kept per channel and time step (fading: J+1; uniform and "
                                        "learned: M)."),
        "training time (s)": st.column_config.NumberColumn("time (s)", format="%.1f", width="small",
                                                           help="Training time in seconds."),
    },
)
st.caption("Sort by any column (click its header). Same task, same budget of memory slots: compare the test "
           "score across strategies and initialisations.")

tasks = [t for t in ("digits", "signals", "memory") if t in set(table["task"])] + sorted(
    set(table["task"]) - {"digits", "signals", "memory", "?"})
if not tasks:
    st.info("No model records which task it was trained on, so there is nothing to chart yet. Train one on the "
            "Train page.", icon=":material/info:")
    st.stop()

controls = st.columns([2, 3])
task = controls[0].radio("Task to chart", tasks, key="compare_task", horizontal=True,
                         help="Scores of different tasks are not comparable, so each chart shows one task's models.")
zoom = controls[1].toggle("Zoom in on the scores (dots instead of bars from 0)", value=True, key="compare_zoom",
                          help="Close scores such as 0.94 and 0.99 look identical as bars from 0; dots on a fitted "
                               "axis separate them.")
subset = table[(table["task"] == task) & np.isfinite(table["test score"].astype(float))]
if subset.empty:
    st.info(f"No model of the {task} task has a test score.", icon=":material/info:")
    st.stop()
score_title = subset["score"].iloc[0] or "score"
x_title = "test accuracy (fraction correct)" if score_title == "accuracy" else "test mean R² over lags (1 = perfect)"

st.plotly_chart(grouped_metric_figure(subset, "init kind", f"{task}: learned vs fixed wavelets", x_title, zoom),
                key="compare_by_init")
st.caption("Grey: random filters; light blue: started at a wavelet and learned; pink: wavelet kept frozen. "
           "Does learning the filters beat the fixed wavelet, and does a wavelet start beat random?")
st.plotly_chart(grouped_metric_figure(subset, "strategy", f"{task}: fading vs uniform vs learned memory", x_title,
                                      zoom),
                key="compare_by_strategy")
st.caption("The same models grouped by TREESELECT strategy (blue fading, orange uniform, green learned): which "
           "choice of kept coefficients serves this task best at the same budget?")

curves = [row for row in subset.to_dict("records") if row["lags"] and row["r2 per lag"]]
if curves:
    st.plotly_chart(lag_r2_figure(curves), key="compare_lag_r2")
    st.caption("Colour = strategy, dash = initialisation (solid wavelet init, dashed frozen, dotted random). "
               "Fading should recall recent lags sharply and fade with distance; uniform spreads its budget more evenly.")
elif task == "memory":
    st.info("These models' metrics have no per-lag R²; models trained on the Train page record it.",
            icon=":material/info:")
