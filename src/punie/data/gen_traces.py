"""Whole agent traces from real tool runs: request, calls, real results, answer.

Each plan (`gen_plans`) is played on its workspace written to a temp folder, through
`punie.agent.tools.execute` itself, so every tool result is byte for byte what the
agent returns at serve time (its `error: ...` texts included), and the final answer
is written from those results. The earlier generator invented results and dropped
the answer turns: the tuned model called again after every result and never answered.

Commands run with a fixed environment (C locale, no user or system git config, a
fixed git author and date) so the rows are the same on every machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from punie.data.gen_plans import BUILDERS, Plan
from punie.data.gen_task_prompts import PROMPT_POOLS
from punie.data.gen_workspaces import WS_POOLS
from punie.data.schema import tool_call
from punie.toolspec import AGENT_TOOLS

# Shares of the training mix (percent-like weights). Direct answers stay frequent: the
# tuned model must keep answering questions without a tool (measured in gen_pools).
TRAIN_MIX = {
    # Dev draw, seed 0, 100 steps: with recovery 7 and other_tools 7 the tuned model
    # searched after most calls (read requests naming a function went to search,
    # failed reads to search again): fewer of those, more plain reads and listings.
    "read_answer": 14,
    "list_answer": 10,
    "search_read": 10,
    "run_report": 9,
    "write_file": 9,
    "edit_file": 8,
    "multi_step": 11,
    "recovery": 4,
    "no_tool": 20,
    "other_tools": 5,
}
# Two- and three-call traces could pass the demo's token cap with a system turn:
# the agent's one-line prompt is left out of these rows (the other rows carry it).
NO_SYSTEM = {"recovery", "edit_file", "multi_step"}
# valid/test rows come from the DEV pool, which has no synthetic-tool vocabulary.
EVAL_MIX = {k: v for k, v in TRAIN_MIX.items() if k != "other_tools"}

FIXED_ENV = {
    "LC_ALL": "C",
    "LANG": "C",
    "TZ": "UTC",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Punie",
    "GIT_AUTHOR_EMAIL": "punie@example.com",
    "GIT_COMMITTER_NAME": "Punie",
    "GIT_COMMITTER_EMAIL": "punie@example.com",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}


@contextlib.contextmanager
def fixed_env() -> Iterator[None]:
    """The tools' shells inherit os.environ: pin what changes their output, then restore."""
    saved = {k: os.environ.get(k) for k in FIXED_ENV}
    os.environ.update(FIXED_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _AllowAll:
    """A frontend that shows nothing and allows every write and command."""

    async def send(self, update: Any) -> None:
        return None

    async def ask_permission(self, tool_call: Any, options: Any) -> str:
        return "allow_once"


def write_workspace(plan: Plan, root: Path) -> None:
    for rel, content in plan.workspace.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content, encoding="utf-8")
    if plan.git:
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "-A"],
            ["commit", "-q", "-m", plan.commit],
        ):
            subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    for rel, content in plan.untracked.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content, encoding="utf-8")


async def run_steps(plan: Plan, root: Path) -> list[str]:
    """The real tool results of the plan's calls, in order, on a written workspace."""
    from punie.agent.tools import ToolEnv, execute
    from punie.agent.workspace import Workspace

    env = ToolEnv(workspace=Workspace.at(root), frontend=_AllowAll())
    return [
        await execute(env, name, args, f"call_{i}") for i, (name, args) in enumerate(plan.steps, 1)
    ]


def trace_messages(plan: Plan, results: list[str]) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": plan.prompt}]
    for i, ((name, args), result) in enumerate(zip(plan.steps, results, strict=True), 1):
        cid = f"call_{i}"
        msgs.append(
            {"role": "assistant", "content": "", "tool_calls": [tool_call(cid, name, args)]}
        )
        msgs.append({"role": "tool", "tool_call_id": cid, "content": result})
    msgs.append({"role": "assistant", "content": plan.answer(results)})
    return msgs


async def play(plan: Plan, root: Path) -> list[dict[str, Any]]:
    root.mkdir(parents=True)
    write_workspace(plan, root)
    return trace_messages(plan, await run_steps(plan, root))


def _direct_row(
    rng: random.Random, pool: str, bank: Iterator[tuple[str, str]]
) -> tuple[list[dict[str, Any]], list[dict]]:
    """A question answered without a tool: the demo's no-tool bank (train; drawn without
    repeats, so its many closing remarks all show up) or the pool's own questions."""
    if pool == "train" and rng.random() < 0.85:
        q, a = next(bank)
    else:
        q, a, _ = rng.choice(PROMPT_POOLS[pool].direct)
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}], AGENT_TOOLS


def _system(rng: random.Random) -> list[dict[str, Any]]:
    from punie.data.gen_pools import TRAIN

    system = rng.choice(TRAIN.system_prompts)
    return [{"role": "system", "content": system}] if system else []


def _draw(
    rng: random.Random, pool: str, mix: dict[str, int], bank: Iterator[tuple[str, str]]
) -> tuple[str, Any]:
    """One row's category and its plan (or finished messages and tools, for rows that
    run no Punie tool). All randomness is here, in draw order, so playing the plans
    concurrently cannot change the rows."""
    from punie.data.gen_synthetic import synthetic_row

    cat = rng.choices(list(mix), list(mix.values()))[0]
    if cat == "no_tool":
        return cat, _direct_row(rng, pool, bank)
    if cat == "other_tools":
        return cat, synthetic_row(rng)
    return cat, BUILDERS[cat](rng, WS_POOLS[pool], PROMPT_POOLS[pool])


async def _rows(n: int, seed: int, pool: str, mix: dict[str, int], root: Path) -> list[dict]:
    from punie.data.gen_pools import TRAIN
    from punie.data.validate import near_key

    rng = random.Random(seed)
    bank = itertools.cycle(rng.sample(TRAIN.qa, len(TRAIN.qa)))
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    # Commands and git wait on child processes: play a batch at a time, concurrently.
    gate = asyncio.Semaphore(8)
    drawn = 0

    async def realise(i: int, drawn_row: Any) -> tuple[list[dict], list[dict]]:
        if not isinstance(drawn_row, Plan):
            return drawn_row
        async with gate:
            return await play(drawn_row, root / f"w{i}"), AGENT_TOOLS

    while len(out) < n and drawn < 50 * n + 100:
        batch = [_draw(rng, pool, mix, bank) for _ in range(n - len(out))]
        batch = [(c, row, [] if c in NO_SYSTEM else _system(rng)) for c, row in batch]
        played = await asyncio.gather(
            *(realise(drawn + i, row) for i, (_, row, _) in enumerate(batch))
        )
        drawn += len(batch)
        for (cat, _, system), (msgs, tools) in zip(batch, played, strict=True):
            row = {"messages": system + msgs, "tools": tools, "category": cat}
            key = near_key(row)
            if key not in seen and len(out) < n:
                seen.add(key)
                out.append(row)
    return out


def trace_rows(
    n: int, seed: int, pool: str = "train", mix: dict[str, int] | None = None
) -> list[dict]:
    """n distinct whole-trace rows from one pool (fewer if it runs dry); deterministic
    for (n, seed, pool): the workspace lives in a fresh temp folder, never the cwd."""
    mix = mix or (TRAIN_MIX if pool == "train" else EVAL_MIX)
    with tempfile.TemporaryDirectory(prefix="punie-traces-") as tmp, fixed_env():
        return asyncio.run(_rows(n, seed, pool, mix, Path(tmp)))
