"""Tool-calling data for Punie's agent tools (`punie.toolspec.AGENT_TOOLS`).

`generate_tools` builds whole traces played through the real tools
(`punie.data.gen_traces`). The older single-turn generator below (`tool_example`,
invented tool results) now only feeds `bench/data.py`'s validation benchmark; the
`tools`/`no-tool` suites come from the task plans (`punie.evaluate.gen_suites`).

In it every example carries the exact AGENT_TOOLS specs in `tools` and a `category`.
Single calls end at the call (half of them go on through an invented tool result to a
short answer), multi-step traces chain two calls, and no-tool examples answer a
general Python question directly, drawn from a `gen_pools.Pool`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from punie.data.gen_pools import Pool
from punie.data.schema import tool_call
from punie.toolspec import AGENT_TOOLS

CATEGORIES = (
    "read_file",
    "write_file",
    "list_dir",
    "search",
    "run_command",
    "multi_step",
    "no_tool",
)

Msgs = list[dict[str, Any]]


class _Trace:
    """Builds one conversation; call ids count up per trace like an agent's would."""

    def __init__(self, rng: random.Random, pool: Pool, user: str):
        self.rng, self.pool = rng, pool
        self.messages: Msgs = [{"role": "user", "content": user}]
        self.n = 0

    def call(self, name: str, **args: Any) -> str:
        self.n += 1
        cid = f"call_{self.n}"
        self.messages.append(
            {"role": "assistant", "content": "", "tool_calls": [tool_call(cid, name, args)]}
        )
        return cid

    def result(self, cid: str, content: str) -> None:
        self.messages.append({"role": "tool", "tool_call_id": cid, "content": content})

    def answer(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": text})


def _dir(rng: random.Random, pool: Pool) -> str:
    return rng.choice(pool.dirs)


def _path(rng: random.Random, pool: Pool) -> str:
    name = rng.choice(pool.files)
    return name if rng.random() < 0.2 else f"{rng.choice(pool.dirs)}/{name}"


def _listing(rng: random.Random, pool: Pool) -> list[str]:
    return sorted(rng.sample(pool.files, 3))


def _read(rng: random.Random, pool: Pool) -> Msgs:
    fname, desc, content = rng.choice(pool.contents)
    full = rng.random() < 0.5
    path = f"{_dir(rng, pool)}/{fname}" if full else _path(rng, pool)
    t = _Trace(rng, pool, rng.choice(pool.read).format(path=path))
    cid = t.call("read_file", path=path)
    if full:
        t.result(cid, content)
        t.answer(f"`{path}` holds {desc}.")
    return t.messages


def _write(rng: random.Random, pool: Pool) -> Msgs:
    fname, desc, content = rng.choice(pool.contents)
    path = fname if rng.random() < 0.4 else f"{_dir(rng, pool)}/{fname}"
    t = _Trace(rng, pool, rng.choice(pool.write).format(path=path, desc=desc))
    cid = t.call("write_file", path=path, content=content)
    if rng.random() < 0.5:
        t.result(cid, f"wrote {len(content.encode())} bytes to {path}")
        t.answer(f"Created `{path}` with {desc}.")
    return t.messages


def _list(rng: random.Random, pool: Pool) -> Msgs:
    path = _dir(rng, pool) if rng.random() < 0.85 else rng.choice(pool.roots)
    t = _Trace(rng, pool, rng.choice(pool.list_dir).format(path=path))
    cid = t.call("list_dir", path=path)
    if rng.random() < 0.5:
        files = _listing(rng, pool)
        t.result(cid, "\n".join(files))
        t.answer(f"`{path}` has {', '.join(files[:-1])} and {files[-1]}.")
    return t.messages


def _search(rng: random.Random, pool: Pool) -> Msgs:
    pattern = rng.choice(pool.patterns)
    if rng.random() < 0.35:
        path = _dir(rng, pool)
        t = _Trace(rng, pool, rng.choice(pool.search_in).format(path=path, pattern=pattern))
        cid = t.call("search", pattern=pattern, path=path)
    else:
        t = _Trace(rng, pool, rng.choice(pool.search).format(pattern=pattern))
        cid = t.call("search", pattern=pattern)
    if rng.random() < 0.5:
        hit = _path(rng, pool)
        line = rng.randint(3, 120)
        t.result(cid, f"{hit}:{line}: {pattern}")
        t.answer(f"`{pattern}` appears in `{hit}` at line {line}.")
    return t.messages


def _run(rng: random.Random, pool: Pool) -> Msgs:
    command, output, summary = rng.choice(pool.commands)
    t = _Trace(rng, pool, rng.choice(pool.run).format(command=command))
    cid = t.call("run_command", command=command)
    if rng.random() < 0.5:
        t.result(cid, output)
        t.answer(summary)
    return t.messages


def _multi(rng: random.Random, pool: Pool) -> Msgs:
    fname, desc, content = rng.choice(pool.contents)
    kind = rng.randrange(3)
    if kind == 0:
        pattern = rng.choice(pool.patterns)
        path = f"{_dir(rng, pool)}/{fname}"
        t = _Trace(rng, pool, rng.choice(pool.find_then_read).format(pattern=pattern))
        t.result(t.call("search", pattern=pattern), f"{path}:{rng.randint(3, 90)}: {pattern}")
    elif kind == 1:
        folder = _dir(rng, pool)
        path = f"{folder}/{fname}"
        t = _Trace(rng, pool, rng.choice(pool.list_then_read).format(path=folder))
        others = [f for f in pool.files if f > fname][:2]
        t.result(t.call("list_dir", path=folder), "\n".join([fname, *others]))
    else:
        command = pool.commands[0][0]  # the pool's own test command
        path = f"tests/test_{fname.split('.')[0].lstrip('.')}.py"
        t = _Trace(rng, pool, rng.choice(pool.test_then_read))
        t.result(t.call("run_command", command=command), f"FAILED {path}::test_basic")
    t.result(t.call("read_file", path=path), content)
    t.answer(f"`{path}` holds {desc}.")
    return t.messages


def _no_tool(rng: random.Random, pool: Pool) -> Msgs:
    question, answer = rng.choice(pool.qa)
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


_BUILDERS: dict[str, Callable[[random.Random, Pool], Msgs]] = {
    "read_file": _read,
    "write_file": _write,
    "list_dir": _list,
    "search": _search,
    "run_command": _run,
    "multi_step": _multi,
    "no_tool": _no_tool,
}


def tool_example(rng: random.Random, pool: Pool, category: str) -> dict[str, Any]:
    """One chat row of the given category drawn from the pool."""
    messages = _BUILDERS[category](rng, pool)
    system = rng.choice(pool.system_prompts)
    if system:
        messages = [{"role": "system", "content": system}, *messages]
    return {"messages": messages, "tools": AGENT_TOOLS, "category": category}


def generate_tools(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """train/valid/test rows: whole traces played on real workspaces (gen_traces), train
    from the TRAIN pools, valid/test (10% each) from the DEV pools. Rows are not expanded:
    training masks every assistant turn of a row in one example."""
    from punie.data.gen_traces import trace_rows

    n_eval = max(1, n // 10)
    train = trace_rows(n - 2 * n_eval, seed, "train")
    heldout = trace_rows(2 * n_eval, seed + 1, "dev")
    return {"train": train, "valid": heldout[:n_eval], "test": heldout[n_eval:]}
