"""What one training run will cost, estimated before it starts: peak memory and time per step.

The app refuses a run over its budget (:data:`multires.options.MAX_RUN_BYTES`,
:data:`~multires.options.MAX_STEP_SECONDS`, :data:`~multires.options.MAX_SCORING_SECONDS`) *before*
building anything, and shows the estimate next to its Train button. Pure Python: no PyTorch, so
the page can call it on every rerun.

**Memory** is counted from the code (``multires/model.py``, ``conv.py``, ``kernel.py``) in units
of one activation, ``u = batch x d_model x length x 4`` bytes, and of one FFT buffer,
``f = batch x d_model x nfft x 4`` bytes (an ``rfft`` of ``nfft`` reals is ``nfft / 2 + 1``
complex64 values, i.e. ``f``), with ``nfft >= length + kernel taps - 1`` the power of two
``causal_fft_conv`` picks for the layer's kernel (its receptive field plus the largest slot lag,
cut at ``length``):

* persistent: parameters, their gradients, AdamW's two moments and the best epoch's copy
  (``5 x 4`` bytes per parameter), and every layer's saved kernel spectrum (``d_model x nfft x 4``);
* saved for the backward pass, per layer: the conv output, GELU output, the 1x1 mixer's output
  (``2 u``), the GLU output, the residual sum and the norm's output: :data:`SAVED_UNITS` ``u``;
* gradient buffers the backward pass leaves with the allocator, per layer (measured as resident
  memory: glibc keeps freed blocks of this size): :data:`RETAINED_UNITS` ``u``;
* the backward pass of one layer at a time: ``rfft`` of the output gradient and of the input and
  the ``irfft`` of the input gradient (``3 f``) plus :data:`BACKWARD_UNITS` ``u``;
* the composite-kernel build of one layer (every band's padded, shifted copies), transient;
* evaluation (no gradients; batch from :func:`eval_batch`): the layer input, the spectrum and the
  ``irfft`` output live at once, ``(3 u + 2 f)`` at the eval batch; when :data:`EVAL_ELEMENTS`
  sets the batch, at least what that bound allows (``nfft < 4 x length``), so the estimate grows
  with every size instead of jumping with the rounding of the batch;
* :data:`RUN_OVERHEAD_BYTES` for the run's own bookkeeping.

The peak is the persistent part plus the larger of the training step and evaluation. The tasks'
tensors are not counted: the app loads each task once per server and every run shares it.
``tests/test_runcost.py`` checks the estimate against the measured peak resident-memory growth.

**Time** is a work-count model with *conservative constants* (no calibration at start-up, so the
estimate is the same on every rerun): batch FFT work ``2.5 n log2 n`` per ``nfft``-long row
(5 batch FFTs per layer and step: 2 forward, 3 backward), the 1x1 mixers' multiply-adds
(``12 x batch x length x d_model**2`` flops per layer: forward and two backward products),
element-wise traffic (:data:`ELEMENTWISE_PASSES` passes over ``u`` and 8 over ``f`` per layer),
the kernel build, and a fixed cost per PyTorch call. The rates (:data:`FFT_RATE`,
:data:`MATMUL_RATE`, :data:`MEMORY_RATE`, :data:`OP_SECONDS`) are one PyTorch thread on this
project's 2-core machine while it was shared (medians under load, about half the idle best);
``benchmarks/bench_runcost.py`` prints measured / estimated step times to check them. On a quiet
machine real steps are several times faster than this model says: it is an upper bound for the app's
budget checks, not a forecast.

**Measured rates.** The CLI and :func:`multires.training.fit` time a few real optimizer steps and one
evaluation batch before a run (:func:`multires.training.calibrate.measure_rates`, which needs
PyTorch) and pass them here as :class:`MeasuredRates`: the step and forward times then come from
the clock, and this module still counts the steps, epochs, validation passes and scoring.

Examples
--------
>>> from multires.training.config import TrainConfig
>>> shape = TaskShape(length=64, channels_in=1, n_outputs=10, n_train=1259, n_val=179, n_test=359)
>>> cost = estimate_run(TrainConfig(max_seconds=60.0), shape)
>>> cost.steps, 1 < cost.peak_bytes / 2**20 < 100, cost.step_seconds < 0.2
(1185, True, True)
>>> over_budget(cost, max_bytes=2**20)[0].startswith("needs about")
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..cost import parameter_count
from ..options import MAX_RUN_BYTES, MAX_SCORING_SECONDS, MAX_STEP_SECONDS
from ..treeselect import memory_slots, receptive_field
from .config import TrainConfig

__all__ = [
    "BACKWARD_UNITS",
    "ELEMENTWISE_PASSES",
    "EVAL_BATCH",
    "EVAL_ELEMENTS",
    "FFT_RATE",
    "MeasuredRates",
    "MATMUL_RATE",
    "MEMORY_RATE",
    "OP_SECONDS",
    "RETAINED_UNITS",
    "RUN_OVERHEAD_BYTES",
    "SAVED_UNITS",
    "RunBudgetError",
    "RunCost",
    "TaskShape",
    "budget_summary",
    "check_budget",
    "estimate_run",
    "eval_batch",
    "over_budget",
]

#: Activations one layer saves for its backward pass, in units ``u`` (see the module docstring).
SAVED_UNITS = 6.5
#: Gradient buffers per layer that stay resident through the backward pass (measured), in ``u``.
RETAINED_UNITS = 4.0
#: Activation-sized buffers of one layer's backward pass besides its FFT buffers, in ``u``.
BACKWARD_UNITS = 4.0
#: The run's own bookkeeping (curves, optimizer objects, evaluation outputs), bytes.
RUN_OVERHEAD_BYTES = 16 * 2**20
#: Samples per forward pass of :func:`multires.training.evaluation.evaluate`, at most.
EVAL_BATCH = 512
#: Activation values (batch x d_model x length) one evaluation batch may hold: 8 MiB of float32.
EVAL_ELEMENTS = 2**21

#: Batch FFT work per second, in ``2.5 n log2 n`` units per row (one thread, shared machine).
FFT_RATE = 0.9e9
#: Dense multiply-add flops per second of the 1x1 mixers.
MATMUL_RATE = 8e9
#: Bytes per second of element-wise traffic.
MEMORY_RATE = 6e9
#: Fixed seconds per PyTorch call (dispatch, autograd bookkeeping, Python).
OP_SECONDS = 25e-6
#: Element-wise passes over one activation per layer and step (forward and backward).
ELEMENTWISE_PASSES = 40
_MAX_NFFT_RATIO = 4  # nfft < length + length - 1 rounded up to a power of two: less than 4 lengths
_OPS_PER_LAYER = 120  # autograd ops of one block, forward + backward, and its AdamW update
_OPS_PER_BAND_TAP = 8  # pad, multiply, add per tap of every band's filter, forward + backward
_FORWARD_SHARE = 1 / 3  # a forward pass is about a third of a training step


class RunBudgetError(ValueError):
    """A training run would cost more than its budget; the message says what to reduce."""


@dataclass(frozen=True)
class TaskShape:
    """What the estimate needs from a task: its sizes (no tensors)."""

    length: int
    channels_in: int
    n_outputs: int
    n_train: int
    n_val: int
    n_test: int
    kind: str = "classify"

    @classmethod
    def from_task(cls, task: Any) -> TaskShape:
        """The shape of a :class:`~multires.data.tasks.TaskData`."""
        return cls(int(task.length), int(task.channels_in), int(task.n_outputs), len(task.x_train),
                   len(task.x_val), len(task.x_test), str(task.kind))


@dataclass(frozen=True)
class MeasuredRates:
    """Times measured on this machine before a run (see :mod:`multires.training.calibrate`).

    Attributes
    ----------
    step_seconds : float
        One optimizer step of the run's model on a batch of the task (mean of the timed steps).
    forward_seconds_per_sample : float
        One series through the model in evaluation mode, at the evaluation batch size.
    steps_timed : int
        Optimizer steps the mean was taken over (after a warm-up step).
    seconds : float
        What the measurement itself took.
    """

    step_seconds: float
    forward_seconds_per_sample: float
    steps_timed: int
    seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("step_seconds", "forward_seconds_per_sample"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if not isinstance(self.steps_timed, int) or self.steps_timed < 1:
            raise ValueError(f"steps_timed must be a positive integer, got {self.steps_timed!r}")


@dataclass(frozen=True)
class RunCost:
    """The estimate of one training run (one seed).

    Attributes
    ----------
    parameters : int
        Trainable parameters.
    peak_bytes : int
        Peak memory the run adds to the server (see the module docstring for the parts).
    train_bytes, eval_bytes : int
        The training step's and evaluation's working memory (the peak holds the larger).
    persistent_bytes : int
        Parameters, gradients, optimizer state, best-epoch copy and saved kernel spectra.
    step_seconds : float
        One optimizer step.
    validation_seconds : float
        One pass over the validation split (at every epoch's end, inside the time bound).
    scoring_seconds : float
        The final scoring of the train, validation and test splits (after the time bound).
    steps : int
        Optimizer steps planned (whole epochs, at least ``min_steps``).
    train_seconds : float
        Training time: the planned steps and epoch-end validations, at most the time bound
        (which may overrun by one step and one validation pass).
    total_seconds : float
        ``train_seconds + scoring_seconds``: one seed from its first step to its result.
    nfft : int
        FFT length of every layer's convolution.
    forward_seconds_per_sample : float
        One series through the model in evaluation mode (validation and scoring are counted with it).
    measured_steps : int
        0 when the times come from the work-count model, else the optimizer steps they were measured on.
    """

    parameters: int
    peak_bytes: int
    train_bytes: int
    eval_bytes: int
    persistent_bytes: int
    step_seconds: float
    validation_seconds: float
    scoring_seconds: float
    steps: int
    train_seconds: float
    total_seconds: float
    nfft: int
    forward_seconds_per_sample: float = 0.0
    measured_steps: int = 0

    def summary(self) -> str:
        """One short line, e.g. ``"120 MB, 0.05 s/step, 60 s + 3 s scoring"`` (training + scoring time)."""
        return (f"{_megabytes(self.peak_bytes)}, {_seconds(self.step_seconds)}/step, "
                f"{self.train_seconds:.0f} s + {self.scoring_seconds:.0f} s scoring")


def eval_batch(d_model: int, length: int) -> int:
    """Samples per evaluation forward pass: at most :data:`EVAL_BATCH`, at most :data:`EVAL_ELEMENTS` values.

    >>> eval_batch(48, 64), eval_batch(256, 784)
    (512, 10)
    """
    return max(1, min(EVAL_BATCH, EVAL_ELEMENTS // max(1, d_model * length)))


def _megabytes(value: float) -> str:
    return f"{value / 2**30:.1f} GB" if value >= 2**30 else f"{value / 2**20:.0f} MB"


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


@dataclass(frozen=True)
class _Layer:
    """One layer's sizes: slots, bands, kernel taps and the FFT length at ``length``."""

    n_slots: int
    n_bands: int
    kernel_taps: int
    kernel_size: int
    nfft: int


def _layer(config: TrainConfig, shape: TaskShape) -> _Layer:
    model = config.model_config(shape)
    depth, k = model.resolved_depth, model.resolved_kernel_size
    slots = memory_slots(model.tree_select, depth, k, model.memory_size, model.max_lag)
    taps = receptive_field(depth, k) + max(s.lag for s in slots)
    used = min(taps, shape.length)  # causal_fft_conv drops taps beyond the sequence
    nfft = 1 << (shape.length + used - 2).bit_length()
    bands = len({(s.band, s.level) for s in slots})
    return _Layer(len(slots), bands, taps, k, nfft)


def _memory(config: TrainConfig, shape: TaskShape, layer: _Layer, parameters: int) -> tuple[int, int, int]:
    """(persistent, training step, evaluation) bytes."""
    d, n, layers = config.d_model, shape.length, config.n_layers
    persistent = 5 * 4 * parameters + layers * d * layer.nfft * 4
    u = config.batch_size * d * n * 4
    f = config.batch_size * d * layer.nfft * 4
    kernel_build = (layer.n_bands * layer.kernel_size + 4) * d * layer.kernel_taps * 4
    train = layers * (SAVED_UNITS + RETAINED_UNITS) * u + 3 * f + BACKWARD_UNITS * u + kernel_build
    largest_split = max(shape.n_train, shape.n_val, shape.n_test)
    batch = min(eval_batch(d, n), largest_split)
    evaluation = batch * d * (3 * n + 2 * layer.nfft) * 4
    if batch < min(EVAL_BATCH, largest_split):  # bounded by EVAL_ELEMENTS: count the bound (nfft < 4 length)
        evaluation = max(evaluation, EVAL_ELEMENTS * 4 * (3 + 2 * _MAX_NFFT_RATIO))
    evaluation += kernel_build
    return persistent, int(train), int(evaluation)


def _step_seconds(config: TrainConfig, shape: TaskShape, layer: _Layer) -> float:
    b, d, n, layers = config.batch_size, config.d_model, shape.length, config.n_layers
    fft = 5 * b * d * 2.5 * layer.nfft * math.log2(layer.nfft) + 2 * d * 2.5 * layer.nfft * math.log2(layer.nfft)
    matmul = 12 * b * n * d * d
    traffic = ELEMENTWISE_PASSES * b * d * n * 4 + 8 * b * d * layer.nfft * 4
    traffic += 3 * layer.n_bands * layer.kernel_size * d * layer.kernel_taps * 4 * 3  # kernel build, fwd + bwd
    ops = _OPS_PER_LAYER + _OPS_PER_BAND_TAP * layer.n_bands * layer.kernel_size
    per_layer = fft / FFT_RATE + matmul / MATMUL_RATE + traffic / MEMORY_RATE + ops * OP_SECONDS
    if config.tree_select == "learned":  # the pruning schedule ranks every candidate each step
        per_layer += (4 * d * layer.n_slots * 4 + d * layer.kernel_taps * 4) / MEMORY_RATE + 20 * OP_SECONDS
    head = (b * n * d * (shape.channels_in + 2) * 4 * 6) / MEMORY_RATE + 40 * OP_SECONDS
    return layers * per_layer + head


def estimate_run(config: TrainConfig, shape: TaskShape, rates: MeasuredRates | None = None) -> RunCost:
    """Estimate one seed's run of ``config`` on a task of ``shape``.

    ``rates``: step and forward times measured on this machine (:class:`MeasuredRates`); without
    them, the work-count model's conservative times.

    Raises
    ------
    ValueError
        The config cannot be built on this task (e.g. a memory size larger than the tree offers),
        with the model's own message.
    """
    config.validate()
    layer = _layer(config, shape)
    parameters = parameter_count(shape.channels_in, config.d_model, config.n_layers, layer.kernel_size,
                                 layer.n_slots, shape.n_outputs)
    persistent, train, evaluation = _memory(config, shape, layer, parameters)
    peak = persistent + max(train, evaluation) + RUN_OVERHEAD_BYTES
    if rates is None:
        step = _step_seconds(config, shape, layer)
        per_sample_forward = step * _FORWARD_SHARE / config.batch_size
    else:
        step, per_sample_forward = float(rates.step_seconds), float(rates.forward_seconds_per_sample)
    validation = shape.n_val * per_sample_forward
    scoring = (shape.n_train + shape.n_val + shape.n_test) * per_sample_forward
    steps_per_epoch = math.ceil(shape.n_train / config.batch_size)
    epochs = config.total_epochs(steps_per_epoch)
    steps = epochs * steps_per_epoch
    train_seconds = steps * step + epochs * validation
    if config.max_seconds is not None:
        train_seconds = min(train_seconds, config.max_seconds)
    return RunCost(parameters, int(peak), train, evaluation, persistent, step, validation, scoring, steps,
                   train_seconds, train_seconds + scoring, layer.nfft, per_sample_forward,
                   0 if rates is None else rates.steps_timed)


def budget_summary(max_bytes: int = MAX_RUN_BYTES, max_step_seconds: float = MAX_STEP_SECONDS,
                   max_scoring_seconds: float = MAX_SCORING_SECONDS) -> str:
    """The budget in short words, e.g. ``"1.5 GB, 2 s/step, 60 s scoring"``."""
    return f"{_megabytes(max_bytes)}, {max_step_seconds:g} s/step, {max_scoring_seconds:g} s scoring"


_REDUCE = "width, layers, the memory size M, the batch or the sequence length"


def over_budget(cost: RunCost, max_bytes: int = MAX_RUN_BYTES, max_step_seconds: float = MAX_STEP_SECONDS,
                max_scoring_seconds: float = MAX_SCORING_SECONDS) -> list[str]:
    """Why ``cost`` is over the budget, one sentence per bound exceeded (empty: within budget)."""
    reasons = []
    if cost.peak_bytes > max_bytes:
        reasons.append(f"needs about {_megabytes(cost.peak_bytes)} of memory, more than the "
                       f"{_megabytes(max_bytes)} one run may use (reduce {_REDUCE})")
    if cost.step_seconds > max_step_seconds:
        reasons.append(f"would take about {_seconds(cost.step_seconds)} per optimizer step, more than "
                       f"{max_step_seconds:g} s, so Stop and the time bound could not act within seconds "
                       f"(reduce {_REDUCE})")
    if cost.scoring_seconds > max_scoring_seconds:
        reasons.append(f"would take about {cost.scoring_seconds:.0f} s to score its splits after training, "
                       f"more than {max_scoring_seconds:g} s (reduce width, layers or the sequence length)")
    return reasons


def check_budget(config: TrainConfig, shape: TaskShape, **budget: Any) -> RunCost:
    """The estimate of ``config`` on ``shape``, or :class:`RunBudgetError` naming every bound it exceeds.

    ``budget`` overrides :func:`over_budget`'s bounds (``max_bytes``, ``max_step_seconds``,
    ``max_scoring_seconds``).
    """
    cost = estimate_run(config, shape)
    reasons = over_budget(cost, **budget)
    if reasons:
        raise RunBudgetError("This run " + "; it ".join(reasons) + ".")
    return cost
