"""Import local files in other chat formats into Punie's schema.

Each converter maps one source row to one chat row or raises `ValueError` with what
is wrong; `import_file` collects every failure as `file:line` and then validates the
converted rows with the same checks as `punie data validate`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from punie.data.checks import check_row
from punie.data.schema import canonical_arguments
from punie.data.validate import Issue
from punie.jsonl import parse_lines

FORMATS = ("openai", "sharegpt", "glaive", "alpaca")


def _args_string(args: Any) -> str:
    """OpenAI arguments string from a dict or string; re-dumped canonically."""
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError as exc:
            raise ValueError(f"tool call arguments are not JSON: {exc}") from exc
    if not isinstance(args, dict):
        raise ValueError("tool call arguments are not a JSON object")
    return canonical_arguments(args)


def _text(content: Any) -> Any:
    if isinstance(content, list):  # OpenAI content parts
        if any(not isinstance(p, dict) or p.get("type") != "text" for p in content):
            raise ValueError("content has non-text parts (images are not supported)")
        return "".join(p.get("text", "") for p in content)
    return content


def _tools(value: Any) -> list | None:
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list):
        raise ValueError("tools is not a list")
    # Bare function specs (name/parameters) are wrapped in the OpenAI envelope.
    return [t if "function" in t else {"type": "function", "function": t} for t in value]


def from_openai(row: dict) -> dict:
    out = dict(row)
    messages = []
    for m in row.get("messages") or []:
        m = dict(m)
        if "content" in m:
            m["content"] = _text(m["content"])
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                fn = dict(c.get("function") or {})
                fn["arguments"] = _args_string(fn.get("arguments", {}))
                calls.append({**c, "type": c.get("type", "function"), "function": fn})
            m["tool_calls"] = calls
        messages.append(m)
    out["messages"] = messages
    if "tools" in row:
        out["tools"] = _tools(row["tools"])
        if out["tools"] is None:
            del out["tools"]
    return out


_SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "observation": "tool",
    "tool": "tool",
}


def from_sharegpt(row: dict) -> dict:
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise ValueError('no "conversations" list')
    messages: list[dict] = []
    pending: list[str] = []
    n = 0
    for t in turns:
        who, value = t.get("from"), t.get("value")
        if who in ("function_call", "tool_call"):
            call = json.loads(value) if isinstance(value, str) else value
            n += 1
            cid = f"call_{n}"
            fn = {"name": call.get("name"), "arguments": _args_string(call.get("arguments", {}))}
            messages.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"id": cid, "type": "function", "function": fn}],
                }
            )
            pending.append(cid)
            continue
        role = _SHAREGPT_ROLES.get(who)
        if role is None:
            raise ValueError(
                f"unknown speaker {who!r} (expected human, gpt, system, function_call, observation)"
            )
        msg: dict[str, Any] = {"role": role, "content": value}
        if role == "tool":
            if not pending:
                raise ValueError("observation without a preceding function_call")
            msg["tool_call_id"] = pending.pop(0)
        messages.append(msg)
    out: dict[str, Any] = {"messages": messages}
    tools = _tools(row.get("tools"))
    if tools:
        out["tools"] = tools
    for key in ("category", "meta", "id"):
        if key in row:
            out[key] = row[key]
    return out


_GLAIVE_TURN = re.compile(r"(USER:|ASSISTANT:|FUNCTION RESPONSE:)")
_GLAIVE_CALL = re.compile(r"<functioncall>\s*(\{.*\})", re.S)


def _glaive_call(text: str) -> dict:
    body = _GLAIVE_CALL.search(text)
    if not body:
        raise ValueError("malformed <functioncall>")
    raw = body.group(1)
    # Glaive quotes the arguments object with single quotes: '{"a": 1}'.
    m = re.match(
        r'\s*\{\s*"name"\s*:\s*"([^"]+)"\s*,\s*"arguments"\s*:\s*\'(.*)\'\s*\}\s*$', raw, re.S
    )
    if m:
        return {"name": m.group(1), "arguments": _args_string(m.group(2))}
    call = json.loads(raw)
    return {"name": call["name"], "arguments": _args_string(call.get("arguments", {}))}


def _glaive_tools(system: str) -> list:
    tools, dec, i = [], json.JSONDecoder(), system.find("{")
    while i >= 0:
        spec, end = dec.raw_decode(system, i)
        tools.append({"type": "function", "function": spec})
        i = system.find("{", end)
    return tools


def from_glaive(row: dict) -> dict:
    system, chat = row.get("system", ""), row.get("chat")
    if not isinstance(chat, str):
        raise ValueError('no "chat" text')
    tools = _glaive_tools(system) if "{" in system else []
    head = system.split("{", 1)[0].replace("SYSTEM:", "").strip().rstrip("-").strip()
    messages: list[dict] = [{"role": "system", "content": head}] if head else []
    parts = _GLAIVE_TURN.split(chat)
    n = 0
    for marker, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.replace("<|endoftext|>", "").strip()
        if marker == "USER:":
            messages.append({"role": "user", "content": body})
        elif marker == "FUNCTION RESPONSE:":
            messages.append({"role": "tool", "tool_call_id": f"call_{n}", "content": body})
        elif "<functioncall>" in body:
            n += 1
            call = {"id": f"call_{n}", "type": "function", "function": _glaive_call(body)}
            messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        else:
            messages.append({"role": "assistant", "content": body})
    out: dict[str, Any] = {"messages": messages}
    if tools:
        out["tools"] = tools
    return out


def from_alpaca(row: dict) -> dict:
    instruction, extra, output = row.get("instruction"), row.get("input") or "", row.get("output")
    if not isinstance(instruction, str) or not isinstance(output, str):
        raise ValueError('needs "instruction" and "output" strings')
    prompt = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    return {
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
    }


CONVERTERS: dict[str, Callable[[dict], dict]] = {
    "openai": from_openai,
    "sharegpt": from_sharegpt,
    "glaive": from_glaive,
    "alpaca": from_alpaca,
}


def _source_rows(path: Path) -> list[tuple[int, Any]]:
    """Rows of a .jsonl file (line numbers) or a .json array (item index + 1)."""
    raw = path.read_bytes()
    if path.suffix == ".json":
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, list):
            raise ValueError("a .json file must hold a list of rows")
        return list(enumerate(data, 1))
    rows = list(parse_lines(raw.decode("utf-8").split("\n")))
    if any(isinstance(v, ValueError) for _, v in rows):
        raise ValueError("a line is not JSON")  # the validator's reader names each one
    return rows


def import_file(path: str | Path, fmt: str) -> tuple[list[dict], list[Issue]]:
    """(converted rows, every problem found). Rows are only usable if there are no issues."""
    from punie.errors import PunieError

    if fmt not in CONVERTERS:
        raise PunieError(f"format {fmt!r} is unknown", hint=f"use one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.is_file():
        raise PunieError(f"{path} is not a file", hint="give a .jsonl or .json file")
    try:
        rows = _source_rows(path)
    except (ValueError, UnicodeDecodeError):
        # Per-line JSON/UTF-8 errors are reported by the validator's reader.
        from punie.data.validate import read_file

        return [], [i for i in read_file(path).issues if i.severity == "error"] or [
            Issue(str(path), 0, "not valid JSON", "give JSONL or a JSON list")
        ]
    convert = CONVERTERS[fmt]
    out, issues = [], []
    for lineno, row in rows:
        try:
            if not isinstance(row, dict):
                raise ValueError("row is not a JSON object")
            new = convert(row)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            issues.append(
                Issue(str(path), lineno, f"cannot read as {fmt}: {exc}", "fix or drop the row")
            )
            continue
        for what, how in check_row(new, "chat"):
            issues.append(Issue(str(path), lineno, what, how))
        out.append(new)
    return out, issues
