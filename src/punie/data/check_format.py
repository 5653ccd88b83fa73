"""Render each example with the model's chat template and parse every assistant turn
with mlx-lm's own tool parser, as mlx_lm.server would parse the model's output.

If the parsed calls differ from the example's, training would teach the model calls
that the server cannot read back, e.g. a template that prints the OpenAI `arguments`
string through `tojson` and so quotes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from punie.data.validate import Issue, dataset_files, read_file


@dataclass(frozen=True)
class FormatReport:
    issues: tuple[Issue, ...]
    examples: int
    turns: int  # assistant turns rendered and parsed
    calls: int  # tool calls that round-tripped
    parser: str | None

    @property
    def ok(self) -> bool:
        return not self.issues


def split_tool_text(text: str, start: str, end: str) -> tuple[list[str], str, bool]:
    """mlx_lm.server's state logic over a finished generation: the text between each
    start and end marker is one call; the rest is content. Returns (calls, content,
    whether a call was left open)."""
    calls: list[str] = []
    content: list[str] = []
    pos = 0
    while True:
        i = text.find(start, pos)
        if i < 0:
            content.append(text[pos:])
            return calls, "".join(content), False
        content.append(text[pos:i])
        j = text.find(end, i + len(start))
        if j < 0:
            calls.append(text[i + len(start) :])
            return calls, "".join(content), True
        calls.append(text[i + len(start) : j])
        pos = j + len(end)


def _expected_calls(msg: dict) -> list[dict]:
    out = []
    for c in msg.get("tool_calls") or ():
        fn = c["function"]
        out.append({"name": fn["name"], "arguments": json.loads(fn["arguments"])})
    return out


def _strip_eos(text: str, tok: Any) -> str:
    # The server stops at EOS and never shows it; the rendered turn ends with it.
    for marker in (tok.eos_token, "<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
        if marker:
            text = text.rstrip()
            if text.endswith(marker):
                text = text[: -len(marker)]
    return text


def check_row_format(tok: Any, row: dict, path: str, lineno: int) -> tuple[list[Issue], int, int]:
    """Issues for one chat row, with counts of turns checked and calls matched."""
    issues: list[Issue] = []
    messages = row.get("messages")
    if not isinstance(messages, list):
        return issues, 0, 0
    tools = row.get("tools")
    turns = calls_ok = 0
    try:
        whole = list(tok.apply_chat_template(messages, tools=tools, return_dict=False))
    except Exception:
        whole = None  # reported per turn below
    for i, msg in enumerate(messages):
        if msg.get("role") != "assistant":
            continue
        turns += 1
        where = f"messages[{i}]"
        try:
            prompt = tok.apply_chat_template(
                messages[:i], tools=tools, add_generation_prompt=True, return_dict=False
            )
            full = tok.apply_chat_template(messages[: i + 1], tools=tools, return_dict=False)
        except Exception as exc:  # the template raising is a data/template mismatch
            issues.append(Issue(path, lineno, f"{where}: chat template failed: {exc}", "fix row"))
            continue
        if list(full[: len(prompt)]) != list(prompt):
            issues.append(
                Issue(
                    path,
                    lineno,
                    f"{where}: the rendered prompt is not a prefix of the rendered turn",
                    "mask_prompt would mask the wrong tokens; fix the chat template",
                )
            )
            continue
        if whole is not None and whole[: len(full)] != list(full):
            # Training masks every assistant turn of the row in one example, at the
            # token positions this turn has when rendered alone.
            issues.append(
                Issue(
                    path,
                    lineno,
                    f"{where}: the rendered turn is not a prefix of the rendered row",
                    "training would mask the wrong tokens of this trace; fix the chat template",
                )
            )
            continue
        text = _strip_eos(tok.decode(list(full[len(prompt) :])), tok)
        expected = _expected_calls(msg)
        if not tok.has_tool_calling:
            if expected:
                issues.append(
                    Issue(
                        path,
                        lineno,
                        f"{where}: the chat template has no tool-call format mlx-lm recognises",
                        "use a model whose template mlx-lm maps to a tool parser",
                    )
                )
            continue
        raw_calls, _, unclosed = split_tool_text(text, tok.tool_call_start, tok.tool_call_end)
        parsed: list[dict] = []
        parse_failed = False
        for raw in raw_calls:
            try:
                got = tok.tool_parser(raw, tools)
            except (ValueError, json.JSONDecodeError) as exc:
                issues.append(
                    Issue(
                        path,
                        lineno,
                        f"{where}: mlx-lm's parser cannot read the rendered call {raw.strip()[:80]!r}: {exc}",
                        "mlx_lm.server would drop this call; fix the template or the data",
                    )
                )
                got = []
                parse_failed = True
            parsed.extend(got if isinstance(got, list) else [got])
        if unclosed:
            issues.append(
                Issue(path, lineno, f"{where}: a rendered tool call is not closed", "fix template")
            )
        got_calls = [{"name": p.get("name"), "arguments": p.get("arguments")} for p in parsed]
        if got_calls == expected:
            calls_ok += len(expected)
            continue
        if any(isinstance(g["arguments"], str) for g in got_calls):
            issues.append(
                Issue(
                    path,
                    lineno,
                    f"{where}: the template prints `arguments` as a quoted JSON string",
                    "render the arguments string as-is (not through tojson): "
                    "the parser needs a JSON object",
                )
            )
        elif not parse_failed:
            issues.append(
                Issue(
                    path,
                    lineno,
                    f"{where}: parsed calls {json.dumps(got_calls, ensure_ascii=False)[:160]} "
                    f"!= example's {json.dumps(expected, ensure_ascii=False)[:160]}",
                    "the template, parser and data disagree",
                )
            )
    return issues, turns, calls_ok


def check_format(
    path: str | Path,
    model: str | Path,
    limit: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> FormatReport:
    """Render and parse every chat row of a file or folder (structural errors first).
    `on_progress(done, total)` is called after each row."""
    from punie.data.files import raise_for_errors
    from punie.data.tokens import load_tokenizer

    files = [read_file(p) for p in dataset_files(Path(path))]
    raise_for_errors([i for pf in files for i in pf.issues])
    tok = load_tokenizer(model)
    issues: list[Issue] = []
    n = turns = calls = 0
    total = sum(len(pf.rows) for pf in files)
    total = min(total, limit) if limit is not None else total
    for pf in files:
        for lineno, row in pf.rows:
            if n >= total:
                break
            n += 1
            if on_progress is not None:
                on_progress(n, total)
            found, t, c = check_row_format(tok, row, pf.path, lineno)
            issues.extend(found)
            turns += t
            calls += c
    parser = getattr(tok.tool_parser, "__module__", None) if tok.has_tool_calling else None
    return FormatReport(tuple(issues), n, turns, calls, parser)
