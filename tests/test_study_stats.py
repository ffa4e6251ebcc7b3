"""Study statistics: paired differences with intervals on synthetic trials whose truth is known.

Every synthetic table is drawn from a seeded generator: each configuration's score on seed ``s`` is
``base + effect + seed_effect[s] + noise``. A known difference must be found (resolved, with the true
value inside the interval), no difference must not be resolved, and the interval's coverage is
measured by simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multires.figures.study import (
    OUTCOME_STYLE,
    budget_figure,
    difference_figure,
    lag_difference_figure,
    resolved_front,
)
from multires.study import all_trials, grid_preset
from multires.study.questions import QUESTIONS, answer, answer_all, summary
from multires.study.report import write_charts
from multires.study.stats import (
    MIN_SEEDS,
    PairedDifference,
    StudyStatsError,
    compare_configs,
    coverage,
    half_width,
    paired_difference,
    paired_scores,
    paired_spread,
    seeds_needed,
    unpaired_configs,
    verdict,
)


def _trials(effects: dict[tuple, float], seeds: int = 8, noise: float = 0.01, seed_sd: float = 0.05,
            task: str = "ucr:Toy", rng_seed: int = 0, lags: dict[tuple, dict[int, float]] | None = None) -> pd.DataFrame:
    """A results table: one row per configuration (rule, M, init, distinct budget) and seed."""
    rng = np.random.default_rng(rng_seed)
    seed_effect = rng.normal(0, seed_sd, size=seeds)
    rows = []
    for (rule, m, init, budget), effect in effects.items():
        for s in range(seeds):
            row = {"key": f"{task}-{rule}-{m}-{init}-{s}", "task": task, "tree_select": rule, "memory_size": m,
                   "init": init, "wavelet": None if init.endswith("random") else "haar",
                   "freeze_filters": init.startswith("frozen"), "d_model": 8, "seed": s, "n_parameters": 100,
                   "train_time_s": 1.0,
                   "status": "ok", "metric_name": "accuracy", "slots_per_channel": m or budget,
                   "distinct_slots_mean": float(budget), "distinct_slots_max": budget,
                   "test_score": 0.8 + effect + seed_effect[s] + rng.normal(0, noise)}
            for lag, value in ((lags or {}).get((rule, m, init, budget), {})).items():
                row[f"r2_lag_{lag}"] = value + rng.normal(0, noise)
            rows.append(row)
    return pd.DataFrame(rows)


# --- the interval ---------------------------------------------------------------------------


def test_a_known_difference_is_found_with_the_truth_inside_its_interval():
    rng = np.random.default_rng(1)
    b = rng.normal(0.8, 0.05, size=6)
    a = b + 0.04 + rng.normal(0, 0.01, size=6)
    d = paired_difference(a, b)
    assert d.resolved and d.better == "A" and d.n == 6 and d.method == "paired t"
    assert d.low <= 0.04 <= d.high
    assert paired_difference(b, a).better == "B"


def test_no_difference_is_not_resolved():
    rng = np.random.default_rng(2)
    b = rng.normal(0.8, 0.05, size=6)
    a = b + rng.normal(0, 0.02, size=6)
    d = paired_difference(a, b)
    assert not d.resolved and d.better is None and d.low < 0 < d.high


def test_a_difference_of_zero_on_every_seed_is_not_resolved():
    d = paired_difference([0.9, 0.8, 0.7], [0.9, 0.8, 0.7])
    assert (d.mean, d.low, d.high, d.resolved) == (0.0, 0.0, 0.0, False)


def test_pairing_resolves_a_small_difference_that_seed_effects_would_hide():
    """Seeds move both configurations together (sd 0.1); the difference (0.02) is steady (sd 0.005)."""
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0, 0.1, size=6)
    b = 0.7 + seed_effect + rng.normal(0, 0.005, size=6)
    a = 0.72 + seed_effect + rng.normal(0, 0.005, size=6)
    assert paired_difference(a, b).resolved
    # the same scores unpaired: the seed spread swamps the difference
    spread = np.sqrt(a.var(ddof=1) / 6 + b.var(ddof=1) / 6)
    assert abs(a.mean() - b.mean()) < 1.96 * spread


@pytest.mark.parametrize(("method", "n", "low", "high"), [("t", 5, 0.92, 0.975), ("t", 10, 0.92, 0.975),
                                                          ("bootstrap", 30, 0.87, 0.97)])
def test_interval_covers_the_true_difference_about_95_percent_of_the_time(method, n, low, high):
    """Seeded simulation (deterministic); the percentile bootstrap runs a little under 95 % even at 30 seeds."""
    trials = 1000 if method == "t" else 300
    assert low <= coverage(0.03, 0.04, n=n, method=method, trials=trials, seed=7) <= high


def test_bootstrap_with_five_seeds_covers_less_than_the_t_interval_which_is_why_t_is_the_default():
    t_cov = coverage(0.0, 0.04, n=5, method="t", trials=600, seed=11)
    boot_cov = coverage(0.0, 0.04, n=5, method="bootstrap", trials=600, seed=11)
    assert boot_cov < t_cov - 0.04


def test_no_difference_is_resolved_in_about_5_percent_of_studies_only():
    rng = np.random.default_rng(5)
    resolved = sum(paired_difference(rng.normal(0, 0.03, 5), np.zeros(5)).resolved for _ in range(1000))
    assert 0.02 <= resolved / 1000 <= 0.08


def test_bootstrap_is_reproducible_and_says_which_interval_it_is():
    a, b = [0.9, 0.85, 0.88, 0.91, 0.87], [0.86, 0.84, 0.85, 0.88, 0.86]
    one, two = paired_difference(a, b, method="bootstrap"), paired_difference(a, b, method="bootstrap")
    assert one == two and one.method == "bootstrap over seeds"


def test_seeds_needed_is_the_fewest_seeds_whose_half_width_fits():
    n = seeds_needed(0.05, 0.03)
    assert half_width(0.05, n) <= 0.03 < half_width(0.05, n - 1)
    assert seeds_needed(0.001, 0.05) == MIN_SEEDS


@pytest.mark.parametrize(("a", "b", "message"), [([0.1, 0.2], [0.1], "same length"), ([0.1], [0.2], "at least 2"),
                                                 ([0.1, float("nan")], [0.1, 0.2], "finite")])
def test_bad_paired_scores_are_refused_with_a_clear_message(a, b, message):
    with pytest.raises(StudyStatsError, match=message):
        paired_difference(a, b)
    with pytest.raises(StudyStatsError, match="unknown method"):
        paired_difference([0.1, 0.2], [0.1, 0.3], method="welch")


def test_verdict_names_a_winner_only_outside_its_interval():
    assert verdict(PairedDifference(0.02, -0.01, 0.05, 5, 0.02, "paired t"), "A", "B").startswith("no difference")
    assert verdict(PairedDifference(-0.02, -0.04, -0.01, 5, 0.01, "paired t"), "A", "B").startswith("B better by 2.0")


# --- tables ---------------------------------------------------------------------------------

_HAAR, _FROZEN, _RANDOM = "learned from haar", "frozen haar", "learned from random"


def test_configurations_are_paired_by_seed_and_missing_seeds_are_reported():
    table = _trials({("fading", None, _HAAR, 9): 0.05, ("fading", None, _FROZEN, 9): 0.0}, seeds=6)
    pairs = paired_scores(table, {"init": _HAAR}, {"init": _FROZEN})
    assert list(pairs["seed"]) == list(range(6)) and {"a_budget", "b_budget"} <= set(pairs)
    assert unpaired_configs(table).empty
    gap = table.drop(table[(table["init"] == _FROZEN) & (table["seed"] == 3)].index)
    missing = unpaired_configs(gap)
    assert len(missing) == 1 and missing.iloc[0]["init"] == _FROZEN and missing.iloc[0]["missing"] == [(3,)]
    assert compare_configs(gap, {"init": _HAAR}, {"init": _FROZEN}).n == 5


def test_a_configuration_twice_on_one_seed_is_an_error():
    table = _trials({("fading", None, _HAAR, 9): 0.0, ("uniform", 9, _HAAR, 9): 0.0})
    with pytest.raises(StudyStatsError, match="several finished trials on the same seed"):
        compare_configs(table, {"init": _HAAR}, {"tree_select": "fading"})


def test_paired_spread_measures_the_noise_and_the_seeds_it_calls_for():
    table = _trials({("fading", None, _HAAR, 9): 0.0, ("fading", None, _FROZEN, 9): 0.0}, seeds=10, noise=0.03)
    spread = paired_spread(table).iloc[0]
    assert 0.03 < spread["paired_sd_median"] < 0.06  # sd of a difference of two noises: 0.03 * sqrt(2)
    assert spread["seeds_for_3_points"] > spread["seeds_for_5_points"] >= MIN_SEEDS


def test_shipped_presets_run_every_configuration_on_the_same_at_least_five_seeds():
    for name in ("paired", "full"):
        trials = all_trials(grid_preset(name))
        by_config: dict[tuple, set] = {}
        for t in trials:
            by_config.setdefault((t.task, t.tree_select, t.memory_size, t.init, t.d_model), set()).add(t.seed)
        seed_sets = {frozenset(s) for s in by_config.values()}
        assert len(seed_sets) == 1 and len(next(iter(seed_sets))) >= MIN_SEEDS


# --- the four questions ---------------------------------------------------------------------


def _four_question_table() -> pd.DataFrame:
    """Task A: learned filters +6 points, Haar start = random, learned rule +5 over fading at ~equal budget,
    uniform = fading overall but better at far lags. Task B: no effect anywhere.

    Each null comparison has a 5 % chance of a false "resolved" (the rate is checked in
    test_no_difference_is_resolved_in_about_5_percent_of_studies_only); this fixed draw has none."""
    far = {1: 0.9, 64: 0.1}
    a = _trials({("fading", None, _HAAR, 9): 0.0, ("fading", None, _FROZEN, 9): -0.06,
                 ("fading", None, _RANDOM, 9): 0.0, ("uniform", 9, _HAAR, 9): 0.0,
                 ("learned", 3, _HAAR, 10): 0.05},
                task="ucr:A", rng_seed=1, lags={("fading", None, _HAAR, 9): far, ("uniform", 9, _HAAR, 9): {1: 0.9, 64: 0.5}})
    b = _trials({("fading", None, _HAAR, 9): 0.0, ("fading", None, _FROZEN, 9): 0.0,
                 ("fading", None, _RANDOM, 9): 0.0, ("uniform", 9, _HAAR, 9): 0.0,
                 ("learned", 3, _HAAR, 10): 0.0}, task="ucr:B", rng_seed=101)
    return pd.concat([a, b], ignore_index=True)


def test_each_question_finds_the_planted_difference_and_only_it():
    answers = answer_all(_four_question_table())
    overall = answers[answers["lag"].isna()].set_index(["question", "task", "setting"])
    assert overall.loc[("filters", "ucr:A", "fading"), "better"] == "A"
    assert overall.loc[("filters", "ucr:A", "fading"), "low"] <= 0.06 <= overall.loc[("filters", "ucr:A", "fading"), "high"]
    assert overall.loc[("select", "ucr:A", "learned M=3 vs fading"), "better"] == "A"
    assert overall.loc[("select", "ucr:A", "learned M=3 vs fading"), "a_budget"] == 10.0
    for key in [("filters", "ucr:B", "fading"), ("init", "ucr:A", "fading"), ("init", "ucr:B", "fading"),
                ("select", "ucr:B", "learned M=3 vs fading"), ("uniform", "ucr:A", f"{_HAAR}, M=9")]:
        assert not overall.loc[key, "resolved"], key
    lags = answers[(answers["question"] == "uniform") & answers["lag"].notna()].set_index("lag")
    assert lags.loc[64, "better"] == "A" and not lags.loc[1, "resolved"]


def test_summary_names_winners_only_where_resolved_and_says_no_difference_elsewhere():
    answers = answer_all(_four_question_table())
    filters = summary(answers, "filters")
    assert filters[0].startswith("Learned filters resolved better on A (fading")
    assert any(line.startswith("No difference resolved on B (fading") for line in filters)
    assert not any("better on B" in line for line in filters)
    uniform = summary(answers, "uniform")
    assert any("uniform recalls better at lags 64" in line and "no difference resolved at lags 1" in line
               for line in uniform)
    assert summary(answers.iloc[:0], "init") == ["Not answered: the table has no pair of configurations for this question."]


def test_learned_rule_far_from_the_other_rules_budget_is_not_compared():
    table = _trials({("fading", None, _HAAR, 9): 0.0, ("learned", 9, _HAAR, 18): 0.1})
    assert answer(table, "select").empty
    with pytest.raises(StudyStatsError, match="unknown question"):
        answer(table, "best")


# --- figures and report ---------------------------------------------------------------------


def test_difference_figure_draws_unresolved_differences_hollow_and_grey_never_as_winners():
    answers = answer(_four_question_table(), "filters")
    fig = difference_figure(answers, "t", "learned filters", "fixed Haar filters")
    by_name = {t.name: t for t in fig.data}
    resolved = by_name["learned filters better (interval above 0)"]
    unresolved = by_name["no difference resolved (interval contains 0)"]
    assert list(resolved.y) == ["A · fading"] and list(unresolved.y) == ["B · fading"]
    assert unresolved.marker.symbol == OUTCOME_STYLE[None]["symbol"] == "circle-open"
    assert resolved.x[0] == pytest.approx(100 * answers.iloc[0]["mean"])
    assert not any(name.startswith("fixed Haar") for name in by_name)


def test_lag_difference_figure_has_one_point_per_lag():
    answers = answer(_four_question_table(), "uniform")
    fig = lag_difference_figure(answers, "ucr:A", f"{_HAAR}, M=9", "uniform", "fading")
    assert sorted(x for t in fig.data for x in t.x) == [1, 64]
    with pytest.raises(ValueError, match="no per-lag"):
        lag_difference_figure(answers, "ucr:B", "nope", "uniform", "fading")


def test_pareto_front_drops_a_setting_only_when_a_cheaper_one_is_resolved_better():
    # uniform M=9 is resolved worse than fading (same budget); learned (budget 10) is close to fading: not resolved
    table = _trials({("fading", None, _HAAR, 9): 0.0, ("uniform", 9, _HAAR, 9): -0.1, ("learned", 3, _HAAR, 10): -0.003},
                    noise=0.02)
    front = budget_figure(table, "ucr:Toy").data[-1]
    assert front.name == "Pareto front"
    assert list(front.x) == [9.0, 10.0]  # fading and learned stay; uniform leaves (resolved worse at equal budget)
    points = pd.DataFrame({"tree_select": ["fading", "uniform"], "memory_size": [None, 9], "budget": [9.0, 9.0],
                           "mean": [0.8, 0.7]})
    one_seed = table[table["seed"] == 0]
    assert len(resolved_front(one_seed, points)) == 2  # one seed: nothing is resolved, nothing leaves


def test_charts_html_marks_each_difference_resolved_or_not(tmp_path):
    path = write_charts(_four_question_table(), tmp_path, baselines=None)
    text = path.read_text()
    for question in QUESTIONS.values():
        assert question.title in text
    assert "no difference resolved" in text and "<td>resolved</td>" in text
    assert "paired t-interval" in text


def test_answers_markdown_quotes_the_same_numbers_as_the_page():
    from multires.study import answers_markdown

    table = _four_question_table()
    text = answers_markdown(table)
    row = answer(table, "filters").iloc[0]
    assert (f"| A | fading | {row['n']} | {100 * row['mean']:+.1f} | {100 * row['low']:+.1f} to "
            f"{100 * row['high']:+.1f} | resolved |") in text
    assert "| B | fading |" in text and "no difference resolved |" in text


def test_whole_seeds_drops_a_seed_that_one_configuration_did_not_finish(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    from multires.study.stats import whole_seeds

    table = _trials({("fading", None, _HAAR, 9): 0.0, ("fading", None, _FROZEN, 9): 0.0}, seeds=4)
    gap = table.drop(table[(table["init"] == _FROZEN) & (table["seed"] == 2)].index)
    kept = whole_seeds(gap)
    assert sorted(kept["seed"].unique()) == [0, 1, 3] and len(kept) == 6
    assert unpaired_configs(kept).empty
    # the shipping script keeps the preset's own trials on whole seeds only
    source = tmp_path / "results.csv"
    gap.to_csv(source, index=False)
    out = tmp_path / "shipped.csv"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "ship_study.py"), str(source), "--grid", "smoke",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"0 of {len(gap)} trials" in done.stdout  # none of these synthetic trials belongs to the smoke grid


@pytest.mark.parametrize("doc_name, tables", [("docs/studies.md", True), ("README.md", False)])
def test_docs_quote_the_answers_of_the_shipped_paired_study(doc_name, tables):
    """docs/studies.md's and the README's answers blocks are what the Study page computes from
    assets/studies/paired.csv (the README: the sentences only); scripts/ship_study.py writes both."""
    from conftest import ROOT
    from multires.study import answers_markdown, read_results

    doc = (ROOT / doc_name).read_text(encoding="utf-8")
    block = doc.split("<!-- answers:start -->", 1)[1].split("<!-- answers:end -->", 1)[0]
    expected = answers_markdown(read_results(ROOT / "assets" / "studies" / "paired.csv"), tables=tables)
    assert block.strip() == expected.strip()
