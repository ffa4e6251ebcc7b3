"""Compare: every model of the session and the shipped ones; configurations over seeds, budgets, baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from multires.figures.compare import lag_r2_caption, lag_r2_figure, score_ranges_figure
from ui import defaults, state
from ui.charts import presenting, show
from ui.compare_data import model_rows, model_tables, value_range
from ui.figure_cache import Named, cached_figure
from ui.safe_text import option_label, plain
from ui.train_data import measured_baselines
from ui.uniform_test import show_uniform_test

TABLE_COLUMNS = ["name", "source", "task", "TREESELECT rule", "init", "seed", "test score", "parameters",
                 "memory slots / step", "distinct coefficients / layer", "width × layers", "training time (s)"]
BUILT_IN = ("digits", "signals", "memory")


rows = model_rows()
table, groups_by_task = model_tables(rows)

st.title("Compare models")
st.markdown("Test scores on each task's held-out split: **accuracy** for classification, mean **R²** over lags "
            "for the memory task. Models that differ only by their seed are one point with its range over seeds.")

tasks = [t for t in BUILT_IN if t in set(table["task"])] + sorted(set(table["task"]) - {*BUILT_IN, "?"})
if not tasks:
    st.info("No model records which task it was trained on, so there is nothing to chart yet. Train one on the "
            "Train page.", icon=":material/info:")
    st.stop()

trained_tasks = [t for t in tasks if any(table[(table["task"] == t)]["source"] != "shipped")]
# open on the task the user trained last, else the first
state.keep_valid("compare_task", tasks, trained_tasks[-1] if trained_tasks
                 else defaults.DEFAULT_TASK if defaults.DEFAULT_TASK in tasks else tasks[0])
controls = st.columns([3, 2])
task = controls[0].radio("Task", tasks, key="compare_task", horizontal=True, format_func=option_label,
                         help="Scores of different tasks are not comparable, so the chart shows one task's models.")
zoom = controls[1].toggle("Zoom the score axis", value=False, key="compare_zoom",
                          help="Off: the axis starts at 0, so lengths are honest. On: the axis is fitted to the "
                               "scores and its label says where it starts.")
subset = table[table["task"] == task]
if task in defaults.TASK_WORDS:
    st.caption(plain(f"Trained on {defaults.TASK_WORDS[task]}."))
groups = groups_by_task[task]
if groups.empty:
    st.info(f"No model of the {plain(task)} task has a test score.", icon=":material/info:")
    st.stop()
score_name = subset["score"].iloc[0] or "score"
x_title = "test accuracy (fraction correct)" if score_name == "accuracy" else "test mean R² over lags (1 = perfect)"
baselines = measured_baselines(task) if score_name == "accuracy" else {}

tab_names = ["Scores", "Budgets and models"] + (["Recall per lag"] if task == "memory" else [])
tabs = st.tabs(tab_names)
with tabs[0]:
    show(cached_figure(score_ranges_figure, Named((rows.name, task), groups), f"{task}: test score per configuration",
                       x_title, baselines, zoom, compact=presenting()),
         key="compare_scores")
    seeds = groups["seeds"]
    spread = ("one seed each" if seeds.max() == 1 else
              f"{seeds.min()}–{seeds.max()} seeds per configuration" if seeds.min() != seeds.max()
              else f"{seeds.max()} seeds each")
    reference = (f"Black vertical lines: {', '.join(baselines)} on the same test split (measured by the shipped study; see the legend)." if baselines
                 else "No baseline lines: no baseline method was measured on this task."
                 if score_name == "accuracy" else "")
    st.caption(f"Dot = mean over seeds ({spread}), bar = range over seeds, grey ticks = single seeds; colour = "
               f"TREESELECT rule, shape = filter initialisation. {reference}")
    slots = groups["memory slots / step"]
    distinct = groups["distinct coefficients / layer"]
    params = groups["parameters"]
    if slots.nunique() > 1 or distinct.nunique() > 1 or params.nunique() > 1:
        st.caption(f"**Budgets differ between these rows**: {value_range(slots)} slots per channel, "
                   f"{value_range(distinct)} distinct coefficients per layer, {value_range(params)} parameters "
                   "(tab *Budgets and models*). Compare rows of equal budget.")
    elif len(groups) > 1:
        st.caption(f"Every row here has the same budget: {slots.iloc[0]} slots per channel, {distinct.iloc[0]} "
                   f"distinct coefficients per layer, {params.iloc[0]:,} parameters.")
    else:
        st.caption(f"Budget: {slots.iloc[0]} slots per channel, {distinct.iloc[0]} distinct coefficients per layer, "
                   f"{params.iloc[0]:,} parameters.")

with tabs[1]:
    budget = groups[["configuration", "TREESELECT rule", "init", "seeds", "mean", "low", "high", "memory slots / step",
                     "distinct coefficients / layer", "parameters"]]
    st.dataframe(budget, key="compare_groups", hide_index=True, width="stretch", column_config={
        "configuration": st.column_config.TextColumn("configuration", width="large"),
        "mean": st.column_config.NumberColumn("mean score", format="%.3f"),
        "low": st.column_config.NumberColumn("lowest seed", format="%.3f"),
        "high": st.column_config.NumberColumn("highest seed", format="%.3f"),
        "memory slots / step": st.column_config.NumberColumn(
            "slots / channel", help="Coefficients each channel reads per time step (fading: J + 1; uniform and "
                                    "learned: M)."),
        "distinct coefficients / layer": st.column_config.NumberColumn(
            "distinct / layer", help="Distinct tree coefficients the channels of a layer read together (largest over "
                                     "layers). Equal to slots per channel for fading and uniform; learned channels "
                                     "may each pick different slots, so up to channels × M."),
    })
    st.caption(f"One row per configuration of {plain(task)}, best mean first; budgets counted both ways (per channel "
               "and per layer) plus parameters.")
    st.dataframe(table[TABLE_COLUMNS], key="compare_table", hide_index=True, width="stretch", column_config={
        "name": st.column_config.TextColumn("model", width="large"),
        "test score": st.column_config.NumberColumn("test score", format="%.3f",
                                                    help="Accuracy for classification, mean R² over lags for the "
                                                         "memory task."),
        "parameters": st.column_config.NumberColumn("parameters", format="%d"),
        "memory slots / step": st.column_config.NumberColumn("slots / channel"),
        "distinct coefficients / layer": st.column_config.NumberColumn("distinct / layer"),
        "width × layers": st.column_config.TextColumn("W × L", help="Width (channels) × layers."),
        "training time (s)": st.column_config.NumberColumn("time (s)", format="%.1f"),
    })
    st.caption("Every model of every task, one row each (sort by any column). Rows can differ in slots per channel, "
               "distinct coefficients per layer and parameters: read those columns before comparing scores.")

if task == "memory":
    with tabs[2]:
        curves = [row for row in subset.to_dict("records") if row["lags"] and row["r2 per lag"]]
        if curves:
            show(cached_figure(lag_r2_figure, Named((rows.name, task, "curves"), curves)), key="compare_lag_r2")
            st.caption("Colour = TREESELECT rule, dash = initialisation (solid wavelet init, dashed frozen, dotted random); "
                       "almost exact means R² at least 0.9, poor below 0.5. " + lag_r2_caption(curves))
        else:
            st.info("These models' metrics have no per-lag R²; models trained on the Train page record it.",
                    icon=":material/info:")

show_uniform_test("compare_uniform_test")  # the distant-windows comparison (ui/uniform_test.py)

if not presenting():
    st.caption(f"{len(subset)} model(s) of {plain(task)} in {len(groups)} configuration(s); "
               f"{int(np.isfinite(subset['test score'].astype(float)).sum())} with a test score.")
