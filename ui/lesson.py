"""The lesson path: the app's story in order, one step per screen — a page's key chart, one sentence,
one predict-then-reveal question.

Every chart is drawn by the figure builder of the page it comes from (nothing here is a new chart);
what the path adds is the order and the questions. The steps are in :mod:`ui.lesson_memory` (the tree,
fading, uniform) and :mod:`ui.lesson_models` (learned filters and selection); what a step is, in
:mod:`ui.lesson_frame`.
"""

from __future__ import annotations

from ui import lesson_memory as memory
from ui import lesson_models as models
from ui.lesson_frame import LESSON_MODELS, Question, Step

__all__ = ["LESSON_MODELS", "STEPS", "Question", "Step", "step_from_link"]

#: The lesson, in order.
STEPS: list[Step] = [
    memory.tree_step, memory.energy_step, memory.footprint_step, memory.fading_recall_step, memory.uniform_step,
    models.filters_step, models.convolution_step, models.learned_choice_step, models.learned_better_step,
]


def step_from_link(value: str | None) -> tuple[int, str | None]:
    """The step (1-based) a link's ``?step=`` asks for, and a problem to report when it is not a step.

    >>> step_from_link("3"), step_from_link(None)
    ((3, None), (1, None))
    >>> step_from_link("99")[1]
    'step=99 is not a step of the lesson (1..9); showing step 1'
    """
    if value is None:
        return 1, None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if 1 <= number <= len(STEPS):
        return number, None
    return 1, f"step={value} is not a step of the lesson (1..{len(STEPS)}); showing step 1"
