"""ui.figure_cache: kept figures are found again by their arguments, Named ones by their name alone."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest
import streamlit as st

from multires.treeselect import Slot
from ui.figure_cache import HASH_NAMED, Named, cached_figure, unwrap
from ui.treeselect_data import learned_selection

_fresh = itertools.count()


@pytest.fixture
def builder():
    """A figure builder that records what it was called with; a new function per test (its own cache entries)."""
    calls = []
    tag = next(_fresh)

    def build(values, scale=1.0):
        calls.append(values)
        return go.Figure(go.Scatter(y=np.asarray(values, dtype=float) * scale, name=f"test {tag}"))

    build.__qualname__ = f"build_{tag}"
    build.calls = calls
    return build


def test_a_named_argument_is_found_by_its_name_and_the_builder_gets_its_value(builder):
    first = cached_figure(builder, Named(("table", 1), [1.0, 2.0]))
    again = cached_figure(builder, Named(("table", 1), [9.0, 9.0]))  # same name: the kept figure, not rebuilt
    assert again is first
    assert builder.calls == [[1.0, 2.0]]  # the value, not the Named wrapper


def test_a_new_name_builds_a_new_figure(builder):
    first = cached_figure(builder, Named("a", [1.0, 2.0]))
    second = cached_figure(builder, Named("b", [3.0, 4.0]))
    assert second is not first
    assert builder.calls == [[1.0, 2.0], [3.0, 4.0]]


def test_plain_arguments_are_still_hashed_by_value(builder):
    first = cached_figure(builder, [1.0, 2.0], scale=2.0)
    assert cached_figure(builder, [1.0, 2.0], scale=2.0) is first
    assert cached_figure(builder, [1.0, 2.0], scale=3.0) is not first
    assert cached_figure(builder, Named("a", [1.0, 2.0]), scale=Named("s", 2.0)) is not first
    assert builder.calls[-1] == [1.0, 2.0]
    assert len(builder.calls) == 3


def test_hash_named_serves_st_cache_data_too():
    calls = []

    @st.cache_data(hash_funcs=HASH_NAMED)
    def total(values: Named) -> float:
        calls.append(values.value)
        return float(sum(values.value))

    assert total(Named("x", [1, 2])) == 3.0
    assert total(Named("x", [5, 5])) == 3.0  # found by name
    assert total(Named("y", [5, 5])) == 10.0
    assert calls == [[1, 2], [5, 5]]


def test_unwrap():
    assert unwrap(Named("n", 5)) == 5
    assert unwrap(5) == 5


def test_learned_selection_names_change_with_the_mask_and_the_candidates():
    candidates = [Slot("approx", 3, 0), Slot("detail", 3, 0), Slot("detail", 1, 2)]
    mask = np.array([[True, False, True], [False, True, True]])
    name = learned_selection(candidates, mask).name
    assert learned_selection(list(candidates), mask.copy()).name == name
    flipped = mask.copy()
    flipped[1, 0] = True
    assert learned_selection(candidates, flipped).name != name
    assert learned_selection(candidates[:2] + [Slot("detail", 1, 4)], mask).name != name
    assert learned_selection(candidates, mask.reshape(3, 2)).name != name  # same bytes, another shape
    assert learned_selection(candidates, mask).value[1] is mask
