"""The distant-windows task (uniform vs fading), the paired comparison's figure and caption, and the two pages
that show it (TREESELECT, Compare) under ``streamlit.testing.v1.AppTest``."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

from conftest import open_app
from multires import memory_slots, wavelet_filters
from multires.data.tasks import (
    WINDOW_CLASSES,
    best_window_accuracy,
    distant_windows_task,
    load_task,
    window_positions,
)
from multires.figures.compare import lag_r2_caption
from multires.figures.uniform_test import (
    paired_summary,
    paired_t_interval,
    uniform_test_caption,
    uniform_test_figure,
)
from multires.training import TrainConfig
from ui.uniform_test import HEADING, TABLE, load_uniform_test

N_TEST = 4000  # enough test sequences that chance (0.5) and skill are far apart: sd of accuracy ~0.008
CHANCE_TOL = 0.04  # 5 standard deviations of a coin-flip accuracy over N_TEST


def _task(**options):
    return distant_windows_task(seed=0, n_train=4000, n_val=10, n_test=N_TEST, **options)


def _features(task, split: str, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = getattr(task, f"x_{split}")[:, 0].numpy().astype(np.float64)
    return x[:, times], getattr(task, f"y_{split}").numpy()


def _fitted_accuracy(task, times: np.ndarray) -> float:
    """Logistic regression trained on the given time steps of the training split, scored on the test split."""
    x_train, y_train = _features(task, "train", times)
    x_test, y_test = _features(task, "test", times)
    model = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    return float(model.score(x_test, y_test))


# --- the task ---------------------------------------------------------------------------------------------


def test_label_is_which_distant_stretch_is_higher():
    task = distant_windows_task(seed=3, length=40, lags=(5, 20), width=6, n_train=50, n_val=5, n_test=5)
    x = task.x_train[:, 0].numpy().astype(np.float64)
    nearer, farther = x[:, 40 - 5 - 6 : 40 - 5], x[:, 40 - 20 - 6 : 40 - 20]  # lags 5..10 and 20..25
    np.testing.assert_array_equal(task.y_train.numpy(), (nearer.sum(1) > farther.sum(1)).astype(np.int64))
    assert task.class_names == WINDOW_CLASSES and task.n_classes == 2 and task.kind == "classify"
    assert task.readout == "last" and task.head == "last"


def test_classes_are_balanced_and_the_input_is_white_noise():
    task = _task()
    assert abs(float(task.y_test.float().mean()) - 0.5) < CHANCE_TOL
    x = task.x_train.numpy()
    assert abs(float(x.mean())) < 0.01 and abs(float(x.std()) - 1.0) < 0.01


def test_reading_the_two_distant_stretches_solves_it():
    task = _task()
    nearer, farther = window_positions(task.length, (36, 48), 12)
    x, y = _features(task, "test", np.arange(task.length))
    oracle = (x[:, nearer].sum(1) > x[:, farther].sum(1)).astype(np.int64)
    assert (oracle == y).all()  # an oracle reading those lags is always right
    assert _fitted_accuracy(task, np.concatenate([nearer, farther])) > 0.97  # and it can be learned from data


def test_reading_only_recent_samples_is_at_chance():
    task = _task()
    recent = np.arange(task.length - 36, task.length)  # every sample newer than the nearer stretch
    assert abs(_fitted_accuracy(task, recent) - 0.5) < CHANCE_TOL


def test_one_average_over_both_stretches_is_at_chance():
    """Fading's far cell at length 64: the sum of the 32 oldest samples (both stretches inside)."""
    task = _task()
    x_train, y_train = _features(task, "train", np.arange(task.length))
    x_test, y_test = _features(task, "test", np.arange(task.length))
    old_half = slice(0, 32)
    features = lambda x: np.stack([x[:, old_half].sum(1), x[:, 32:].sum(1), x[:, -1]], axis=1)  # noqa: E731
    model = LogisticRegression(max_iter=2000).fit(features(x_train), y_train)
    assert abs(model.score(features(x_test), y_test) - 0.5) < CHANCE_TOL


def test_default_task_is_read_at_the_last_step_and_others_keep_their_heads():
    windows = load_task("distant-windows", seed=0, n_train=8, n_val=2, n_test=2)
    assert TrainConfig().model_config(windows).head == "last"
    memory = load_task("memory", seed=0, length=16, lags=(1,), n_train=4, n_val=2, n_test=2)
    assert memory.readout is None and TrainConfig().model_config(memory).head == "last"
    digits = load_task("digits", seed=0)
    assert digits.readout is None and TrainConfig().model_config(digits).head == "pool"


@pytest.mark.parametrize("options, message", [
    ({"lags": (20, 10)}, "nearer < farther"),
    ({"lags": (36, 40)}, "overlap"),
    ({"lags": (36, 60)}, "does not fit"),
    ({"lags": (1, 2, 3)}, "two integers"),
    ({"width": 0}, "width must be an integer >= 1"),
    ({"length": 4}, "length must be an integer"),
])
def test_bad_options_say_what_is_wrong(options, message):
    with pytest.raises(ValueError, match=message):
        distant_windows_task(**options)


def test_best_accuracy_from_each_memory_matches_the_theory_and_a_fitted_readout():
    """Frozen Haar at length 64 (J = 6): fading's 7 cells know nothing of the label, uniform's 7 cells a lot;
    a logistic regression on the cells themselves gets close to the closed-form ceiling."""
    h0, h1 = wavelet_filters("haar")
    task = _task()
    for rule, memory_size in (("fading", None), ("uniform", 7)):
        slots = memory_slots(rule, 6, 2, memory_size=memory_size)
        ceiling = best_window_accuracy(h0, h1, slots, 6)
        from multires import memory_matrix

        a = np.vstack([memory_matrix(h0, h1, slots, 6, window=64), np.eye(64)[-1]])
        x_train, y_train = _features(task, "train", np.arange(64))
        x_test, y_test = _features(task, "test", np.arange(64))
        model = LogisticRegression(max_iter=2000).fit(x_train @ a.T, y_train)
        fitted = model.score(x_test @ a.T, y_test)
        assert fitted <= ceiling + CHANCE_TOL
        assert fitted >= ceiling - CHANCE_TOL
        if rule == "fading":
            assert ceiling == pytest.approx(0.5, abs=1e-9)
        else:
            assert ceiling > 0.8


# --- the paired summary, figure and caption -------------------------------------------------------------


def _table(pairs: dict[str, list[tuple[float, float]]], **budget) -> pd.DataFrame:
    rows = []
    for setting, scores in pairs.items():
        for seed, (fading, uniform) in enumerate(scores):
            for rule, accuracy in (("fading", fading), ("uniform", uniform)):
                rows.append({"setting": setting, "seed": seed, "tree_select": rule, "test_accuracy": accuracy,
                             "slots_per_channel": 7, "distinct_per_layer": 7, "n_parameters": 834, "steps": 504,
                             "ceiling": {"fading": 0.5, "uniform": 0.85}[rule] if setting == "memory alone"
                             else math.nan, "layer1_ceiling": {"fading": 0.55, "uniform": 0.88}[rule],
                             "n_layers": 1 if setting == "memory alone" else 2, **budget})
    return pd.DataFrame(rows)


TABLE_WINS = _table({"memory alone": [(0.50, 0.84), (0.52, 0.83), (0.49, 0.85), (0.51, 0.82), (0.50, 0.84)],
                     "full model": [(0.86, 0.90), (0.91, 0.88), (0.85, 0.92), (0.88, 0.87), (0.90, 0.89)]})


def test_paired_interval_is_scipys_paired_t_interval():
    summary = paired_summary(TABLE_WINS)
    for row in summary.itertuples():
        part = TABLE_WINS[TABLE_WINS["setting"] == row.setting]
        fading = part[part["tree_select"] == "fading"].sort_values("seed")["test_accuracy"].to_numpy()
        uniform = part[part["tree_select"] == "uniform"].sort_values("seed")["test_accuracy"].to_numpy()
        reference = stats.ttest_rel(uniform, fading).confidence_interval(0.95)
        assert row.low == pytest.approx(reference.low) and row.high == pytest.approx(reference.high)
        assert row.difference == pytest.approx(float((uniform - fading).mean()))
        assert row.uniform_wins == int((uniform > fading).sum()) and row.seeds == 5
    mean, low, high = paired_t_interval([0.3])
    assert mean == pytest.approx(0.3) and math.isnan(low) and math.isnan(high)  # one seed: no interval


def test_unequal_budgets_or_missing_columns_are_refused():
    unequal = TABLE_WINS.copy()
    unequal.loc[unequal["tree_select"] == "uniform", "n_parameters"] = 900
    with pytest.raises(ValueError, match="parameters differ"):
        paired_summary(unequal)
    with pytest.raises(ValueError, match="lacks column"):
        paired_summary(TABLE_WINS.drop(columns="steps"))
    with pytest.raises(ValueError, match="both a fading and a uniform"):
        paired_summary(TABLE_WINS[TABLE_WINS["tree_select"] == "fading"])


def test_figure_has_one_panel_per_setting_one_line_per_seed_and_the_differences():
    fig = uniform_test_figure(TABLE_WINS)
    titles = [a.text for a in fig.layout.annotations if "uniform − fading" in a.text]
    assert len(titles) == 2 and "memory alone" in titles[0] and "full model" in titles[1]
    summary = paired_summary(TABLE_WINS)
    assert f"{summary['difference'].iloc[0]:+.3f}" in titles[0]
    seed_lines = [t for t in fig.data if t.mode == "lines+markers" and t.x is not None and t.x[0] is not None]
    assert len(seed_lines) == 10  # 5 seeds x 2 settings, each joining fading and uniform
    alone = [list(t.y) for t in seed_lines if t.xaxis == "x"]
    assert alone[0] == pytest.approx([0.50, 0.84])
    ceilings = [t for t in fig.data if t.hovertemplate and "best possible" in t.hovertemplate]
    assert sorted(float(t.y[0]) for t in ceilings) == pytest.approx([0.5, 0.85])  # only the frozen setting
    assert fig.layout.yaxis.range[0] == pytest.approx(0.4) and "axis from 0.4" in fig.layout.yaxis.title.text
    assert sum(a.text == "chance" for a in fig.layout.annotations) == 2


def test_caption_describes_the_numbers_and_the_verdict():
    caption = uniform_test_caption(paired_summary(TABLE_WINS))
    assert "uniform 0.84 vs fading 0.50" in caption and "uniform higher in 5 of 5 seeds" in caption
    assert caption.count("**uniform wins**") == 1  # memory alone: the interval is above 0
    assert "**neither is shown better**" in caption  # full model: the interval straddles 0
    assert "no classifier can beat 0.85 from uniform's cells or 0.50 from fading's" in caption
    # full model: fading (0.88 on average) beats what its first block alone allows (0.55), so the caption says so
    assert "fading's first block alone (learned filters included, read at the last step) allows at most 0.55 (uniform's 0.88)" in caption
    assert caption.count("first block alone") == 1
    flipped = TABLE_WINS.copy()
    flipped["tree_select"] = flipped["tree_select"].map({"fading": "uniform", "uniform": "fading"})
    assert "**fading wins**" in uniform_test_caption(paired_summary(flipped))


def test_lag_caption_follows_the_curves():
    curves = [{"name": "wide fading", "lags": [1, 2, 4, 8, 16], "r2 per lag": [1.0, 0.99, 0.98, 0.97, 0.95]},
              {"name": "wide uniform", "lags": [1, 2, 4, 8, 16], "r2 per lag": [0.28, 0.25, 0.7, 0.98, 0.99]}]
    text = lag_r2_caption(curves)
    assert "wide fading: almost exact at every lag (1–16)." in text
    assert "wide uniform: poor at lags 1–2, partly (0.5–0.9) at lag 4, almost exact at lags 8–16." in text
    assert "more model" in lag_r2_caption(curves, max_models=1)


# --- the shipped table and the pages --------------------------------------------------------------------


def test_shipped_table_has_equal_budgets_and_five_paired_seeds():
    table, summary, problem = load_uniform_test()
    assert problem is None, problem
    assert set(summary["setting"]) == {"memory alone", "full model"}
    assert (summary["seeds"] >= 5).all()
    for setting, part in table.groupby("setting"):
        assert set(part["tree_select"]) == {"fading", "uniform"}
        assert part["slots_per_channel"].nunique() == 1 and part["distinct_per_layer"].nunique() == 1
        assert part["n_parameters"].nunique() == 1 and part["steps"].nunique() == 1
        uniform = part[part["tree_select"] == "uniform"]
        assert (uniform["memory_size"] == uniform["depth"] + 1).all()  # M = fading's J + 1


def _verdicts(summary: pd.DataFrame) -> list[str]:
    return ["uniform wins" if r.low > 0 else "fading wins" if r.high < 0 else "neither is shown better"
            for r in summary.itertuples()]


@pytest.mark.parametrize("page, key", [("app_pages/4_TREESELECT.py", "ts_uniform_test"),
                                       ("app_pages/6_Compare.py", "compare_uniform_test")])
def test_page_shows_the_comparison_with_a_caption_that_matches_the_table(page, key):
    at = open_app(page)
    assert any(HEADING in m.value for m in at.markdown)
    charts = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
    assert len(charts) == 1
    layout = json.loads(charts[0].proto.spec)["layout"]
    assert "uniform vs fading" in layout["title"]["text"]
    _, summary, _ = load_uniform_test(TABLE)
    caption = next(c.value for c in at.caption if "paired t over" in c.value)
    for row, verdict in zip(summary.itertuples(), _verdicts(summary)):
        assert f"uniform {row.uniform_mean:.2f} vs fading {row.fading_mean:.2f}" in caption
        assert f"**{verdict}**" in caption


def _ceiling_of_kernels(kernels: np.ndarray, length: int = 64) -> float:
    """Best accuracy from memories whose impulse responses (lag 0 first) are the rows of ``kernels``."""
    a = kernels[:, :length][:, ::-1]  # time order, oldest first
    nearer, farther = window_positions(length, (36, 48), 12)
    c = np.zeros(length)
    c[nearer], c[farther] = 1.0, -1.0
    rho2 = float(c @ (np.linalg.pinv(a) @ (a @ c))) / float(c @ c)
    return 0.5 + math.asin(math.sqrt(min(max(rho2, 0.0), 1.0))) / math.pi


def test_two_stacked_linear_fading_layers_see_further_than_one():
    """Why fading ties in the two-block model: composing two fading memories (frozen Haar, linear) makes
    sharp windows far back (a coarse average of a differenced signal), raising its ceiling above chance."""
    from multires import memory_matrix

    h0, h1 = wavelet_filters("haar")
    ceilings = {}
    for rule, memory_size in (("fading", None), ("uniform", 7)):
        slots = memory_slots(rule, 6, 2, memory_size=memory_size)
        one = np.vstack([memory_matrix(h0, h1, slots, 6, window=64)[:, ::-1], np.eye(64)[0]])  # + skip, by lag
        two = np.array([np.convolve(k2, k1)[:64] for k2 in one for k1 in one])
        ceilings[rule] = (_ceiling_of_kernels(one), _ceiling_of_kernels(two))
        assert ceilings[rule][0] == pytest.approx(best_window_accuracy(h0, h1, slots, 6))
    assert ceilings["fading"][0] == pytest.approx(0.5, abs=1e-9)
    assert ceilings["fading"][1] > 0.7  # measured 0.776
    assert ceilings["uniform"][1] > ceilings["uniform"][0]  # 0.849 -> 0.932
