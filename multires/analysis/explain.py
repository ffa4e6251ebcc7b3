"""Why a classifier decided: its per-time-step evidence and what its memory kept at one step.

A :class:`~multires.MultiresNet` with the ``pool`` head averages its last hidden states over time
and applies a linear decoder, so its logit for class ``c`` is exactly::

    logit_c = b_c + (1/N) * sum_n  W_c . h[:, n]

and the margin between the predicted class ``p`` and the runner-up ``q`` splits into one term per
time step, ``(W_p - W_q) . h[:, n] / N`` (plus ``b_p - b_q``): :func:`explain_prediction` returns
those terms. Positive steps pushed the decision towards ``p``.

:func:`kept_windows` says what the first layer's memory holds at a time step ``n``: every kept
coefficient ``(band, level, lag)`` summarises the input samples ``n - lag - R_l + 1 .. n - lag``,
where ``R_l = (k - 1)(2**l - 1) + 1`` is the receptive field of level ``l`` (``docs``: design.md
section 1). The first layer reads the input through a 1x1 convolution only, so these are windows of
the input itself (deeper layers mix them further).

Examples
--------
>>> import torch
>>> from multires import ModelConfig, MultiresNet
>>> net = MultiresNet(ModelConfig(d_input=1, d_output=2, d_model=4, n_layers=1, seq_len=16)).eval()
>>> why = explain_prediction(net, torch.randn(16).numpy())
>>> why.steps.shape, bool(abs(why.steps.sum() + why.bias_margin - why.margin) < 1e-4)
((16,), True)
>>> [(w.name, w.start, w.stop) for w in kept_windows(net, 0, 0, n=15)][:2]
[('a4[n]', 0, 15), ('b4[n]', 0, 15)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..treeselect import receptive_field

__all__ = ["Explanation", "KeptWindow", "explain_prediction", "kept_windows"]


@dataclass(frozen=True)
class Explanation:
    """A classifier's decision on one series (see the module notes)."""

    probabilities: np.ndarray  # (n_classes,) softmax of the logits
    predicted: int  # argmax class
    runner_up: int  # second most likely class
    steps: np.ndarray  # (N,) each time step's share of logit[predicted] - logit[runner_up]
    bias_margin: float  # the decoder bias's share
    margin: float  # logit[predicted] - logit[runner_up]

    @property
    def decisive_step(self) -> int:
        """The time step that pushed hardest towards the predicted class."""
        return int(np.argmax(self.steps))


@dataclass(frozen=True)
class KeptWindow:
    """One kept coefficient at time ``n``: its name and the input samples ``start..stop`` it summarises."""

    name: str  # e.g. "b3[n-8]"
    band: str
    level: int
    lag: int
    start: int  # first input sample (clipped at 0)
    stop: int  # last input sample (inclusive)


def _hidden(net, x):
    import torch  # on first use: the pages import this module before a model (and torch) is needed
    import torch.nn.functional as F

    h = net.encoder(x)
    for layer, mixer, norm in zip(net.layers, net.mixers, net.norms):
        z = F.glu(mixer(layer(h)), dim=1)
        h = norm(h + net.dropout(z))
    return h


def explain_prediction(net, series: np.ndarray) -> Explanation:
    """Per-step evidence of a pooled-head classifier ``net`` for one series (as fed to the network).

    Parameters
    ----------
    net : MultiresNet
        A classifier with ``config.head == "pool"`` and at least 2 outputs; run in eval mode here.
    series : array_like
        ``(N,)`` or ``(channels, N)``, already normalised as in training.

    Raises
    ------
    ValueError
        For another head, a single output, or a series of the wrong shape.
    """
    import torch  # on first use, as in _hidden

    if net.config.head != "pool":
        raise ValueError(f"explain_prediction needs the 'pool' head (time-averaged), got {net.config.head!r}")
    if net.config.d_output < 2:
        raise ValueError("explain_prediction needs a classifier with at least 2 classes")
    values = np.asarray(series, dtype=np.float32)
    if values.ndim == 1:
        values = values[None]
    if values.ndim != 2 or values.shape[0] != net.config.d_input:
        raise ValueError(f"series must be (length,) or ({net.config.d_input}, length), got {np.shape(series)}")
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            h = _hidden(net, torch.from_numpy(values)[None])[0]  # (H, N)
            logits = net.decoder(h.mean(dim=-1))
            order = torch.argsort(logits, descending=True)
            p, q = int(order[0]), int(order[1])
            w = net.decoder.weight[p] - net.decoder.weight[q]
            steps = (w @ h) / h.shape[-1]
            bias = float(net.decoder.bias[p] - net.decoder.bias[q])
            probs = torch.softmax(logits, dim=0)
    finally:
        net.train(was_training)
    return Explanation(probabilities=probs.double().numpy(), predicted=p, runner_up=q,
                       steps=steps.double().numpy(), bias_margin=bias, margin=float(logits[p] - logits[q]))


def kept_windows(net, layer: int, channel: int, n: int) -> list[KeptWindow]:
    """The input windows the kept coefficients of ``layer``/``channel`` summarise at time ``n``."""

    slots, _weights = net.memory(layer, channel)
    k = net.convs[layer].kernel_size
    out = []
    for slot in slots:
        reach = receptive_field(slot.level, k)
        stop = n - slot.lag
        out.append(KeptWindow(name=str(slot), band=slot.band, level=slot.level, lag=slot.lag,
                              start=max(stop - reach + 1, 0), stop=stop))
    return out
