"""What a network costs, bounded before anything is built (the limits are in :mod:`multires.options`).

Every field of a config can be within its own range and the whole still be a bomb: ``dmey`` (62
taps) at depth 16 reaches back about 4 million samples, so one channel's kernel, and every page
that draws it, allocates arrays that long. :func:`check_layer_cost` bounds one layer (receptive
field, slots, kernel values) and :func:`check_network_cost` a whole network (every layer, and the
total parameters); both raise :class:`ConfigCostError` (a ``ValueError``) naming the bound, the
value and the reason. ``ModelConfig.validate`` and ``MultiresConv`` call them, so a checkpoint's
config is refused when it is read, before any model exists. :func:`parameter_count` is the one
formula for a network's trainable parameters (the run-cost estimate uses it too). Pure Python: no
PyTorch, and no config type: every function takes plain sizes.

Examples
--------
>>> layer_cost(channels=8, depth=6, kernel_size=2, n_slots=7, max_lag=0)
LayerCost(receptive_field=64, n_slots=7, kernel_values=512)
>>> check_layer_cost(channels=1, depth=16, kernel_size=62, n_slots=17, max_lag=0)
Traceback (most recent call last):
...
multires.cost.ConfigCostError: receptive field (k-1)(2**J-1)+1 = 3997636 samples (k = 62 taps, depth J = 16) is more than the 131072 allowed: every layer's kernel and tree views are that long; use a shorter wavelet or a smaller depth
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import MAX_CANDIDATE_SLOTS, MAX_KERNEL_VALUES, MAX_PARAMETERS, MAX_RECEPTIVE_FIELD
from .treeselect import memory_slots, receptive_field

__all__ = ["ConfigCostError", "LayerCost", "check_layer_cost", "check_network_cost", "check_receptive_field",
           "layer_cost", "parameter_count"]


class ConfigCostError(ValueError):
    """A config (or layer) would cost more than :mod:`multires.options` allows; the message says which bound."""


@dataclass(frozen=True)
class LayerCost:
    """Sizes one ``MultiresConv`` allocates."""

    receptive_field: int  # samples a_J[n] reaches back, (k-1)(2**J-1)+1
    n_slots: int  # memory slots held (the learned rule's candidates)
    kernel_values: int  # channels x (receptive field + largest slot lag): the composite kernel


def layer_cost(channels: int, depth: int, kernel_size: int, n_slots: int, max_lag: int) -> LayerCost:
    """Sizes of a layer with ``n_slots`` slots whose largest lag is ``max_lag``."""
    field = receptive_field(depth, kernel_size)
    return LayerCost(field, n_slots, channels * (field + max_lag))


def check_receptive_field(depth: int, kernel_size: int) -> int:
    """The receptive field, or :class:`ConfigCostError` when it exceeds ``MAX_RECEPTIVE_FIELD``."""
    field = receptive_field(depth, kernel_size)
    if field > MAX_RECEPTIVE_FIELD:
        raise ConfigCostError(
            f"receptive field (k-1)(2**J-1)+1 = {field} samples (k = {kernel_size} taps, depth J = {depth}) is more "
            f"than the {MAX_RECEPTIVE_FIELD} allowed: every layer's kernel and tree views are that long; use a "
            "shorter wavelet or a smaller depth")
    return field


def check_layer_cost(channels: int, depth: int, kernel_size: int, n_slots: int, max_lag: int) -> LayerCost:
    """:func:`layer_cost`, or :class:`ConfigCostError` when a size exceeds its bound in :mod:`multires.options`."""
    check_receptive_field(depth, kernel_size)
    cost = layer_cost(channels, depth, kernel_size, n_slots, max_lag)
    if cost.n_slots > MAX_CANDIDATE_SLOTS:
        raise ConfigCostError(f"a layer holds {cost.n_slots} memory slots, more than the {MAX_CANDIDATE_SLOTS} "
                              "allowed: each is a weight per channel and a row of the slot charts")
    if cost.kernel_values > MAX_KERNEL_VALUES:
        raise ConfigCostError(
            f"a layer's kernel would hold {channels} channels x ({cost.receptive_field} + {max_lag}) = "
            f"{cost.kernel_values} values, more than the {MAX_KERNEL_VALUES} allowed: use fewer channels, a smaller "
            "depth, a shorter wavelet or a smaller max_lag")
    return cost


def parameter_count(d_input: int, d_model: int, n_layers: int, kernel_size: int, n_slots: int, d_output: int) -> int:
    """Trainable parameters of a ``MultiresNet`` whose layers hold ``n_slots`` slots each.

    Counted from :mod:`multires.model`: the 1x1 encoder, per block the filters ``h0, h1``, the slot
    and skip weights ``w``, the 1x1 GLU mixer and the norm's scale and shift, then the decoder.

    >>> parameter_count(d_input=1, d_model=4, n_layers=2, kernel_size=2, n_slots=7, d_output=10)
    250
    """
    d = d_model
    encoder = d_input * d + d
    block = 2 * d * kernel_size + d * (n_slots + 1) + (d * 2 * d + 2 * d) + 2 * d  # h0 h1, w, GLU mixer, norm
    decoder = d * d_output + d_output
    return encoder + n_layers * block + decoder


def check_network_cost(*, d_input: int, d_output: int, d_model: int, n_layers: int, depth: int, kernel_size: int,
                       tree_select: str, memory_size: int | None, max_lag: int | None) -> None:
    """Refuse a network whose layers or total parameters exceed :mod:`multires.options` (``ConfigCostError``).

    A network whose memory cannot be built at all (e.g. ``memory_size`` larger than the tree offers)
    passes here; building it raises the ``ValueError`` that explains it.
    """
    check_receptive_field(depth, kernel_size)
    try:
        slots = memory_slots(tree_select, depth, kernel_size, memory_size, max_lag)
    except ValueError:
        return
    check_layer_cost(d_model, depth, kernel_size, len(slots), max(s.lag for s in slots))
    parameters = parameter_count(d_input, d_model, n_layers, kernel_size, len(slots), d_output)
    if parameters > MAX_PARAMETERS:
        raise ConfigCostError(f"the network would have {parameters} parameters, more than the {MAX_PARAMETERS} "
                              "allowed: use fewer channels or layers")
