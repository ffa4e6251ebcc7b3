"""UCR time-series classification datasets bundled inside the ``aeon`` package (no downloads).

aeon ships a few problems of the UCR archive with its source, in ``aeon/datasets/data/<Name>/``
as ``<Name>_TRAIN.ts`` and ``<Name>_TEST.ts``. :func:`ucr_datasets` finds the univariate,
equal-length classification ones by reading only the headers of those files (cheap: aeon itself
is not imported); :func:`ucr_task` loads one with aeon's own reader,
``aeon.datasets.load_from_ts_file``, from exactly those bundled paths — so no code path can reach
the network — keeping the archive's official train/test split.

Two bundled problems pass the header test but are not UCR archive datasets and are left out:
``UnitTest`` (a 42-series excerpt of UCR's Chinatown, a fixture of aeon's own tests) and
``Covid3Month_disc`` (a discretised version of a Monash regression problem).
``tests/test_tasks_real.py`` checks the list against aeon's own ``univariate_equal_length``
catalogue.

Examples
--------
>>> "GunPoint" in ucr_datasets()
True
>>> task = ucr_task("GunPoint", seed=0)
>>> tuple(task.x_train.shape), tuple(task.x_val.shape), tuple(task.x_test.shape)
((40, 1, 150), (10, 1, 150), (150, 1, 150))
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

from multires.data.tasks.arrays import from_arrays
from multires.data.tasks.base import TaskData
from multires.options import Normalization
from multires.plaintext import quote

__all__ = [
    "UCR_PREFIX",
    "aeon_data_dir",
    "canonical_ucr_name",
    "ucr_datasets",
    "ucr_files",
    "ucr_task",
]

UCR_PREFIX = "ucr:"
"""Task names ``"ucr:<Name>"`` select a bundled UCR dataset, e.g. ``"ucr:GunPoint"``."""

_NOT_UCR_ARCHIVE = frozenset({"UnitTest", "Covid3Month_disc"})
_HEADER_LINES = 200  # a .ts header is a dozen lines; never read further than this


def aeon_data_dir() -> Path | None:
    """The folder of datasets bundled in the installed aeon package, or None without aeon.

    Found with ``importlib.util.find_spec`` (aeon is not imported).
    """
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if folder.is_dir() else None


def _ts_header(path: Path) -> dict[str, str]:
    """``@key value`` pairs (keys lower-case) of a .ts file's header, up to ``@data``."""
    header: dict[str, str] = {}
    with path.open(encoding="utf-8", errors="replace") as file:
        for _, line in zip(range(_HEADER_LINES), file):
            tokens = line.strip().split(maxsplit=1)
            if not tokens or not tokens[0].startswith("@"):
                continue
            key = tokens[0][1:].lower()
            if key == "data":
                break
            header[key] = tokens[1].strip().lower() if len(tokens) > 1 else ""
    return header


def _is_univariate_equal_length_classification(header: dict[str, str]) -> bool:
    # aeon's defaults for absent keys: univariate, equal length, no time stamps, no missing values.
    return (
        header.get("classlabel", "").startswith("true")
        and header.get("univariate", "true") == "true"
        and header.get("equallength", "true") == "true"
        and header.get("timestamps", "false") == "false"
        and header.get("missing", "false") == "false"
    )


@functools.lru_cache(maxsize=1)
def ucr_datasets() -> tuple[str, ...]:
    """Names of the univariate, equal-length UCR classification datasets aeon bundles, sorted.

    Returns
    -------
    tuple of str
        With aeon 1.6: ``("ACSF1", "ArrowHead", "GunPoint", "ItalyPowerDemand", "OSULeaf")``;
        empty if aeon is not installed.
    """
    folder = aeon_data_dir()
    if folder is None:
        return ()
    names = []
    for problem in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
        train, test = problem / f"{problem.name}_TRAIN.ts", problem / f"{problem.name}_TEST.ts"
        if problem.name in _NOT_UCR_ARCHIVE or not (train.is_file() and test.is_file()):
            continue
        if all(_is_univariate_equal_length_classification(_ts_header(p)) for p in (train, test)):
            names.append(problem.name)
    return tuple(names)


def canonical_ucr_name(dataset: str) -> str:
    """The bundled dataset's exact name for ``dataset`` (case-insensitive, ``"ucr:"`` optional).

    Raises
    ------
    ValueError
        If no bundled UCR dataset has that name (the message lists them).

    Examples
    --------
    >>> canonical_ucr_name("ucr:gunpoint")
    'GunPoint'
    """
    bare = dataset[len(UCR_PREFIX) :] if dataset.lower().startswith(UCR_PREFIX) else dataset
    names = ucr_datasets()
    match = {n.lower(): n for n in names}.get(bare.lower())
    if match is None:
        allowed = ", ".join(UCR_PREFIX + n for n in names) or "none (install aeon >= 1.0 to get them)"
        raise ValueError(f"unknown UCR dataset {quote(bare)}; the datasets bundled with aeon are: {allowed}")
    return match


def ucr_files(dataset: str) -> tuple[Path, Path]:
    """Paths of the bundled ``<Name>_TRAIN.ts`` and ``<Name>_TEST.ts`` files of a dataset."""
    name = canonical_ucr_name(dataset)
    folder = aeon_data_dir()
    assert folder is not None  # canonical_ucr_name found the name, so aeon is there
    return folder / name / f"{name}_TRAIN.ts", folder / name / f"{name}_TEST.ts"


@functools.lru_cache(maxsize=8)
def _load_bundled(name: str) -> tuple[Any, Any, Any, Any]:
    from aeon.datasets import load_from_ts_file  # aeon takes seconds to import: only UCR tasks need it

    train_path, test_path = ucr_files(name)
    X_train, y_train = load_from_ts_file(str(train_path))  # (n, 1, length) float64, labels as str
    X_test, y_test = load_from_ts_file(str(test_path))
    for array in (X_train, y_train, X_test, y_test):
        array.flags.writeable = False
    return X_train, y_train, X_test, y_test


def ucr_task(
    dataset: str, seed: int = 0, val_fraction: float = 0.2, normalize: Normalization = "series"
) -> TaskData:
    """A bundled UCR dataset with its official train/test split, each series z-normalised.

    Read with ``aeon.datasets.load_from_ts_file`` from the files aeon bundles (see
    :func:`ucr_files`); the official test split is the test set; the validation split is carved
    from the official training set only, stratified (:func:`~multires.data.tasks.from_arrays`).

    Parameters
    ----------
    dataset : str
        One of :func:`ucr_datasets` (case-insensitive; a leading ``"ucr:"`` is allowed).
    seed : int, default 0
        Non-negative seed of the validation split.
    val_fraction : float, default 0.2
        Share of each class of the training set held out for validation.
    normalize : {"series", "global", "none"}, default "series"
        As in :func:`~multires.data.tasks.from_arrays`; ``"series"`` is the UCR convention.

    Returns
    -------
    TaskData
        Named ``"ucr:<Name>"``; ``class_names`` are the archive's labels (e.g. ``("1", "2")``).

    Raises
    ------
    ValueError
        For an unknown dataset (the message lists the bundled ones) or a bad option.
    """
    name = canonical_ucr_name(dataset)
    X_train, y_train, X_test, y_test = _load_bundled(name)
    return from_arrays(
        UCR_PREFIX + name,
        X_train,
        y_train,
        X_test,
        y_test,
        val_fraction=val_fraction,
        normalize=normalize,
        seed=seed,
        source=f"aeon bundled {name} (UCR archive), official train/test split",
    )
