"""Study: TREESELECT rules and filter inits over seeds, from a shipped or uploaded results table."""

from __future__ import annotations

import hashlib

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from multires.figures.study import DEFAULT_INIT, budget_figure, init_figure
from multires.plaintext import short
from multires.study.grid import GRID_PRESETS
from multires.study.results import StudyResultsError, read_results, summarise
from ui import models, state
from ui.charts import presenting, show
from ui.figure_cache import HASH_NAMED, Named, cached_figure
from ui.safe_text import plain
from ui.study_answers import render_answers
from ui.train_data import BASELINES_CSV, measured_baselines, task_label
from ui.upload_cache import upload_cache
from ui.upload_worker import UploadCheckError, read_study_table

STUDIES_DIR = models.ROOT / "assets" / "studies"
UPLOAD = "Upload a results file"
_UNFINISHED_KEY = "study_upload_unfinished"  # session_state: (file id, message) of a check that could not finish
BUDGET_AXES = {"distinct": "Distinct coefficients per layer", "per_channel": "Slots per channel (M)"}


@st.cache_data(show_spinner=False, max_entries=8)
def _shipped(path: str, modified: float) -> pd.DataFrame:
    """A shipped results table (re-read when the file changes)."""
    return read_results(path)


def _uploaded(data: bytes, digest: str, file_id: str) -> pd.DataFrame | str:
    """The upload's table, or the reason it is refused; kept by digest in the server's byte-bounded
    upload cache (ui.upload_cache), so neither is worked out again on a rerun. The table is read and
    checked in a worker process (ui.upload_worker); a check that could not finish is remembered for this
    upload (``file_id``) only, so a new upload of the file tries again."""
    def build() -> pd.DataFrame | str:
        try:
            return read_study_table(data)
        except StudyResultsError as err:
            return str(err)

    unfinished = state.get(_UNFINISHED_KEY)
    if unfinished is not None and unfinished[0] == file_id:
        return unfinished[1]
    try:
        return upload_cache().get_or_build(("study", digest), build)
    except UploadCheckError as err:
        state.put(_UNFINISHED_KEY, (file_id, str(err)))
        return str(err)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=HASH_NAMED)
def _summary(shown: Named, budget: str) -> pd.DataFrame:
    """The table under the charts: the shown trials by rule, memory size and init."""
    return summarise(shown.value, by=("tree_select", "memory_size", "init"), budget=budget)


def _budget_chart(shown: pd.DataFrame, task: str, budget: str, init: str, width: int,
                  levels: dict[str, float], compact: bool) -> go.Figure:
    """:func:`budget_figure`, 290 px high when ``compact`` (presentation mode: the page's controls take room)."""
    fig = budget_figure(shown, task, budget, init=init, d_model=width, baselines=levels)
    if compact:  # the controls above take room: keep the whole chart on a 1280x720 screen
        fig.update_layout(height=290)
    return fig


def init_words(inits: list[str]) -> str:
    """The filter starts present in the chart, in words: "frozen at Haar or learned from Haar"."""
    words = {"frozen haar": "frozen at Haar", "learned from haar": "learned from Haar",
             "learned from random": "learned from a random start"}
    said = [words.get(i, i) for i in inits]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]


def developer_notes(grid: str | None) -> None:
    """How the study is run and re-run, with the command for the table on screen (its own grid)."""
    with st.expander("For developers"):
        preset = f"--grid {grid}" if grid in GRID_PRESETS else "--grid <preset>"
        st.markdown(f"Studies run with `python -m multires.study {preset} --out DIR` (Ray Tune); it writes "
                    "`DIR/results.csv`, which the upload above reads. Running it again with the same `--out` "
                    f"skips finished trials. Presets: {', '.join(f'`{g}`' for g in sorted(GRID_PRESETS))}. "
                    "The shipped tables are in `assets/studies/`; baselines in `assets/studies/baselines.csv`.")


st.title("Studies")
st.markdown("Sweeps over seeds: every TREESELECT rule at several memory budgets, with the filters learned or "
            "frozen. Scores are on each task's test split; points are means over seeds, bars the lowest to the "
            "highest seed. Below the charts, four questions are answered from the same table, each difference "
            "with its 95 % interval.")

#: How the shipped studies are named on the page (file stems are code names).
STUDY_LABELS = {"paired": "paired seeds", "ucr": "UCR sweep", "distant_windows": "distant windows",
                "memory": "white-noise recall"}

# The paired study first (it answers the four questions), then the earlier study over real datasets.
shipped = {p.stem: p for p in sorted(STUDIES_DIR.glob("*.csv"), key=lambda p: (p.stem != "paired", p.stem != "ucr", p.stem))
           if p.name != BASELINES_CSV.name}
source = st.radio("Results", [*shipped, UPLOAD], key="study_source", horizontal=True,
                  format_func=lambda name: STUDY_LABELS.get(name, plain(name)),
                  help="Paired seeds: the study that answers the four questions below (10 seeds, every setting on the "
                       "same seeds). UCR sweep: an earlier 3-seed sweep over rules and budgets. Distant windows: "
                       "uniform vs fading where the task needs values far back. White-noise recall: how well each "
                       "memory recalls past inputs. Or upload a results.csv / results.parquet of your own study.")
table: pd.DataFrame | None = None
table_name: tuple = ()  # changes whenever the table does: what the cached charts are found by
if source == UPLOAD:
    uploaded = st.file_uploader("The results file (.csv or .parquet) of a study you ran yourself",
                                type=["csv", "parquet"], key="study_upload",
                                help="The study writes it as results.csv in its output folder (For developers, "
                                     "at the bottom of the page, has the command).")
    if uploaded is not None:
        data = uploaded.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        outcome = _uploaded(data, digest, uploaded.file_id)
        if isinstance(outcome, str):
            st.error(plain(f"{short(uploaded.name)}: {outcome}"), icon=":material/error:")
        else:
            table, table_name = outcome, ("upload", digest)
    if table is None and shipped:
        st.info("Showing the shipped study until a valid results file is uploaded.", icon=":material/info:")
if table is None:
    if not shipped:
        st.info("No study results are shipped with this copy of the app: run a study (For developers, below) and "
                "upload its results file.", icon=":material/info:")
        developer_notes(None)
        st.stop()
    name = source if source in shipped else next(iter(shipped))
    modified = shipped[name].stat().st_mtime
    table = _shipped(str(shipped[name]), modified)
    table_name = ("shipped", str(shipped[name]), modified)

finished = table[table["status"] == "ok"]
if finished.empty:
    st.warning("The table has no finished trials (every row has status 'error').", icon=":material/warning:")
    st.stop()
tasks = sorted(finished["task"].unique())
controls = st.columns([3, 2, 2, 1])
# Real data first (a UCR set), then the synthetic tasks; names shown in words, not as code.
tasks = sorted(tasks, key=lambda t: (not str(t).startswith("ucr:"), str(t)))
task = controls[0].selectbox("Task", tasks, key="study_task", format_func=lambda t: task_label(str(t)))
rows = finished[finished["task"] == task]
budget = controls[1].radio("Budget axis", list(BUDGET_AXES), format_func=BUDGET_AXES.get, key="study_budget_axis",
                           help="Distinct coefficients per layer counts what the whole layer keeps: channels that "
                                "keep different slots count separately. Slots per channel is the paper's M.")
inits = sorted(rows["init"].unique())
init = controls[2].selectbox("Filters", inits, index=inits.index(DEFAULT_INIT) if DEFAULT_INIT in inits else 0,
                             key="study_init", help="Start (Haar or random) and whether the filters were learned.")
widths = sorted(int(w) for w in rows["d_model"].unique())
width = controls[3].selectbox("Width", widths, index=len(widths) - 1, key="study_width",
                              help="Channels per layer of the trained networks.")
is_accuracy = set(rows["metric_name"].dropna()) == {"accuracy"}
levels = measured_baselines(task) if is_accuracy else {}

# Charts and table kept by their inputs (ui.figure_cache, st.cache_data): a rerun that changes nothing rebuilds
# nothing. The trials they draw (this task, this width) are found again by the table's name, not by hashing them.
shown = Named((*table_name, task, width), rows[rows["d_model"] == width])
budget_chart = cached_figure(_budget_chart, shown, task, budget, init, width, levels, presenting())
show(budget_chart, key="study_budget")
axis_start = budget_chart.layout.yaxis.range[0] if budget_chart.layout.yaxis.range else 0
st.caption("Each rule's score at each memory budget. Ringed: the Pareto front, the settings that no setting with as "
           "little memory beats by a resolved difference (paired 95 % interval over seeds above zero); a difference "
           "inside its interval knocks nothing off. Look for the rule whose points are ringed"
           + (", and how far below the MiniRocket / 1-NN DTW lines they are." if levels else ".")
           + (f" The score axis starts at {axis_start:.2f}, not 0: small differences look large." if axis_start else ""))

show(cached_figure(init_figure, shown, task, d_model=width, baselines=levels), key="study_init_chart")
st.caption(f"The same rules with the filters {init_words(sorted(shown.value['init'].unique()))}. "
           "Where the bars of two starts overlap, the seeds do not separate them.")

with st.expander("Numbers behind the charts"):
    summary = _summary(shown, budget)
    st.dataframe(summary.rename(columns={"mean": "mean score", "min": "lowest seed", "max": "highest seed",
                                         "budget": BUDGET_AXES[budget].lower()}),
                 hide_index=True, key="study_table")
    if levels:
        st.caption("Baselines (same splits, fit on train + validation): "
                   + ", ".join(f"{plain(name)} {score:.3f}" for name, score in levels.items()))
    st.caption(f"{len(table)} trials in this table, {len(finished)} finished.")

render_answers(finished, table_name)

developer_notes(source if source in shipped else None)
