"""The context budget's pure core: counting, clipping tool results, dropping whole
turns, and refusing what cannot fit (punie.agent.context)."""

from __future__ import annotations

import pytest
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from punie.agent.context import (
    MESSAGE_OVERHEAD,
    ContextBudget,
    ContextFull,
    TokenCounter,
    fit_messages,
    tokenizer_counter,
)


def budget(window: int = 1000) -> ContextBudget:
    return ContextBudget(window, TokenCounter(), "test")


def turn(i: int, result: str = "ok") -> list:
    """A finished turn: prompt, a call, its result, the answer."""
    return [
        ModelRequest([UserPromptPart(f"question {i}")]),
        ModelResponse([ToolCallPart("read_file", {"path": f"f{i}"}, tool_call_id=f"c{i}")]),
        ModelRequest([ToolReturnPart("read_file", result, tool_call_id=f"c{i}")]),
        ModelResponse([TextPart(f"answer {i}")]),
    ]


def prompt(text: str = "now") -> list:
    return [ModelRequest([UserPromptPart(text)])]


def prompts(messages: list) -> list[str]:
    return [p.content for m in messages for p in m.parts if isinstance(p, UserPromptPart)]


def results(messages: list) -> list[str]:
    return [p.content for m in messages for p in m.parts if isinstance(p, ToolReturnPart)]


def test_the_estimate_is_one_token_per_3_characters():
    assert TokenCounter().text("x" * 30) == 10
    assert TokenCounter().text("x" * 31) == 11


def test_the_tokenizer_counter_counts_with_the_model_folders_tokenizer(tiny_model):
    from tokenizers import Tokenizer

    counter = tokenizer_counter(tiny_model)
    text = "def add(a, b):\n    return a + b\n"
    tok = Tokenizer.from_file(str(tiny_model / "tokenizer.json"))
    assert counter.exact
    assert counter.text(text) == len(tok.encode(text, add_special_tokens=False).ids)


def test_a_folder_without_a_tokenizer_gets_no_tokenizer_counter(tmp_path):
    assert tokenizer_counter(tmp_path) is None


def test_a_part_already_in_the_history_is_tokenized_once():
    calls = []
    counter = TokenCounter(lambda s: calls.append(s) or len(s), "counting")
    history = turn(0, "a long result " * 50) + prompt()
    for _ in range(3):
        sum(counter.message(m) for m in history)
    assert len(calls) == len([p for m in history for p in m.parts])


def test_a_history_that_fits_is_sent_unchanged():
    history = turn(0) + turn(1) + prompt()
    fit = fit_messages(history, 100, 900, budget())
    assert fit.messages == history and not fit.changed
    assert fit.used == 100 + sum(TokenCounter().message(m) for m in history)


def test_a_tool_result_over_its_share_of_the_window_is_clipped_with_a_marker():
    big = "line of output\n" * 400  # 2000 tokens, the share is 250
    fit = fit_messages(turn(0, big) + prompt(), 0, 100_000, budget(1000))
    (clipped,) = results(fit.messages)
    assert TokenCounter().text(clipped) <= 250
    assert f"[punie: cut {fit.clipped[0]} tokens of this result]" in clipped
    assert clipped.startswith("line of output") and clipped.endswith("line of output\n")


def test_a_tool_result_within_its_share_is_not_clipped():
    fit = fit_messages(turn(0, "x" * 750) + prompt(), 0, 100_000, budget(1000))
    assert results(fit.messages) == ["x" * 750] and fit.clipped == ()


def test_the_oldest_whole_turns_are_dropped_first():
    history = turn(0, "a" * 700) + turn(1, "b" * 700) + turn(2, "c" * 700) + prompt()
    room = sum(TokenCounter().message(m) for m in history[4:])
    fit = fit_messages(history, 0, room, budget(100_000))
    assert fit.dropped_turns == 1
    assert fit.messages == history[4:]


def test_a_tool_call_is_never_separated_from_its_result():
    history = turn(0, "a" * 700) + turn(1, "b" * 700) + prompt()
    # Room for one message fewer than the history: the cut must still take turn 0 whole.
    room = sum(TokenCounter().message(m) for m in history[1:])
    fit = fit_messages(history, 0, room, budget(100_000))
    calls = {p.tool_call_id for m in fit.messages for p in m.parts if isinstance(p, ToolCallPart)}
    returns = {
        p.tool_call_id for m in fit.messages for p in m.parts if isinstance(p, ToolReturnPart)
    }
    assert calls == returns == {"c1"}
    assert isinstance(fit.messages[0], ModelRequest) and prompts(fit.messages) == [
        "question 1",
        "now",
    ]


def test_the_current_prompt_stays_when_every_older_turn_goes():
    history = turn(0, "a" * 700) + turn(1, "b" * 700) + prompt("the question now")
    fit = fit_messages(history, 0, 50, budget(100_000))
    assert fit.dropped_turns == 2
    assert prompts(fit.messages) == ["the question now"]


def test_earlier_steps_of_the_current_turn_go_once_older_turns_are_gone():
    steps = []
    for i in range(4):
        steps += [
            ModelResponse([ToolCallPart("read_file", {"path": "a"}, tool_call_id=f"s{i}")]),
            ModelRequest([ToolReturnPart("read_file", "r" * 350, tool_call_id=f"s{i}")]),
        ]
    history = prompt() + steps
    keep = history[:1] + history[-2:]
    fit = fit_messages(history, 0, sum(TokenCounter().message(m) for m in keep), budget(100_000))
    assert fit.dropped_steps == 3
    assert fit.messages == keep  # the prompt and the latest call with its result


def test_the_system_prompt_survives_dropping_the_first_turn():
    history = turn(0, "a" * 700) + prompt()
    history[0] = ModelRequest([SystemPromptPart("be brief"), UserPromptPart("question 0")])
    fit = fit_messages(history, 0, 40, budget(100_000))
    assert fit.dropped_turns == 1
    assert [type(p) for p in fit.messages[0].parts] == [SystemPromptPart, UserPromptPart]


def test_results_are_clipped_harder_before_the_request_is_refused():
    history = prompt() + [
        ModelResponse([ToolCallPart("read_file", {"path": "a"}, tool_call_id="s")]),
        ModelRequest([ToolReturnPart("read_file", "r" * 3000, tool_call_id="s")]),
    ]
    fit = fit_messages(history, 0, 300, budget(1000))  # the share alone would be 250
    assert fit.used <= 300 and "[punie: cut" in results(fit.messages)[0]


def test_a_prompt_that_cannot_fit_is_refused():
    with pytest.raises(ContextFull, match="needs .* tokens"):
        fit_messages(turn(0) + prompt("x" * 4000), 100, 500, budget(1000))


def test_the_fixed_part_counts_against_the_room():
    history = prompt("x" * 300)  # 100 tokens + the message overhead
    fit_messages(history, 400 - 100 - MESSAGE_OVERHEAD, 400, budget())
    with pytest.raises(ContextFull):
        fit_messages(history, 400 - 100 - MESSAGE_OVERHEAD + 1, 400, budget())


def test_the_reply_reserve_is_max_tokens_else_a_quarter_of_a_small_window():
    assert budget(1000).reserve(64) == 64
    assert budget(1000).reserve(None) == 250
    assert budget(100_000).reserve(None) == 1024
