"""Paired comparisons of study configurations: the difference, its 95 % interval, resolved or not.

Every configuration of a study grid runs on the same seeds, and a trial's seed fixes everything
that is not the configuration: the task's split (and any cross-validation folds, which the seed
draws), the initialisation and the batch order. Two configurations are therefore compared **seed
by seed**: ``d_s = score_A(seed s) - score_B(seed s)``, and the question is whether the mean of
``d`` is away from zero.

Interval
--------
The default interval is the **paired t-interval** over seeds::

    mean(d) +/- t_{n-1, 0.975} * sd(d) / sqrt(n)

It is exact when the per-seed differences are normal and stays close to 95 % for the few seeds a
study can afford (5-10), where a bootstrap percentile interval is too narrow (with 5 seeds it
covers about 85 % of the time, the t-interval about 94 %: :func:`coverage` measures both). ``method="bootstrap"`` gives
the percentile bootstrap over seeds (resampling whole seeds, a seeded generator) for studies with
many seeds or skewed differences.

A difference is **resolved** when its interval excludes zero; then the sign names the better
configuration. Otherwise the answer is "no difference resolved": the data do not say which is
better, and nothing downstream (figures, page, report) may name a winner.

How many seeds
--------------
The half-width of the interval is ``t_{n-1} * sd(d) / sqrt(n)``. :func:`seeds_needed` inverts it:
the fewest seeds whose interval is at most ``delta`` wide on each side for a given spread of the
paired differences, and :func:`paired_spread` measures that spread on an existing table.

Examples
--------
>>> d = paired_difference([0.90, 0.92, 0.95, 0.91, 0.93], [0.85, 0.88, 0.90, 0.86, 0.89])
>>> round(d.mean, 3), d.resolved, d.n, d.method
(0.046, True, 5, 'paired t')
>>> paired_difference([0.90, 0.80, 0.95], [0.85, 0.88, 0.90]).resolved
False
>>> seeds_needed(sd=0.043, delta=0.03)
11
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Literal, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CONFIDENCE",
    "CONFIG_COLUMNS",
    "MIN_SEEDS",
    "PAIR_COLUMNS",
    "Method",
    "PairedDifference",
    "StudyStatsError",
    "compare_configs",
    "coverage",
    "half_width",
    "paired_difference",
    "paired_scores",
    "paired_spread",
    "seeds_needed",
    "unpaired_configs",
    "verdict",
    "whole_seeds",
]

Method = Literal["t", "bootstrap"]
#: Two-sided confidence of every interval the study reports.
CONFIDENCE = 0.95
#: Fewest seeds a shipped study runs per configuration (see the README for the measured spreads).
MIN_SEEDS = 5
#: Columns that name a configuration within a task (everything but the seed).
CONFIG_COLUMNS: tuple[str, ...] = ("tree_select", "memory_size", "init", "d_model")
#: Columns that pair trials across configurations: the seed, and the fold where a table has one.
PAIR_COLUMNS: tuple[str, ...] = ("seed", "fold")
_METHOD_NAMES = {"t": "paired t", "bootstrap": "bootstrap over seeds"}
_BOOTSTRAP_SAMPLES = 4000


class StudyStatsError(ValueError):
    """A comparison cannot be made (too few paired seeds, unknown method, missing configuration)."""


@dataclass(frozen=True)
class PairedDifference:
    """Mean of per-seed differences A - B with its interval.

    ``low`` and ``high`` bound the ``confidence`` interval of the mean difference; ``resolved``
    is True when it excludes zero. ``sd`` is the standard deviation of the per-seed differences
    (``ddof=1``), ``n`` the number of paired seeds.
    """

    mean: float
    low: float
    high: float
    n: int
    sd: float
    method: str
    confidence: float = CONFIDENCE

    @property
    def resolved(self) -> bool:
        return bool(self.low > 0 or self.high < 0)

    @property
    def better(self) -> Literal["A", "B", None]:
        """``"A"`` or ``"B"`` when the interval is entirely on one side of zero, else None."""
        if self.low > 0:
            return "A"
        if self.high < 0:
            return "B"
        return None

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "resolved": self.resolved, "better": self.better}


def _t_quantile(df: int, confidence: float) -> float:
    from scipy import stats  # scipy.stats takes about a second to import: only intervals need it

    return float(stats.t.ppf(0.5 + confidence / 2, df))


def half_width(sd: float, n: int, confidence: float = CONFIDENCE) -> float:
    """Half-width of the paired t-interval for ``n`` seeds whose differences have spread ``sd``.

    >>> round(half_width(0.043, 5), 3), round(half_width(0.043, 10), 3)
    (0.053, 0.031)
    """
    if n < 2:
        raise StudyStatsError(f"an interval needs at least 2 paired seeds, got {n}")
    return _t_quantile(n - 1, confidence) * sd / math.sqrt(n)


def seeds_needed(sd: float, delta: float, confidence: float = CONFIDENCE, most: int = 1000) -> int:
    """Fewest seeds (at least :data:`MIN_SEEDS`) whose paired t-interval half-width is <= ``delta``.

    Parameters
    ----------
    sd : float
        Spread (standard deviation) of the per-seed differences, e.g. from :func:`paired_spread`.
    delta : float
        Wanted half-width: differences larger than about ``delta`` are then resolved.

    >>> seeds_needed(0.012, 0.03), seeds_needed(0.083, 0.05)
    (5, 14)
    """
    if delta <= 0 or sd < 0:
        raise StudyStatsError(f"need delta > 0 and sd >= 0, got delta={delta}, sd={sd}")
    for n in range(MIN_SEEDS, most + 1):
        if half_width(sd, n, confidence) <= delta:
            return n
    raise StudyStatsError(f"more than {most} seeds needed for half-width {delta} at spread {sd}")


def paired_difference(a: Sequence[float], b: Sequence[float], method: Method = "t",
                      confidence: float = CONFIDENCE, seed: int = 0) -> PairedDifference:
    """Mean of ``a[i] - b[i]`` over paired seeds with its ``confidence`` interval.

    Parameters
    ----------
    a, b : sequences of float
        Scores of configurations A and B, same length, element ``i`` of both from the same seed.
    method : {"t", "bootstrap"}
        Paired t-interval (default; see the module notes) or percentile bootstrap over seeds.
    seed : int
        Seed of the bootstrap's generator (the interval is reproducible).

    Raises
    ------
    StudyStatsError
        On different lengths, fewer than 2 pairs, non-finite scores or an unknown method.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise StudyStatsError(f"paired scores must be two 1-d sequences of the same length, got {x.shape} and {y.shape}")
    if len(x) < 2:
        raise StudyStatsError(f"an interval needs at least 2 paired seeds, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise StudyStatsError("paired scores must be finite numbers")
    if not 0 < confidence < 1:
        raise StudyStatsError(f"confidence must be between 0 and 1, got {confidence}")
    d = x - y
    n, mean, sd = len(d), float(d.mean()), float(d.std(ddof=1))
    if method == "t":
        h = half_width(sd, n, confidence)
        low, high = mean - h, mean + h
    elif method == "bootstrap":
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, n, size=(_BOOTSTRAP_SAMPLES, n))].mean(axis=1)
        tail = (1 - confidence) / 2
        low, high = (float(v) for v in np.quantile(means, [tail, 1 - tail]))
    else:
        raise StudyStatsError(f"unknown method {method!r}; allowed: 't' (paired t-interval), 'bootstrap'")
    return PairedDifference(mean=mean, low=float(low), high=float(high), n=n, sd=sd,
                            method=_METHOD_NAMES[method], confidence=confidence)


def coverage(true_difference: float, sd: float, n: int, method: Method = "t", trials: int = 1000,
             seed: int = 0) -> float:
    """Share of simulated studies whose interval contains ``true_difference`` (normal differences).

    A check of the interval itself: each simulated study draws ``n`` per-seed differences from
    ``Normal(true_difference, sd)`` with a seeded generator and builds its interval.

    >>> 0.9 < coverage(0.02, 0.04, n=5, trials=400) < 0.99
    True
    """
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(trials):
        d = rng.normal(true_difference, sd, size=n)
        r = paired_difference(d, np.zeros(n), method=method, seed=seed + i)
        hits += r.low <= true_difference <= r.high
    return hits / trials


def verdict(diff: PairedDifference, a: str, b: str, unit: float = 100.0, points: str = "points") -> str:
    """One plain sentence: who is better by how much, or that no difference is resolved.

    >>> d = PairedDifference(mean=0.03, low=0.01, high=0.05, n=5, sd=0.016, method="paired t")
    >>> verdict(d, "learned filters", "frozen Haar")
    'learned filters better by 3.0 points (95 % interval 1.0 to 5.0, 5 seeds)'
    >>> verdict(PairedDifference(0.01, -0.02, 0.04, 5, 0.02, "paired t"), "learned filters", "frozen Haar")
    'no difference resolved: learned filters minus frozen Haar is 1.0 points (95 % interval -2.0 to 4.0, 5 seeds)'
    """
    ci = (f"{round(100 * diff.confidence)} % interval {unit * diff.low:.1f} to {unit * diff.high:.1f}, "
          f"{diff.n} seeds")
    if diff.better == "A":
        return f"{a} better by {unit * diff.mean:.1f} {points} ({ci})"
    if diff.better == "B":
        return f"{b} better by {unit * -diff.mean:.1f} {points} ({ci})"
    return f"no difference resolved: {a} minus {b} is {unit * diff.mean:.1f} {points} ({ci})"


# --- tables ---------------------------------------------------------------------------------


def _pair_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in PAIR_COLUMNS if c in table.columns]


def _select(table: pd.DataFrame, config: dict[str, Any]) -> pd.DataFrame:
    rows = table
    for column, value in config.items():
        if column not in rows.columns:
            raise StudyStatsError(f"the table has no column {column!r} to select {config}")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            rows = rows[rows[column].isna()]
        else:
            rows = rows[rows[column] == value]
    return rows


def paired_scores(table: pd.DataFrame, a: dict[str, Any], b: dict[str, Any],
                  score: str = "test_score") -> pd.DataFrame:
    """Scores of configurations ``a`` and ``b`` side by side, one row per seed both finished.

    ``a`` and ``b`` map columns to values (``{"task": "ucr:GunPoint", "init": "frozen haar", ...}``;
    None selects a missing value, e.g. fading's ``memory_size``). Rows are matched on the seed (and
    the fold, where the table has that column). A configuration that ran a seed twice is an error:
    the pairing would be ambiguous.

    Returns
    -------
    DataFrame
        Pair columns, then ``a``, ``b`` and, when the table has it, ``a_budget`` and ``b_budget``
        (``distinct_slots_mean``: the memory each side really kept).
    """
    done = table[table["status"] == "ok"] if "status" in table.columns else table
    keys = _pair_columns(done)
    if "seed" not in keys:
        raise StudyStatsError("the table has no seed column: trials cannot be paired")
    sides = []
    for name, config in (("a", a), ("b", b)):
        rows = _select(done, config)
        if rows.duplicated(keys).any():
            raise StudyStatsError(f"configuration {config} has several finished trials on the same seed; "
                                  "select it more narrowly (e.g. add d_model or memory_size)")
        cols = {score: name}
        if "distinct_slots_mean" in rows.columns:
            cols["distinct_slots_mean"] = f"{name}_budget"
        sides.append(rows[keys + list(cols)].rename(columns=cols))
    return sides[0].merge(sides[1], on=keys).sort_values(keys).reset_index(drop=True)


def compare_configs(table: pd.DataFrame, a: dict[str, Any], b: dict[str, Any], method: Method = "t",
                    score: str = "test_score", confidence: float = CONFIDENCE) -> PairedDifference:
    """:func:`paired_difference` of configurations ``a`` and ``b`` of ``table`` (see :func:`paired_scores`)."""
    pairs = paired_scores(table, a, b, score)
    if len(pairs) < 2:
        raise StudyStatsError(f"{len(pairs)} seed(s) finished by both {a} and {b}; an interval needs 2 or more")
    return paired_difference(pairs["a"], pairs["b"], method=method, confidence=confidence)


def unpaired_configs(table: pd.DataFrame, config_columns: Iterable[str] = CONFIG_COLUMNS) -> pd.DataFrame:
    """Configurations of each task missing a seed that another configuration of the task finished.

    An empty frame means the table is fully paired: every configuration of a task on the same seeds.
    """
    done = table[table["status"] == "ok"] if "status" in table.columns else table
    keys = _pair_columns(done)
    cols = [c for c in config_columns if c in done.columns]
    out = []
    for task, rows in done.groupby("task"):
        every = set(map(tuple, rows[keys].drop_duplicates().to_numpy()))
        for config, own in rows.groupby(cols, dropna=False):
            missing = every - set(map(tuple, own[keys].to_numpy()))
            if missing:
                out.append({"task": task, **dict(zip(cols, config if isinstance(config, tuple) else (config,))),
                            "missing": sorted(missing)})
    return pd.DataFrame(out)


def paired_spread(table: pd.DataFrame, config_columns: Iterable[str] = CONFIG_COLUMNS,
                  score: str = "test_score") -> pd.DataFrame:
    """Per task: the spread of per-seed differences between configurations, and seeds it calls for.

    For every pair of configurations of a task with at least 2 common seeds, the standard
    deviation of their per-seed differences; the table gives the median and the largest over pairs,
    the spread of single configurations over seeds (median), and :func:`seeds_needed` to resolve
    differences of 3 and 5 points at the median paired spread.
    """
    done = table[table["status"] == "ok"] if "status" in table.columns else table
    keys = _pair_columns(done)
    cols = [c for c in config_columns if c in done.columns]
    out = []
    for task, rows in done.groupby("task"):
        named = rows.assign(**{c: rows[c].astype(object).where(rows[c].notna(), "none") for c in cols})
        wide = named.pivot_table(index=keys, columns=cols, values=score, aggfunc="first")
        sds = []
        for i in range(wide.shape[1]):
            for j in range(i + 1, wide.shape[1]):
                d = (wide.iloc[:, i] - wide.iloc[:, j]).dropna()
                if len(d) >= 2:
                    sds.append(float(d.std(ddof=1)))
        single = rows.groupby(cols, dropna=False)[score].std().dropna()
        if not sds:
            continue
        median = float(np.median(sds))
        out.append({"task": task, "seeds": int(rows[keys].drop_duplicates().shape[0]),
                    "config_sd": float(single.median()) if len(single) else float("nan"),
                    "paired_sd_median": median, "paired_sd_max": float(max(sds)),
                    "seeds_for_3_points": seeds_needed(median, 0.03) if median > 0 else MIN_SEEDS,
                    "seeds_for_5_points": seeds_needed(median, 0.05) if median > 0 else MIN_SEEDS})
    return pd.DataFrame(out)


def whole_seeds(table: pd.DataFrame, config_columns: Iterable[str] = CONFIG_COLUMNS) -> pd.DataFrame:
    """The finished trials of the seeds every configuration of their task finished (a stopped study's
    whole seeds): what a shipped table keeps, so every comparison in it rests on the same seeds.

    >>> t = pd.DataFrame({"task": "t", "tree_select": ["a", "b", "a"], "seed": [0, 0, 1], "status": "ok",
    ...                   "memory_size": None, "init": "x", "d_model": 4})
    >>> whole_seeds(t)["seed"].tolist()
    [0, 0]
    """
    done = table[table["status"] == "ok"] if "status" in table.columns else table
    keys = _pair_columns(done)
    cols = [c for c in config_columns if c in done.columns]
    config = pd.Series(["|".join(map(str, r)) for r in done[cols].itertuples(index=False, name=None)], index=done.index)
    pair = pd.Series(["|".join(map(str, r)) for r in done[keys].itertuples(index=False, name=None)], index=done.index)
    keep = pd.Series(False, index=done.index)
    for task in done["task"].unique():
        mine = done["task"] == task
        n_configs = config[mine].nunique()
        per_pair = config[mine].groupby(pair[mine]).nunique()
        whole = set(per_pair[per_pair == n_configs].index)
        keep |= mine & pair.isin(whole)
    return done[keep]
