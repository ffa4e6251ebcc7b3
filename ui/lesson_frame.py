"""The lesson path's building blocks: a step (its title, the page its chart comes from, its sentence, and
the function that draws the chart and returns its predict-then-reveal :class:`Question`), and what the
steps share (chart heights, the lesson's models).

A step is a function that draws its chart and returns its :class:`Question`; its docstring is the
sentence the student reads, and the ``@step`` above it gives its title and the page the chart comes
from. The steps are in :mod:`ui.lesson_memory` and :mod:`ui.lesson_models`; :mod:`ui.lesson` puts them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ui.charts import presenting
from ui.models import shipped_models
from ui.pickers import selection

__all__ = ["COMPARE", "FILTERS", "HOME", "LESSON_MODELS", "TREESELECT", "TREE_PAGE", "Question", "Step", "height",
           "lesson_model", "shorter", "step"]

#: The shipped models the lesson shows (the sidebar's model stands in for any that is missing).
LESSON_MODELS = {"default": "digits-fading-haar", "learned": "digits-learned8-haar"}
HOME, TREE_PAGE, FILTERS = "app_pages/0_Home.py", "app_pages/3_Coefficient_tree.py", "app_pages/2_Filters.py"
TREESELECT, COMPARE = "app_pages/4_TREESELECT.py", "app_pages/6_Compare.py"


@dataclass(frozen=True)
class Question:
    """A predict-then-reveal question: options, the right one, why, and (optionally) the chart that shows the
    answer, drawn only on reveal (a chart that shows the answer before the guess would make it no question)."""

    prompt: str
    options: list[str]
    answer: str
    why: str
    answer_chart: Callable[[], None] | None = None


@dataclass(frozen=True)
class Step:
    title: str
    page: str  # the page the chart comes from: "app_pages/<file>.py"
    page_label: str
    sentence: str
    draw: Callable[[], Question]  # draws the chart, returns the question

    @property
    def question_key(self) -> str:
        """The key of the step's question (:func:`ui.reveal.predict_then_reveal`): ``lesson_q_<name>`` from
        the step function's name (``footprint_step``: ``lesson_q_footprint``)."""
        return f"lesson_q_{self.draw.__name__.strip('_').removesuffix('_step')}"


def height(normal: int) -> int:
    """Chart height: shorter when presenting, so the chart stays above the fold at 1280 x 720."""
    return min(normal, 300) if presenting() else normal


def lesson_model(role: str) -> Any:
    """A shipped lesson model, or the sidebar's model when it is not shipped with this copy of the app."""
    return shipped_models().get(LESSON_MODELS[role]) or selection().entry


def step(title: str, page: str, page_label: str, **values: Any) -> Callable[[Callable[[], Question]], Step]:
    """Make the decorated function a lesson :class:`Step`. Its docstring is the step's sentence (shown to the
    student), with ``{name}`` filled in from ``values``."""

    def make(draw: Callable[[], Question]) -> Step:
        if not draw.__doc__:
            raise RuntimeError(f"lesson step {draw.__name__} has no docstring (its sentence): run Python without -OO")
        return Step(title, page, page_label, " ".join(draw.__doc__.split()).format(**values), draw)

    return make


def shorter(fig):
    """A copy of ``fig`` 330 px high (presentation mode: the chart stays above the fold)."""
    import plotly.graph_objects as go

    fig = go.Figure(fig)
    fig.update_layout(height=330)
    return fig
