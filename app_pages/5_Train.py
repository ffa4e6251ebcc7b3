"""Train: a small MultiresConv model in the browser session, live curves, Stop, checkpoint download/upload.

Training runs in a background thread of this session (``ui.training_runner``); this page starts it,
polls it every half second with a fragment while it runs, and adds the finished model to the
session's models (it then shows on every page).
"""

from __future__ import annotations

import re

import numpy as np
import pywt
import streamlit as st

from multires import candidate_slots, default_depth, discrete_wavelet_names, max_uniform_memory
from multires.figures.style import STRATEGY_LABELS
from multires.figures.training import selection_history_figure, selection_snapshot_figure, training_curves_figure
from multires.tasks import TASK_NAMES
from multires.training import TRAIN_LIMITS, SelectionSnapshot, TrainConfig, TrainHistory
from ui import state
from ui import training_runner as runner

DEFAULTS = TrainConfig()  # the trainer's defaults (the shipped models' recipe) start the widgets
POLL_SECONDS = 1.0  # redraw the live view once a second (every few steps), not after every step
LEARNING_RATES = tuple(sorted({1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, TrainConfig().lr}))
INITS = {"wavelet": "wavelet init, then learned", "frozen": "frozen wavelet (fixed filters)", "random": "random, learned"}
TASK_HELP = {
    "digits": "1797 handwritten 8×8 digits read pixel by pixel (length 64), 10 classes.",
    "signals": "Which of 8 Donoho-Johnstone test signals a noisy, shifted copy is (length 1024), 8 classes.",
    "memory": "Recall white noise 1…128 steps back at the last step (length 256); scored by R² per lag.",
}

# A finished run is collected by app.py (on whatever page the user is) before the sidebar is drawn.


def _bounds(name: str) -> str:
    low, high = TRAIN_LIMITS[name]
    return f"{low:g}–{high:g}"


def _limit(name: str) -> tuple[int, int]:
    low, high = TRAIN_LIMITS[name]
    return int(low), int(high)


st.title("Train a model")
st.markdown(
    "Train a small MultiresConv network on the CPU, right here. Pick a task, a TREESELECT strategy and how the "
    "filters start; the curves update while it trains and **Stop** ends it early with a usable model. "
    "The result joins the sidebar's model list, so every page can show it. Ranges in brackets are the "
    "trainer's bounds (`multires.training.TRAIN_LIMITS`)."
)

# --- 1. set up a run ---------------------------------------------------------------------------
st.header("1 · Set up a run")
setup = st.columns(3, gap="large")
with setup[0]:
    st.markdown("**Task and memory**")
    task_name = st.selectbox("Task", TASK_NAMES, key="train_task", help="Every task uses data shipped with "
                             "the dependencies, split with seed 0 like the shipped models.")
    st.caption(TASK_HELP.get(task_name, ""))
    strategy = st.radio("TREESELECT strategy", ("fading", "uniform", "learned"), key="train_strategy",
                        format_func=lambda s: STRATEGY_LABELS[s],
                        help="Fading: one slot per level at lag 0. Uniform: M slots on each level's decimated "
                             "grid. Learned: the model prunes the candidate slots down to M while it trains.")
with setup[1]:
    st.markdown("**Filters**")
    init = st.radio("Initialisation", tuple(INITS), key="train_init", format_func=INITS.get,
                    help="Wavelet init starts h0, h1 at a PyWavelets wavelet and lets them learn; frozen keeps "
                         "them there (the fixed-wavelet baseline); random starts anywhere.")
    if init == "random":
        k_low, k_high = _limit("kernel_size")
        kernel_size = int(st.number_input(f"Kernel size k ({k_low}–{k_high})", k_low, k_high, 2, key="train_kernel",
                                          help="Taps per filter when the filters start random."))
        wavelet = None
    else:
        names = discrete_wavelet_names()
        wavelet = st.selectbox("Wavelet", names, index=names.index("haar"), key="train_wavelet",
                               help="Any discrete PyWavelets wavelet; it also sets the kernel size k.")
        kernel_size = pywt.Wavelet(wavelet).dec_len
        st.caption(f"k = {kernel_size} taps (set by {wavelet}).")

task = runner.cached_task(task_name)
depth = default_depth(task.length, kernel_size)
with setup[0]:
    if strategy == "fading":
        memory_size = None
        st.caption(f"Fading keeps J + 1 = **{depth + 1}** slots per channel (depth J = {depth} covers length "
                   f"{task.length} with k = {kernel_size}).")
    else:
        largest = (max_uniform_memory(depth, kernel_size) if strategy == "uniform"
                   else len(candidate_slots(depth, kernel_size)))
        largest = min(largest, int(TRAIN_LIMITS["memory_size"][1]))
        memory_size = int(st.number_input(
            f"Memory size M (1–{largest})", 1, largest, min(depth + 1, largest), key=f"train_memory_{strategy}_{task_name}_{kernel_size}",
            help=f"Slots kept per channel and time step. The default {depth + 1} is fading's budget, for a fair "
                 f"comparison. {largest} is the most the {strategy} rule can offer at depth {depth}."))
with setup[2]:
    st.markdown("**Size and optimisation**")
    size = st.columns(2)
    w_low, w_high = _limit("d_model")
    width = int(size[0].number_input(f"Width ({w_low}–{w_high})", w_low, w_high, DEFAULTS.d_model, key="train_width",
                                     help="d_model: channels of every MultiresConv (each has its own h0, h1)."))
    l_low, l_high = _limit("n_layers")
    layers = int(size[1].number_input(f"Layers ({l_low}–{l_high})", l_low, l_high, DEFAULTS.n_layers, key="train_layers"))
    e_low, e_high = _limit("epochs")
    epochs = int(size[0].number_input(f"Epochs ({e_low}–{e_high})", e_low, e_high, DEFAULTS.epochs, key="train_epochs"))
    s_low, s_high = _limit("seed")
    seed = int(size[1].number_input("Seed (0–2³¹−1)" if (s_low, s_high) == (0, 2**31 - 1) else f"Seed ({s_low}–{s_high})",
                                    s_low, s_high, DEFAULTS.seed, key="train_seed",
                                    help="Initialisation and shuffling; the same seed gives the same model."))
    lr = st.select_slider(f"Peak learning rate ({_bounds('lr')})", LEARNING_RATES, value=DEFAULTS.lr, key="train_lr",
                          format_func=lambda v: f"{v:g}", help="AdamW, linear warm-up then cosine decay to 0.")
    budget = st.slider(f"Time bound (s, at most {runner.APP_MAX_SECONDS:g} in the app)", 5,
                       int(runner.APP_MAX_SECONDS), 60, step=5, key="train_budget",
                       help="The run stops cleanly after this much training time (TrainConfig.max_seconds), "
                            "whatever the epochs.")

try:
    train_config = TrainConfig(
        tree_select=strategy, memory_size=memory_size, wavelet=wavelet, kernel_size=kernel_size,
        freeze_filters=init == "frozen", d_model=width, n_layers=layers, epochs=epochs, lr=float(lr),
        seed=seed, max_seconds=float(budget),
    )
    config_error = None
except ValueError as err:
    train_config, config_error = None, str(err)

run = runner.current_run()
buttons = st.columns([1, 5])
clicked = buttons[0].button("Train", type="primary", key="train_start", icon=":material/play_arrow:",
                            disabled=config_error is not None, width="stretch")
buttons[1].caption(f"Will train **{runner.model_name(task_name, train_config)}**" if train_config else "")
if config_error:
    st.error(f"These settings cannot be trained: {config_error}")
if clicked and train_config is not None:
    started, refusal = runner.start(task_name, train_config)
    if refusal:
        st.warning(refusal, icon=":material/hourglass_top:")
    run = runner.current_run()


# --- 2. the run --------------------------------------------------------------------------------
def _live_view() -> None:
    """Progress, live curves and Stop of the active run (redrawn every POLL_SECONDS by a fragment)."""
    current = runner.current_run()
    if current is None:
        return
    if not current.active:
        st.rerun()  # full rerun: the finished model joins the session and the sidebar
    curves = current.curves()
    last = curves["last"]
    if current.waiting:
        st.info("Waiting for a free training slot on this server (other sessions are training)…",
                icon=":material/hourglass_top:")
    elif last is None:
        st.progress(0.0, text="Loading the task and building the model…")
    else:
        bound = current.config.max_seconds or float("inf")
        fraction = min(1.0, max(last.fraction, last.elapsed / bound))
        st.progress(fraction, text=(f"Epoch {last.epoch + 1}/{last.epochs} · step {last.step}/{last.total_steps} · "
                                    f"{last.elapsed:.0f} s of at most {bound:.0f} s"))
    cols = st.columns([1, 5])
    cols[0].button("Stop", key="train_stop", icon=":material/stop:", on_click=current.request_stop,
                   disabled=current.stop_event.is_set(), width="stretch")
    if current.stop_event.is_set():
        cols[1].caption("Stopping after the current step…")
    if last is not None:
        total = last.total_steps
        loss_name = "cross entropy" if last.metric_name == "accuracy" else "MSE"
        st.plotly_chart(training_curves_figure(curves["steps"], curves["loss"], curves["metric"], last.metric_name,
                                               curves["val_steps"], curves["val_metric"], total, loss_name),
                        key="train_live_chart")
        st.caption("Live: the loss should fall and the training score rise; the validation points (epoch ends) "
                   "show whether it generalises.")


if run is not None and run.active:
    st.header(f"2 · Training “{run.name}”")
    st.fragment(run_every=POLL_SECONDS)(_live_view)()
else:
    st.header("2 · Training")
if run is None:
    st.caption("Press **Train**: a progress bar, live loss and score curves and a Stop button appear here.")
elif not run.active and run.collected:
    if run.error:
        st.error(f"Training “{run.name}” failed: {run.error}", icon=":material/error:")
    elif run.result is not None:
        result = run.result
        why = {"callback": f"stopped early ({run.stop_cause or 'Stop'})", "max_seconds": "stopped at the time bound"}
        how = why.get(result.stop_reason, "finished")
        score = "test accuracy" if result.kind == "classify" else "test mean R²"
        st.success(f"“{run.name}” {how} after {result.steps}/{result.total_steps} steps in {result.train_time:.1f} s: "
                   f"{score} **{result.test_metric:.3f}**. It is now selected in the sidebar.",
                   icon=":material/check_circle:")


# --- 3. results of any model with a training history ----------------------------------------------
def _history(entry: state.ModelEntry) -> tuple[dict, list[SelectionSnapshot]] | None:
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


models = state.all_models()
with_history = [name for name, e in models.items() if _history(e) is not None]
st.header("3 · Results")
if run is not None and run.active:
    st.caption("The run's curves, test score, selection history and checkpoint appear here when it ends.")
elif not with_history:
    st.info("No model with a recorded training history yet: train one above.", icon=":material/info:")
else:
    sidebar_model = state.selection().entry.name
    if st.session_state.get("train_result_model") not in with_history:
        st.session_state["train_result_model"] = sidebar_model if sidebar_model in with_history else with_history[-1]
    chosen = st.selectbox("Model", with_history, key="train_result_model",
                          format_func=lambda n: f"{n}  ·  {models[n].source}")
    entry = models[chosen]
    curves, snapshots = _history(entry)
    metrics = entry.metrics
    metric_name = metrics.get("metric_name", "accuracy")
    cols = st.columns(5)
    score_label = "Test accuracy" if metric_name == "accuracy" else "Test mean R²"
    test_metric = metrics.get("test_metric")
    cols[0].metric(score_label, "—" if test_metric is None else f"{test_metric:.3f}")
    cols[1].metric("Parameters", f"{entry.net.n_parameters():,}")
    cols[2].metric("Memory slots / step", entry.net.convs[0].n_slots, help="Per channel and time step.")
    cols[3].metric("Training time", f"{metrics.get('train_time_s', float('nan')):.1f} s")
    cols[4].metric("Steps", f"{metrics.get('steps', '?')}/{metrics.get('total_steps', '?')}",
                   help="Fewer than planned when Stop or the time bound ended the run.")
    total_steps = int(metrics.get("total_steps") or curves["step"][-1])
    epochs_run = len(curves.get("epoch_val") or [])
    per_epoch = total_steps / max(1, int(metrics.get("epochs") or epochs_run or 1))
    val_steps = [round(per_epoch * (i + 1)) for i in range(epochs_run)]
    loss_name = "cross entropy" if metric_name == "accuracy" else "MSE"
    st.plotly_chart(training_curves_figure(curves["step"], curves["loss"], curves["metric"], metric_name, val_steps,
                                           curves.get("epoch_val") or [], total_steps, loss_name),
                    key="train_result_curves")
    st.caption("The whole run: training loss and running score per step, validation score at each epoch's end. "
               "A widening gap between training and validation means over-fitting.")

    if snapshots:
        st.subheader("How the learned selection moved during training")
        learned_layers = [i for i, conv in enumerate(entry.net.convs) if conv.tree_select == "learned"]
        pick = st.columns([1, 3], gap="large")
        position = pick[0].selectbox("Learned layer", range(len(learned_layers)), key="train_sel_layer",
                                     format_func=lambda i: f"layer {learned_layers[i]}")
        layer_index = learned_layers[position]
        conv = entry.net.convs[layer_index]
        bands = [f"{'a' if s.band == 'approx' else 'b'}{s.level}" for s in conv.slots]
        lags = [s.lag for s in conv.slots]
        steps = [s.step for s in snapshots]
        kept = np.stack([s.masks[position].mean(axis=0) for s in snapshots])  # (S candidates)
        st.plotly_chart(selection_history_figure(steps, kept, bands, layer_index, conv.memory_size),
                        key="train_sel_history")
        st.caption("Columns are snapshots during training (left: start, every candidate slot kept). Read down a "
                   "column to see how many slots each tree band keeps per channel; by the end they add up to M.")
        chosen_step = pick[1].select_slider("Snapshot (optimizer step)", steps, value=steps[-1], key="train_sel_step")
        index = steps.index(chosen_step)
        mask = snapshots[index].masks[position]  # (C candidates)
        channel = min(state.selection().channel, mask.shape[0] - 1)
        st.plotly_chart(selection_snapshot_figure(kept[index], bands, lags, layer_index, chosen_step, channel,
                                                  mask[channel]), key="train_sel_snapshot")
        st.caption(f"Every candidate slot at its place in the tree (lag behind n across, band down); green = kept by "
                   f"many channels. Black outlines: channel {channel}'s memory (the sidebar's channel).")

    from multires.checkpoint import checkpoint_bytes

    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", chosen).strip("_") or "model"
    st.download_button("Download checkpoint (.safetensors)", data=lambda: checkpoint_bytes(entry.net, entry.metrics),
                       file_name=f"{slug}.safetensors", mime="application/octet-stream", key="train_download",
                       icon=":material/download:",
                       help="Weights, config and metrics in one safetensors file; load it here or with "
                            "multires.checkpoint.load_checkpoint.")

# --- 4. load a checkpoint -------------------------------------------------------------------------
st.header("4 · Load a checkpoint")
uploaded = st.file_uploader("A .safetensors checkpoint saved by this app or by multires.checkpoint",
                            type=["safetensors"], key="train_upload")
if uploaded is not None:
    outcome = st.session_state.get("train_upload_outcome")
    if outcome is None or outcome[0] != uploaded.file_id:  # process each upload once, not on every rerun
        name, error = runner.add_uploaded_checkpoint(uploaded.getvalue(), uploaded.name)
        st.session_state["train_upload_outcome"] = (uploaded.file_id, name, error)
        if name is not None:
            st.rerun()  # show it in the sidebar at once
        outcome = st.session_state["train_upload_outcome"]
    _, name, error = outcome
    if error:
        st.error(error, icon=":material/error:")
    else:
        st.success(f"Loaded “{name}”; it is selected in the sidebar.", icon=":material/check_circle:")
