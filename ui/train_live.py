"""The Train page's live view of the active run: progress, Stop, live curves, live filters and selection.

The page draws :func:`live_view` in a fragment that reruns every ``POLL_SECONDS`` while the run is
active (``ui.training_run`` trains in a background thread and copies what these charts need).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from multires.figures.training import live_filters_figure, selection_snapshot_figure, training_curves_figure
from ui import training_run
from ui import training_runner as runner
from ui.charts import show
from ui.safe_text import plain

__all__ = ["POLL_SECONDS", "live_view", "run_header"]

POLL_SECONDS = 1.0  # redraw the live view once a second (every few steps), not after every step


def _live_filters(live: training_run.LiveFilters, initial: training_run.LiveFilters | None) -> None:
    """One layer's filters (and learned selection) as the worker last copied them."""
    layers, channels = live.h0.shape[0], live.h0.shape[1]
    pick = st.columns(2)
    layer = int(pick[0].number_input(f"Layer (0–{layers - 1})", 0, layers - 1, 0, key="train_live_layer"))
    channel = int(pick[1].number_input(f"Channel in bold (0–{channels - 1})", 0, channels - 1, 0,
                                       key="train_live_channel"))
    start = None if initial is None else (initial.h0[layer], initial.h1[layer])
    limit = 1.15 * float(max(np.abs(live.h0[layer]).max(), np.abs(live.h1[layer]).max(), 1.0))
    show(live_filters_figure(live.h0[layer], live.h1[layer], layer, live.step, channel, start, limit),
         key="train_live_filters")
    st.caption("Every channel's taps (thin), one channel bold, its start dashed: watch the learned filters leave "
               "the wavelet they started from (or, frozen, stay on it).")
    if layer in live.learned_layers:
        i = live.learned_layers.index(layer)
        mask = live.masks[i]
        show(selection_snapshot_figure(mask.mean(axis=0), live.bands[i], live.lags[i], layer, live.step, channel,
                                       mask[channel]), key="train_live_selection")
        st.caption("Learned TREESELECT right now: candidate slots drop out as training goes on until each channel "
                   "keeps M; black outlines are the bold channel's memory.")


_STOP_DRAWN_WAITING = "_train_stop_drawn_waiting"


def run_header(current: training_run.TrainingRun) -> None:
    """The run's heading and its Stop (or Cancel, while it waits in line) button, drawn by the page
    itself, outside the polled fragment: a click on a widget inside a fragment that reruns every second
    can be overtaken by the fragment's own timed rerun on a busy server, while a full-page rerun always
    carries the click. The fragment asks for a full rerun when the run leaves the line."""
    st.session_state[_STOP_DRAWN_WAITING] = current.waiting
    more = f" and {current.seeds - 1} more seed(s)" if current.seeds > 1 else ""
    st.markdown(f"**{'Waiting to train' if current.waiting else 'Training'}** “{plain(current.name)}”{more}")
    cols = st.columns([1, 5])
    cols[0].button("Cancel" if current.waiting else "Stop", key="train_stop", icon=":material/stop:",
                   on_click=current.request_stop, disabled=current.stop_event.is_set(), width="stretch")
    if current.stop_event.is_set():
        cols[1].caption("Leaving the line…" if current.waiting else "Stopping after the current step…")


def live_view() -> None:
    """Progress, live curves and live filters of the active run (redrawn every POLL_SECONDS)."""
    current = runner.current_run()
    if current is None:
        return
    if not current.active:
        st.rerun()  # full rerun: the finished models join the session and the sidebar
    curves = current.curves()
    last = curves["last"]
    seed_text = f"Seed {current.seed_index + 1}/{current.seeds} · " if current.seeds > 1 else ""
    if current.waiting:
        st.info(current.waiting_text() or "Waiting for a free training slot…", icon=":material/hourglass_top:")
        st.caption(f"At most {training_run.MAX_CONCURRENT_RUNS} runs train at once on this server, first come first "
                   "served: yours starts by itself when a slot frees. Cancel leaves the line.")
    elif last is None:
        st.progress(0.0, text=f"{seed_text}Loading the task and building the model…")
    else:
        bound = current.config.max_seconds or float("inf")
        fraction = min(1.0, max(last.fraction, last.elapsed / bound))
        asked = current.config.epochs
        raised = (f" (you asked for {asked}; raised so the run has at least {current.config.min_steps} steps)"
                  if last.epochs > asked else "")
        st.progress(fraction, text=(f"{seed_text}Epoch {last.epoch + 1} of {last.epochs} planned{raised} · step "
                                    f"{last.step} of {last.total_steps} · {last.elapsed:.0f} s of at most {bound:.0f} s"))
    if current.waiting != st.session_state.get(_STOP_DRAWN_WAITING):
        st.rerun()  # the run left the line: redraw the button outside this fragment as "Stop"
    panels = st.columns(2, gap="medium")  # curves beside the filters, in presentation mode too
    if last is not None:
        with panels[0]:
            loss_name = "cross entropy" if last.metric_name == "accuracy" else "MSE"
            bound = current.config.max_seconds or float("inf")
            by_time = last.step * bound / max(last.elapsed, 1e-9)  # where the time bound will end the run
            end = int(min(last.total_steps, max(by_time * 1.05, last.step + 1)))
            show(training_curves_figure(curves["steps"], curves["loss"], curves["metric"], last.metric_name,
                                        curves["val_steps"], curves["val_metric"], end, loss_name,
                                        compact=True), key="train_live_chart")
            st.caption("Loss should fall and the training score rise (batch statistics); the validation points "
                       "(epoch ends, eval mode) show whether it generalises.")
    if curves["live"] is not None:
        with panels[1]:
            _live_filters(curves["live"], curves["initial"])
