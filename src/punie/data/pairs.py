"""Preference pairs for `punie train --method dpo|orpo`: the format and its checks.

One JSONL row per pair, the conversation up to the assistant turn and the two
answers to it:

    {"messages": [...system/user/assistant/tool messages, ending with user or tool...],
     "tools": [...OpenAI function specs, optional...],
     "chosen": {"role": "assistant", "content": "", "tool_calls": [...]},
     "rejected": {"role": "assistant", "content": "", "tool_calls": [...]}}

Close to TRL's conversational preference rows ({prompt, chosen, rejected}), named the
way Punie's chat rows are. `messages` + `chosen` must be a valid chat row (every check
of `punie data validate`, the tool-argument schemas included). `rejected` only has to
render: it is an assistant message of the right shape, but it may call an undeclared
tool or break a schema, since a refused call is exactly what a pair pushes down.
Other top-level keys (where a pair was harvested from, say) are allowed and ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from punie.data.checks import Problem, check_messages, declared_tools, unchecked
from punie.data.validate import Issue, ValidationReport, dataset_files, gc_paused

ANSWERS = ("chosen", "rejected")


class _AnyTool(dict):
    """Tool specs under which every tool is declared and every argument object passes:
    a rejected call is checked for shape only."""

    def __contains__(self, name: object) -> bool:
        return True

    def __getitem__(self, name: str):
        return unchecked


def _answer_problems(messages: list, answer: Any, key: str, specs: dict | None) -> list[Problem]:
    """Problems of `answer` as the assistant turn after `messages`, named `key`."""
    if not isinstance(answer, dict):
        return [(f"`{key}` is not an object", 'give {"role": "assistant", "tool_calls": [...]}')]
    if answer.get("role") != "assistant":
        return [(f"`{key}` role is {answer.get('role')!r}", 'use "assistant"')]
    out: list[Problem] = []
    check_messages([*messages, answer], specs, out)
    here = f"messages[{len(messages)}]"
    # Only the answer's own problems: the prompt's are reported once, by the caller.
    return [(what.replace(here, f"`{key}`", 1), how) for what, how in out if what.startswith(here)]


def check_pair(row: Any) -> list[Problem]:
    """All problems of one parsed pair row, as (what is wrong, how to fix)."""
    if not isinstance(row, dict):
        return [
            ("row is not a JSON object", 'write one {"messages", "chosen", "rejected"} per line')
        ]
    missing = [k for k in ("messages", *ANSWERS) if k not in row]
    if missing:
        return [
            (
                f"pair has no {', '.join(f'`{k}`' for k in missing)}",
                "a pair row is {messages, tools?, chosen, rejected} (docs/train.md)",
            )
        ]
    out: list[Problem] = []
    specs = declared_tools(row.get("tools"), out)
    messages = row["messages"]
    if not isinstance(messages, list) or not messages:
        return [
            *out,
            ("`messages` is empty or not a list", "give the conversation before the turn"),
        ]
    last = messages[-1].get("role") if isinstance(messages[-1], dict) else None
    if last not in ("user", "tool"):
        out.append(
            (
                f"`messages` ends with a {last!r} message",
                "end it with the user or tool message the pair's assistant turn answers",
            )
        )
        return out
    prompt: list[Problem] = []
    check_messages(messages, specs, prompt)
    # check_messages wants the last turn to be an assistant's; here that turn is the answer.
    out.extend(p for p in prompt if not p[0].startswith("last message is not an assistant"))
    out.extend(_answer_problems(messages, row["chosen"], "chosen", specs))
    out.extend(_answer_problems(messages, row["rejected"], "rejected", _AnyTool()))
    if row["chosen"] == row["rejected"]:
        out.append(("`chosen` and `rejected` are the same", "a pair needs two different answers"))
    return out


def _check_file(path: Path) -> tuple[int, list[Issue]]:
    import json

    issues: list[Issue] = []
    rows = 0
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                issues.append(Issue(str(path), lineno, "blank line", "remove it"))
                continue
            try:
                row = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                msg = getattr(exc, "msg", str(exc))
                issues.append(
                    Issue(str(path), lineno, f"invalid JSON: {msg}", "one object per line")
                )
                continue
            rows += 1
            issues.extend(Issue(str(path), lineno, w, h) for w, h in check_pair(row))
    if not rows and not issues:
        issues.append(Issue(str(path), 0, "the file holds no pairs", "remove it or add rows"))
    return rows, issues


def validate_pairs(path: str | Path) -> ValidationReport:
    """Check a pairs file or a folder of them (train/valid/test.jsonl): every problem,
    each as `file:line: what (how to fix)`."""
    with gc_paused():
        issues: list[Issue] = []
        examples: dict[str, int] = {}
        for f in dataset_files(Path(path)):
            examples[str(f)], found = _check_file(f)
            issues.extend(found)
    return ValidationReport(tuple(issues), examples)
