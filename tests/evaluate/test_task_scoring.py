"""score_task on outcomes directly: how a turn's ending decides before the checks."""

from __future__ import annotations

from punie.evaluate.task_scoring import Outcome, score_task
from punie.evaluate.tasks import TaskCase

CASE = TaskCase(
    id="q",
    category="no_tool",
    prompt="Closest planet to the Sun?",
    checks={"answer_contains": ["Mercury"]},
)


def test_an_answer_cut_off_at_max_tokens_is_checked_as_the_user_reads_it():
    cut = Outcome(answer="Mercury is the closest planet, orbiting at about", ended_by="max_tokens")
    assert score_task(CASE, cut).passed
    wrong = Outcome(answer="Venus is the closest planet, orbiting at about", ended_by="max_tokens")
    assert score_task(CASE, wrong).failure == "answer_contains"


def test_a_turn_cut_off_before_any_text_has_no_answer():
    assert score_task(CASE, Outcome(answer="", ended_by="max_tokens")).failure == "no_answer"


def test_a_looping_turn_never_passes_whatever_it_wrote():
    looped = Outcome(answer="Mercury", ended_by="repeat_guard")
    assert score_task(CASE, looped).failure == "no_answer"
