"""The task runner: every task of a task suite through Punie's REAL agent loop.

Each task gets a fresh temporary workspace (its files, optionally a git repository
with one commit), the agent `punie.agent.engine.build_agent()` and its one loop
`run_turn`, with a frontend that approves writes and commands and records every
tool call. The outcome is scored by `task_scoring` and recorded as a
`TaskCaseResult` with the whole attempt as a chat-JSONL trace.

Caching follows `runner.run_suite`: `meta.json` must match every input of the run
(`evaluate.resume`: suite, model, adapter, generation settings, software); every case is appended (fsync) to
`cases.jsonl`; a resumed run skips done cases and asks again the ones that failed on
the server; one case runs alone first so mlx_lm.server's prompt cache holds the
shared system turn and tool listing for the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from punie import atomic
from punie.agent.tools import INVALID_ARGUMENTS
from punie.evaluate.results import SuiteResult, TaskCaseResult
from punie.evaluate.resume import check_meta, eval_meta, resume_done
from punie.evaluate.runner import CASES_FILE, EvalSettings, _progress, run_primed, write_result
from punie.evaluate.task_scoring import Outcome, checked_paths, read_files, score_task
from punie.evaluate.tasks import TaskCase, TaskSuite
from punie.serve.endpoints import Endpoint

RETRY_FAILURES = ("server_error", "timeout")
# A fixed author and date: the same workspace gives the same commit id every run.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "punie",
    "GIT_AUTHOR_EMAIL": "punie@example.invalid",
    "GIT_COMMITTER_NAME": "punie",
    "GIT_COMMITTER_EMAIL": "punie@example.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+00:00",
}


class RecordingFrontend:
    """Approves every write and command, and records each tool call the agent ran."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}  # ACP call id -> record

    async def send(self, update: Any) -> None:
        kind = update.session_update
        if kind == "tool_call":
            self.calls[update.tool_call_id] = {"args": update.raw_input, "ok": None, "result": ""}
        elif kind == "tool_call_update" and update.status in ("completed", "failed"):
            rec = self.calls.setdefault(update.tool_call_id, {"args": None})
            rec["ok"] = update.status == "completed"
            rec["result"] = str(update.raw_output or "")

    async def ask_permission(self, tool_call: Any, options: list[Any]) -> str | None:
        return "allow_once"

    def for_model_id(self, model_id: str, used: set[str]) -> dict[str, Any] | None:
        """The first record not yet `used` of this model-side call id."""
        for cid, rec in self.calls.items():
            # ToolEnv.next_id makes ACP ids `{model id}-{n}`.
            if cid not in used and cid.rsplit("-", 1)[0] == (model_id or "call"):
                used.add(cid)
                return rec
        return None


def write_workspace(root: Path, case: TaskCase) -> None:
    for rel, content in case.workspace.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    if case.git:
        env = {**os.environ, **GIT_ENV}
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "start"]):
            subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _invalid(name: str, ret: Any, rec: dict[str, Any] | None, names: set[str]) -> bool:
    """A call the agent refused: unknown tool, unparseable or wrong arguments."""
    if name not in names or getattr(ret, "outcome", "success") != "success":
        return True
    text = (rec or {}).get("result", "")
    return text.startswith(f"error: {name}: {INVALID_ARGUMENTS}")


def tool_calls(
    messages: list[Any], frontend: RecordingFrontend, names: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every tool call the model made, the invalid ones), from the conversation."""
    from pydantic_ai.messages import ModelRequest, ModelResponse, ToolCallPart, ToolReturnPart

    returns = {
        p.tool_call_id: p
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, ToolReturnPart)
    }
    calls, invalid, used = [], [], set()
    for m in messages:
        if not isinstance(m, ModelResponse):
            continue
        for p in m.parts:
            if not isinstance(p, ToolCallPart):
                continue
            try:
                args: Any = p.args_as_dict()
            except Exception:
                args = p.args
            ret, rec = returns.get(p.tool_call_id), frontend.for_model_id(p.tool_call_id, used)
            result = (rec or {}).get("result") or (ret.model_response_str() if ret else "")
            call = {
                "name": p.tool_name,
                "arguments": args,
                "ok": bool(rec and rec.get("ok")),
                "result": result if ret or rec else "(not run: the turn ended)",
            }
            calls.append(call)
            if _invalid(p.tool_name, ret, rec, names):
                invalid.append(call)
    return calls, invalid


def final_answer(messages: list[Any]) -> str:
    from pydantic_ai.messages import ModelResponse, TextPart

    for m in reversed(messages):
        if isinstance(m, ModelResponse):
            return "".join(p.content for p in m.parts if isinstance(p, TextPart))
    return ""


def _failure_of(exc: BaseException) -> str | None:
    if isinstance(exc, TimeoutError):
        return "timeout"
    root = type(exc).__module__.split(".")[0]
    if root in ("pydantic_ai", "openai", "httpx") or isinstance(exc, OSError):
        return "server_error"
    return None  # a bug here: let it surface


async def run_case(
    model: Any, case: TaskCase, suite: TaskSuite, settings: EvalSettings
) -> TaskCaseResult:
    """One task, start to finish, in its own temporary workspace."""
    from punie.agent.engine import TurnSettings, build_agent, run_turn
    from punie.agent.tools import ToolEnv
    from punie.agent.trace import sent_tools, to_model_messages, trace_row
    from punie.agent.workspace import Workspace

    names = {t["function"]["name"] for t in case.tools}
    turn = TurnSettings(
        max_tokens=settings.max_tokens or case.max_tokens or suite.max_tokens,
        temperature=settings.temperature,
        seed=settings.seed,
        request_limit=suite.budget(case),
    )
    front = RecordingFrontend()
    history = to_model_messages([m for m in case.messages if m.get("role") != "system"])
    with tempfile.TemporaryDirectory(prefix="punie-task-") as tmp:
        root = Path(tmp)
        await asyncio.to_thread(write_workspace, root, case)
        env = ToolEnv(workspace=Workspace.at(root), frontend=front, timeout_s=settings.timeout_s)
        t0 = time.perf_counter()
        try:
            r = await asyncio.wait_for(
                run_turn(build_agent(names), model, env, history, case.prompt, turn),
                settings.timeout_s * suite.budget(case),
            )
        except Exception as exc:
            failure = _failure_of(exc)
            if failure is None:
                raise
            return _error_result(case, failure, exc, time.perf_counter() - t0)
        seconds = time.perf_counter() - t0
        files = read_files(root, checked_paths(case))
    calls, invalid = tool_calls(r.messages, front, names)
    answer = final_answer(r.messages) if r.ended_by == "answer" else ""
    verdict = score_task(case, Outcome(answer, r.ended_by, tuple(calls), files, r.error))
    return TaskCaseResult(
        id=case.id,
        category=case.category,
        passed=verdict.passed,
        failure=verdict.failure,
        detail=verdict.detail,
        prompt=case.prompt,
        expected=case.checks.model_dump(exclude_defaults=True),
        content=answer,
        calls=calls,
        finish_reason=r.stop_reason,
        latency_s=round(seconds, 3),
        ended_by=r.ended_by,
        model_calls=r.usage.requests,
        invalid_calls=invalid,
        input_tokens=r.usage.input_tokens,
        output_tokens=r.usage.output_tokens,
        error=r.error,
        trace=trace_row(r.messages, sent_tools(sorted(names))),
    )


def _error_result(case: TaskCase, failure: str, exc: BaseException, seconds: float):
    return TaskCaseResult(
        id=case.id,
        category=case.category,
        passed=False,
        failure=failure,
        detail=f"{type(exc).__name__}: {exc}"[:300],
        prompt=case.prompt,
        expected=case.checks.model_dump(exclude_defaults=True),
        latency_s=round(seconds, 3),
        ended_by="error",
        error=str(exc)[:300],
    )


def _model_of(model_or_endpoint: Any) -> tuple[Any, dict[str, Any], int | None]:
    """(pydantic-ai model, what meta.json says of it, the server's decode concurrency)."""
    if isinstance(model_or_endpoint, Endpoint):
        from punie.agent.models import openai_model

        ep = model_or_endpoint
        about = {
            "label": str(ep.model_path or ep.model_name),
            "served_model": ep.model_name,
            "model_path": ep.model_path,
        }
        return openai_model(ep.base_url, ep.model_name), about, ep.decode_concurrency
    m = model_or_endpoint
    name = str(getattr(m, "model_name", type(m).__name__))
    return m, {"label": name, "served_model": name, "model_path": None}, None


def _quiet_agent_log() -> None:
    """The agent logs each turn that ends without an answer; here every such ending is
    recorded in the case (ended_by, error), and dozens of warnings on stderr would
    bury the progress bar. A handler on the logger keeps Python's last-resort stderr
    handler away; an application that configured logging still gets the records."""
    log = logging.getLogger("punie.agent")
    if not log.handlers:
        log.addHandler(logging.NullHandler())


async def run_task_suite(
    endpoint: Any,
    suite: TaskSuite,
    out_dir: str | Path,
    *,
    settings: EvalSettings = EvalSettings(),
    model_label: str | None = None,
    adapter: str | Path | None = None,
    progress: bool = True,
    on_case: Callable[[TaskCaseResult], None] | None = None,
    write_report: bool = True,
) -> SuiteResult:
    """Run every task of `suite` with `endpoint` (an Endpoint, or a pydantic-ai model
    such as `FunctionModel`), resuming from `out_dir/cases.jsonl`."""
    _quiet_agent_log()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model, about, decode = _model_of(endpoint)
    concurrency = settings.concurrency or decode or 4
    meta = eval_meta(
        suite,
        model_label or about["label"],
        settings,
        concurrency,
        kind="tasks",
        served_model=about["served_model"],
        model_path=about["model_path"],
        adapter=adapter,
    )
    check_meta(out_dir, meta)
    cases_path = out_dir / CASES_FILE
    done = resume_done(cases_path, TaskCaseResult, RETRY_FAILURES)
    todo = [c for c in suite.cases if c.id not in done]
    sem = asyncio.Semaphore(concurrency)

    async def one(case: TaskCase) -> TaskCaseResult:
        async with sem:
            result = await run_case(model, case, suite, settings)
        atomic.append_jsonl(cases_path, result.model_dump(mode="json"))
        return result

    bar = _progress(progress, suite.name, len(suite.cases), len(suite.cases) - len(todo))
    await run_primed(todo, one, concurrency, done, bar, on_case)
    return write_result(out_dir, suite, meta, done, write_report)


async def evaluate_tasks(
    model: str,
    suite: TaskSuite,
    out_dir: str | Path,
    *,
    adapter: Path | None = None,
    settings: EvalSettings = EvalSettings(),
    decode_concurrency: int = 8,
    progress: bool = True,
) -> SuiteResult:
    """Open the endpoint for a `--model` spec and run the task suite against it."""
    from punie.serve.endpoints import open_endpoint

    async with open_endpoint(model, adapter, decode_concurrency=decode_concurrency) as ep:
        return await run_task_suite(
            ep,
            suite,
            out_dir,
            settings=settings,
            model_label=model,
            adapter=adapter,
            progress=progress,
        )
