"""The Train page's Results tab: any model with a recorded training history, its curves and selection history.

Charts are kept by their inputs (:func:`ui.figure_cache.cached_figure`): a rerun that changes
nothing rebuilds none of them.
"""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from multires.figures.training import (
    selection_history_figure,
    selection_snapshot_figure,
    training_curves_figure,
)
from multires.training import SelectionSnapshot, TrainHistory
from ui import pickers
from ui.charts import show
from ui.figure_cache import cached_figure
from ui.models import ModelEntry, all_models
from ui.training_runner import RESULTS_MODEL_KEY

__all__ = ["epoch_end_steps", "results_tab"]


def _history(entry: ModelEntry) -> tuple[dict, list[SelectionSnapshot]] | None:
    """Curves (as TrainHistory.compact() gives them) and selection snapshots of a model, if recorded."""
    history = entry.extra.get("history")
    curves = history.compact(points=400) if isinstance(history, TrainHistory) else entry.metrics.get("history")
    if not curves or not curves.get("step"):
        return None
    snapshots = entry.extra.get("selection_history")
    if snapshots is None:
        try:
            snapshots = [SelectionSnapshot.from_dict(d) for d in entry.metrics.get("selection_history") or []]
        except (KeyError, TypeError, ValueError):
            snapshots = []
    return curves, list(snapshots)


def epoch_end_steps(curves: dict, metrics: dict, total_steps: int) -> list[int]:
    """Optimizer steps at each recorded epoch's end, where the validation points go.

    The history records them (``epoch_step``). Checkpoints from before it did split the run's steps
    evenly over its epochs: ``total_epochs`` when recorded (``min_steps`` can raise it above
    ``epochs``), else ``epochs`` (those runs had no ``min_steps``).
    """
    epochs_run = len(curves.get("epoch_val") or [])
    recorded = curves.get("epoch_step") or []
    if len(recorded) == epochs_run:
        return [int(step) for step in recorded]
    epochs = int(metrics.get("total_epochs") or metrics.get("epochs") or epochs_run or 1)
    per_epoch = total_steps / max(1, epochs)
    return [round(per_epoch * (i + 1)) for i in range(epochs_run)]


def _selection_history(entry: ModelEntry, snapshots: list[SelectionSnapshot]) -> None:
    st.subheader("How the learned selection moved during training")
    learned_layers = [i for i, conv in enumerate(entry.net.convs) if conv.tree_select == "learned"]
    pick = st.columns([1, 3], gap="large")
    position = pick[0].selectbox("Learned layer", range(len(learned_layers)), key="train_sel_layer",
                                 format_func=lambda i: f"layer {learned_layers[i]}")
    layer_index = learned_layers[position]
    conv = entry.net.convs[layer_index]
    # An uploaded file's snapshots may not match its layers (another candidate menu): those are not drawn.
    snapshots = [s for s in snapshots if len(s.masks) == len(learned_layers)
                 and s.masks[position].shape == (conv.channels, len(conv.slots))]
    if not snapshots:
        st.info(f"The recorded selection snapshots of layer {layer_index} do not match its {len(conv.slots)} "
                "candidate slots, so they cannot be drawn.", icon=":material/info:")
        return
    bands = [f"{'a' if s.band == 'approx' else 'b'}{s.level}" for s in conv.slots]
    lags = [s.lag for s in conv.slots]
    steps = [s.step for s in snapshots]
    kept = np.stack([s.masks[position].mean(axis=0) for s in snapshots])  # (S candidates)
    show(cached_figure(selection_history_figure, steps, kept, bands, layer_index, conv.memory_size),
         key="train_sel_history")
    st.caption("Columns are snapshots during training (left: start, every candidate slot kept). Read down a "
               "column to see how many slots each tree band keeps per channel; by the end they add up to M.")
    chosen_step = pick[1].select_slider("Snapshot (optimizer step)", steps, value=steps[-1], key="train_sel_step")
    index = steps.index(chosen_step)
    mask = snapshots[index].masks[position]  # (C candidates)
    channel = min(pickers.selection().channel, mask.shape[0] - 1)
    show(cached_figure(selection_snapshot_figure, kept[index], bands, lags, layer_index, chosen_step, channel,
                       mask[channel]), key="train_sel_snapshot")
    st.caption(f"Every candidate slot at its place in the tree (lag behind n across, band down); darker = kept by "
               f"more channels. Black outlines: channel {channel}'s memory (the sidebar's channel).")


def results_tab(run_active: bool) -> None:
    """The Results tab: curves, test score, selection history and checkpoint of any model with a history
    (while a run is active, only a note that its results come when it ends)."""
    models = all_models()
    with_history = [name for name, e in models.items() if _history(e) is not None]
    if run_active:
        st.caption("The run's curves, test score, selection history and checkpoint appear here when it ends.")
    elif not with_history:
        st.info("No model with a recorded training history yet: train one in *Set up a run*.", icon=":material/info:")
    else:
        sidebar_model = pickers.selection().entry.name
        if st.session_state.get(RESULTS_MODEL_KEY) not in with_history:
            st.session_state[RESULTS_MODEL_KEY] = sidebar_model if sidebar_model in with_history else with_history[-1]
        chosen = st.selectbox("Model", with_history, key=RESULTS_MODEL_KEY,
                              format_func=lambda n: f"{n}  ·  {models[n].source}")
        entry = models[chosen]
        curves, snapshots = _history(entry)
        metrics = entry.metrics
        metric_name = metrics.get("metric_name", "accuracy")
        cols = st.columns(5)
        test_metric = metrics.get("test_metric")
        cols[0].metric("Test accuracy" if metric_name == "accuracy" else "Test mean R²",
                       "—" if test_metric is None else f"{test_metric:.3f}")
        cols[1].metric("Parameters", f"{entry.model.n_parameters():,}",
                       help=None if entry.n_members == 1 else f"All {entry.n_members} models of the ensemble together.")
        cols[2].metric("Slots per channel", entry.net.convs[0].n_slots, help="Memory slots per channel and time step.")
        cols[3].metric("Training time", f"{metrics.get('train_time_s', float('nan')):.1f} s")
        cols[4].metric("Steps", f"{metrics.get('steps', '?')}/{metrics.get('total_steps', '?')}",
                       help="Fewer than planned when Stop or the time bound ended the run.")
        total_steps = int(metrics.get("total_steps") or curves["step"][-1])
        val_steps = epoch_end_steps(curves, metrics, total_steps)
        loss_name = "cross entropy" if metric_name == "accuracy" else "MSE"
        show(cached_figure(training_curves_figure, curves["step"], curves["loss"], curves["metric"], metric_name,
                           val_steps, curves.get("epoch_val") or [], total_steps, loss_name),
             key="train_result_curves")
        st.caption("The whole run: training loss and running score per step, validation score at each epoch's end. "
                   "A widening gap between training and validation means over-fitting.")
        if snapshots:
            _selection_history(entry, snapshots)

        from multires.training.ensemble import model_bytes

        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", chosen).strip("_") or "model"
        st.download_button("Download checkpoint (.safetensors)", data=lambda: model_bytes(entry.model, entry.metrics),
                           file_name=f"{slug}.safetensors", mime="application/octet-stream", key="train_download",
                           icon=":material/download:",
                           help="Weights, config and metrics in one safetensors file; load it here or with "
                                "multires.checkpoint.load_checkpoint.")
