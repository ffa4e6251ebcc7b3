"""Predict, then reveal: one question component for every page that asks the student to guess first.

The student answers (a radio, or a multiselect for several answers), presses **Reveal**, and the
page draws the answer only then. Changing the guess, or the question's ``context`` (a setting the
answer depends on), hides the answer again, so an answer is never shown beside a guess it was not
checked against. Used by the Coefficient tree, TREESELECT and the lesson path.

Widget keys: ``<key>_guess`` (the guess), ``<key>_reveal`` (the button); ``<key>_shown`` remembers
that the answer is revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

__all__ = ["Reveal", "hide", "predict_then_reveal", "reset", "shown", "verdict"]


@dataclass(frozen=True)
class Reveal:
    """The student's guess (``None``/empty before one) and whether the answer is to be drawn."""

    guess: Any
    shown: bool


def hide(key: str) -> None:
    """Hide the answer of question ``key`` (a callback: the guess or the question changed)."""
    st.session_state.pop(f"{key}_shown", None)


def reset(key: str) -> None:
    """Ask question ``key`` afresh (a callback: a new question in the same place): forget the guess and hide
    the answer."""
    hide(key)
    st.session_state.pop(f"{key}_guess", None)


def predict_then_reveal(key: str, options: Sequence[Any], *, prompt: str | None = None, label: str = "Your guess",
                        multi: bool = False, format_func: Callable[[Any], str] = str, horizontal: bool = True,
                        context: Hashable = None, help: str | None = None) -> Reveal:
    """Draw the question (``prompt``), the guess widget and the Reveal button; return the guess and state.

    ``multi`` asks for several answers (a multiselect); otherwise one (a radio with nothing picked).
    ``context``: when it differs from the last run's (say the question's M changed), the answer is
    hidden again.
    """
    context_key = f"_{key}_context"
    if st.session_state.get(context_key, context) != context:
        hide(key)
    st.session_state[context_key] = context
    if prompt:
        st.markdown(prompt, unsafe_allow_html=True)
    if multi:
        guess = st.multiselect(label, list(options), key=f"{key}_guess", format_func=format_func,
                               on_change=hide, args=(key,), help=help)
    else:
        guess = st.radio(label, list(options), index=None, key=f"{key}_guess", format_func=format_func,
                         horizontal=horizontal, on_change=hide, args=(key,), help=help)
    # a callback, not the button's return value: it runs before the next run, so a chart drawn above the
    # question can show the answer (outline the level, mark the lag) in the same run that reveals it
    st.button("Reveal", key=f"{key}_reveal", icon=":material/visibility:", on_click=_show, args=(key,),
              help="Commit to a guess first: the answer is checked against it.")
    return Reveal(guess, bool(st.session_state.get(f"{key}_shown")))


def _show(key: str) -> None:
    st.session_state[f"{key}_shown"] = True


def shown(key: str) -> bool:
    """Whether question ``key``'s answer is revealed (for a chart drawn above the question)."""
    return bool(st.session_state.get(f"{key}_shown"))


def verdict(right: bool, text: str) -> None:
    """The answer's first line: green when the guess was right, amber otherwise."""
    (st.success if right else st.warning)(text, icon=":material/check_circle:" if right else ":material/lightbulb:")
