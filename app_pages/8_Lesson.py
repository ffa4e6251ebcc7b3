"""Lesson path: the story in order, one step per screen, the step in the URL (``?step=3``) so a class
can follow one link. The steps (chart, sentence, question) are in ``ui.lesson``."""

from __future__ import annotations

import streamlit as st

from ui import lesson
from ui.reveal import predict_then_reveal, verdict
from ui.safe_text import plain

STEPS = lesson.STEPS
step, problem = lesson.step_from_link(st.query_params.get("step"))
if problem:
    st.warning(plain(f"Ignored a link parameter: {problem}."), icon=":material/link_off:")


def go_to(number: int) -> None:
    """Next/Back: the URL carries the step, so the browser's address bar is always a link to this screen."""
    st.query_params["step"] = str(number)


current = STEPS[step - 1]
head, back, forward = st.columns([6, 1, 1], vertical_alignment="bottom")
head.title(f"Lesson {step}/{len(STEPS)}: {current.title}")
back.button("Back", key="lesson_back", icon=":material/arrow_back:", on_click=go_to, args=(step - 1,),
            disabled=step == 1, width="stretch")
forward.button("Next", key="lesson_next", icon=":material/arrow_forward:", on_click=go_to, args=(step + 1,),
               disabled=step == len(STEPS), type="primary", width="stretch")
st.markdown(current.sentence, unsafe_allow_html=True)
question = current.draw()

asked = predict_then_reveal(current.question_key, question.options, prompt=f"**Predict:** {question.prompt}", label="Your answer")
if asked.shown:
    right = asked.guess == question.answer
    verdict(right, ("Right: " if right else f"Not quite (you said: {asked.guess or 'nothing'}). The answer: ")
            + question.answer + ".")
    st.markdown(question.why, unsafe_allow_html=True)
    if question.answer_chart is not None:
        question.answer_chart()
st.page_link(current.page, label=f"Explore this on its page: {current.page_label}", icon=":material/open_in_new:")
st.caption(f"Step {step} of {len(STEPS)}. Share this screen with a class: its address ends in ?step={step}.")
