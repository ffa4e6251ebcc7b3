"""multires.analysis.explain: the per-step evidence adds up to the margin, and the kept windows are the slots' reach."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from multires import ModelConfig, MultiresNet, memory_slots
from multires.analysis.explain import explain_prediction, kept_windows
from multires.figures.explain import decision_figure
from multires.treeselect import receptive_field


def _net(**changes) -> MultiresNet:
    torch.manual_seed(0)
    return MultiresNet(ModelConfig(d_input=1, d_output=3, d_model=6, n_layers=2, seq_len=32, **changes)).eval()


def test_steps_and_bias_add_up_to_the_margin_and_match_the_network():
    net = _net()
    x = np.random.default_rng(0).normal(size=32)
    why = explain_prediction(net, x)
    with torch.no_grad():
        logits = net(torch.tensor(x, dtype=torch.float32)[None, None])[0]
    order = torch.argsort(logits, descending=True)
    assert (why.predicted, why.runner_up) == (int(order[0]), int(order[1]))
    assert why.margin == pytest.approx(float(logits[order[0]] - logits[order[1]]), abs=1e-5)
    assert why.steps.sum() + why.bias_margin == pytest.approx(why.margin, abs=1e-5)
    assert why.probabilities.sum() == pytest.approx(1.0) and why.probabilities.argmax() == why.predicted
    assert why.steps[why.decisive_step] == why.steps.max()


def test_training_mode_is_restored_and_bad_inputs_are_refused():
    net = _net().train()
    explain_prediction(net, np.zeros(32))
    assert net.training
    with pytest.raises(ValueError, match="series must be"):
        explain_prediction(net, np.zeros((2, 32)))
    with pytest.raises(ValueError, match="'pool' head"):
        explain_prediction(_net(head="last"), np.zeros(32))


def test_kept_windows_of_fading_end_at_n_and_reach_each_levels_receptive_field():
    net = _net()
    n = 20
    windows = kept_windows(net, 0, 0, n)
    slots = memory_slots("fading", net.convs[0].depth, 2)
    assert [w.name for w in windows] == [str(s) for s in slots]
    for w, s in zip(windows, slots):
        assert w.stop == n - s.lag
        assert w.start == max(n - receptive_field(s.level, 2) + 1, 0)


def test_kept_windows_of_uniform_are_shifted_by_their_lags():
    net = _net(tree_select="uniform", memory_size=6)
    windows = kept_windows(net, 0, 0, 31)
    lags = [w.lag for w in windows]
    assert [w.stop for w in windows] == [31 - lag for lag in lags] and max(lags) > 0


def test_decision_figure_draws_a_bar_per_kept_coefficient_and_the_evidence():
    net = _net()
    x = np.sin(np.arange(32) / 3)
    why = explain_prediction(net, x)
    windows = kept_windows(net, 0, 0, why.decisive_step)
    fig = decision_figure(x, why.steps, windows, why.decisive_step, "class a")
    names = [t.name for t in fig.data]
    assert names[0] == "series" and names[-2:] == ["evidence for class a", "evidence against"]
    assert len([n for n in names if n.startswith("kept: ")]) == len(windows)
    bars = fig.data[-2].y + fig.data[-1].y
    np.testing.assert_allclose(bars, why.steps)
