"""Task plans: a workspace, a request, the tool calls that do it, the answer and checks.

One plan feeds both sides: `gen_traces` runs its calls through Punie's real tools to
make a training trace (the answer is written from the real results), and
`punie.evaluate.gen_tasks` turns it into a task-suite case (workspace, prompt,
checks). Plans are pure: they depend only on the rng, the vocabulary and the
phrasings, never on the machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from punie.data.gen_edits import draw_edit
from punie.data.gen_task_prompts import Prompts
from punie.data.gen_workspaces import WsVocab

# The eight task-suite categories, in suite order.
TASK_CATEGORIES = (
    "read_answer",
    "list_answer",
    "search_read",
    "run_report",
    "write_file",
    "edit_file",
    "multi_step",
    "no_tool",
)

Answer = Callable[[list[str]], str]


@dataclass(frozen=True)
class Plan:
    category: str
    workspace: dict[str, str]
    prompt: str
    steps: tuple[tuple[str, dict[str, Any]], ...]
    answer: Answer  # the final answer, from the real tool results
    checks: dict[str, Any]
    git: bool = False
    # Files written after the commit (untracked, so `git status` has something to say).
    untracked: dict[str, str] = field(default_factory=dict)
    commit: str = "initial commit"  # the message of the workspace's one commit


@dataclass(frozen=True)
class Module:
    path: str
    func: str
    expr: str
    content: str


def _module(rng: random.Random, ws: WsVocab, folder: str | None = None) -> Module:
    noun = rng.choice(ws.nouns)
    func = f"{rng.choice(ws.verbs)}_{noun}"
    p, q = rng.choice(ws.params)
    expr = rng.choice(ws.exprs).format(p=p, q=q)
    content = f"def {func}({p}, {q}):\n    return {expr}\n"
    return Module(f"{folder or rng.choice(ws.dirs)}/{noun}.py", func, expr, content)


def _text(rng: random.Random, ws: WsVocab, folder: str) -> tuple[str, tuple[str, ...], str]:
    name, lines = rng.choice(ws.texts)
    return f"{folder}/{name}", lines, "\n".join(lines) + "\n"


def _decoy(rng: random.Random, ws: WsVocab, avoid: str) -> dict[str, str]:
    """A second file elsewhere, so listing and searching have something to tell apart."""
    folder = rng.choice([d for d in ws.dirs if d != avoid])
    path, _, content = _text(rng, ws, folder)
    return {path: content}


def _alts(expr: str) -> list[str]:
    return sorted({expr, expr.replace(" ", "")})


def _out(results: list[str]) -> tuple[str, list[str]]:
    """(exit code, output lines) of a run_command result."""
    head, _, body = results[-1].partition("\n")
    return head.removeprefix("exit code "), [ln for ln in body.splitlines() if ln.strip()]


def _names(listing: str) -> list[str]:
    return [ln for ln in listing.splitlines() if ln and not ln.startswith("(")]


def _hit_file(results: list[str], i: int) -> str:
    return results[i].splitlines()[0].split(":", 1)[0]


def _join(items: list[str]) -> str:
    items = [f"`{x}`" for x in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def read_answer(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    m = _module(rng, ws)
    files = {m.path: m.content, **_decoy(rng, ws, m.path.rsplit("/", 1)[0])}
    if rng.random() < 0.3 and pr.read_text:
        path, lines, content = _text(rng, ws, rng.choice(ws.dirs))
        files = {path: content, m.path: m.content}
        return Plan(
            "read_answer",
            files,
            rng.choice(pr.read_text).format(path=path),
            (("read_file", {"path": path}),),
            lambda r: f"`{path}` says: {'; '.join(r[-1].splitlines())}.",
            {"answer_contains": [lines[0]], "called": ["read_file"], "max_tool_calls": 3},
        )
    return Plan(
        "read_answer",
        files,
        rng.choice(pr.read_code).format(func=m.func, path=m.path),
        (("read_file", {"path": m.path}),),
        lambda r: f"`{m.func}` returns `{m.expr}`.",
        {"answer_contains": [_alts(m.expr)], "called": ["read_file"], "max_tool_calls": 3},
    )


def list_answer(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    folder = rng.choice(ws.dirs)
    m = _module(rng, ws, folder)
    files = {m.path: m.content}
    for _ in range(rng.randint(1, 2)):
        path, _, content = _text(rng, ws, folder)
        files[path] = content
    files.update(_decoy(rng, ws, folder))
    names = sorted(p.rsplit("/", 1)[1] for p in files if p.rsplit("/", 1)[0] == folder)
    return Plan(
        "list_answer",
        files,
        rng.choice(pr.list_dir).format(dir=folder),
        (("list_dir", {"path": folder}),),
        lambda r: f"`{folder}` holds {_join(_names(r[-1]))}.",
        {"answer_contains": names, "called": ["list_dir"]},
    )


def search_read(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    m = _module(rng, ws)
    files = {m.path: m.content, **_decoy(rng, ws, m.path.rsplit("/", 1)[0])}
    name = m.path.rsplit("/", 1)[1]
    checks = {"answer_contains": [name], "called": ["search"]}
    if pr.search_then_read and rng.random() < 0.4:
        return Plan(
            "search_read",
            files,
            rng.choice(pr.search_then_read).format(func=m.func),
            (("search", {"pattern": m.func}), ("read_file", {"path": m.path})),
            lambda r: f"`{m.func}` returns `{m.expr}`.",
            {"answer_contains": [_alts(m.expr)], "called": ["search"]},
        )
    return Plan(
        "search_read",
        files,
        rng.choice(pr.search_def).format(func=m.func),
        (("search", {"pattern": m.func}),),
        lambda r: f"`{m.func}` is defined in `{_hit_file(r, 0)}`.",
        checks,
    )


def _script(rng: random.Random, ws: WsVocab, folder: str) -> tuple[str, str, str]:
    label, expr = rng.choice(ws.prints)
    path = f"{folder}/{label}_report.py"
    return path, f"print('{label}', {expr})\n", label


def _report(r: list[str]) -> str:
    code, lines = _out(r)
    shown = "; ".join(lines) if lines else "nothing"
    return f"Exit code {code}; it printed: {shown}."


def run_report(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    folder = rng.choice(ws.dirs)
    script, code, label = _script(rng, ws, folder)
    tpath, lines, tcontent = _text(rng, ws, folder)
    files = {script: code, tpath: tcontent}
    # python3 starts slowly (~0.1 s behind a pyenv shim): a third of the commands only.
    kind = rng.choice(("script", "inline", "cat", "head", "ls", "git"))
    git, untracked, key, commit = False, {}, label, rng.choice(ws.commits)
    if kind == "script":
        command = f"python3 {script}"
    elif kind == "inline":
        _, expr = rng.choice(ws.prints)
        # The vocabulary's own constant expressions: the value the command will print.
        command, key = f'python3 -c "print({expr})"', str(eval(expr))
    elif kind in ("cat", "head"):
        command = f"cat {tpath}" if kind == "cat" else f"head -n 3 {tpath}"
        key = lines[0]
    elif kind == "ls":
        command, key = f"ls {folder}", script.rsplit("/", 1)[1]
    else:
        git = True
        command = rng.choice(ws.git_commands).format(dir=folder)
        key = script
        if command.startswith("git status"):
            untracked = {f"{folder}/draft.txt": "wip\n"}
            key = f"{folder}/draft.txt"
        elif command.startswith("git log"):
            key = commit
    checks: dict[str, Any] = {"commands": [command], "answer_contains": [key]}
    return Plan(
        "run_report",
        files,
        rng.choice(pr.run).format(command=command),
        (("run_command", {"command": command}),),
        _report,
        checks,
        git,
        untracked,
        commit,
    )


def write_file(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    path, text = rng.choice(ws.writes)
    files = _decoy(rng, ws, "")
    return Plan(
        "write_file",
        files,
        rng.choice(pr.write).format(path=path, text=text),
        (("write_file", {"path": path, "content": text + "\n"}),),
        lambda r: f"Created `{path}` containing `{text}`.",
        {"files_contain": {path: [text]}, "called": ["write_file"]},
    )


def edit_file(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    e = draw_edit(rng, ws, pr)
    # Two in three edit with edit_file, one rewrites the file. The way comes from the
    # drawn values, not from `rng`: the task suites built from these plans keep their
    # draws, and so do the training rows drawn after this one.
    way = random.Random(f"{e.path}|{e.prompt}").randrange(3)
    steps = e.read_write() if way == 2 else e.read_edit()
    return Plan("edit_file", {e.path: e.before}, e.prompt, steps, e.answer, e.checks)


def multi_step(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    folder = rng.choice(ws.dirs)
    kinds = [
        k
        for k, t in (
            ("list", pr.list_then_read),
            ("run", pr.read_then_run),
            ("write", pr.write_then_run),
        )
        if t
    ]
    kind = rng.choice(kinds)
    if kind == "list":
        m = _module(rng, ws, folder)
        tpath, _, tcontent = _text(rng, ws, folder)
        return Plan(
            "multi_step",
            {m.path: m.content, tpath: tcontent},
            rng.choice(pr.list_then_read).format(dir=folder),
            (("list_dir", {"path": folder}), ("read_file", {"path": m.path})),
            lambda r: f"`{m.func}` returns `{m.expr}`.",
            {"answer_contains": [_alts(m.expr)], "called": ["list_dir", "read_file"]},
        )
    if kind == "run":
        script, code, label = _script(rng, ws, folder)
        return Plan(
            "multi_step",
            {script: code, **_decoy(rng, ws, folder)},
            rng.choice(pr.read_then_run).format(path=script),
            (("read_file", {"path": script}), ("run_command", {"command": f"python3 {script}"})),
            _report,
            {"answer_contains": [label], "called": ["read_file", "run_command"]},
        )
    path, text = rng.choice(ws.writes)
    return Plan(
        "multi_step",
        _decoy(rng, ws, ""),
        rng.choice(pr.write_then_run).format(path=path, text=text),
        (
            ("write_file", {"path": path, "content": text + "\n"}),
            ("run_command", {"command": f"cat {path}"}),
        ),
        lambda r: f"Wrote `{path}`; cat shows: {_out(r)[1][0]}.",
        {"files_contain": {path: [text]}, "called": ["write_file", "run_command"]},
    )


def recovery(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    """A first call that fails for real (a wrong name, a wrong old_text), then the way
    to the right file or the right edit."""
    way = rng.random()
    if way > 2 / 3:
        e = draw_edit(rng, ws, pr)
        return Plan("recovery", {e.path: e.before}, e.prompt, e.miss_retry(rng), e.answer, e.checks)
    if way < 1 / 3:
        folder = rng.choice(ws.dirs)
        path, _, content = _text(rng, ws, folder)
        stem, _, suffix = path.rpartition(".")
        wrong = stem + next(s for s in ws.wrong_suffix if s != "." + suffix)
        return Plan(
            "recovery",
            {path: content, **_decoy(rng, ws, folder)},
            rng.choice(pr.read_text).format(path=wrong),
            # Two calls, not three (list, then read the right file): with a third the
            # row passes the demo's token cap. The answer names the file to open.
            (("read_file", {"path": wrong}), ("list_dir", {"path": folder})),
            lambda r: f"There is no `{wrong}`; `{folder}` has {_join(_names(r[-1]))}.",
            {"answer_contains": [path.rsplit("/", 1)[1]]},
        )
    # A one-line definition: the search hit itself shows the return expression, so the
    # recovery takes two calls and stays within the demo's token cap.
    m = _module(rng, ws)
    name = m.path.rsplit("/", 1)[1]
    content = m.content.replace(":\n    return", ": return")
    return Plan(
        "recovery",
        {m.path: content, **_decoy(rng, ws, m.path.rsplit("/", 1)[0])},
        rng.choice(pr.read_code).format(func=m.func, path=name),
        (("read_file", {"path": name}), ("search", {"pattern": m.func})),
        lambda r: f"`{m.func}` (in `{_hit_file(r, 1)}`) returns `{m.expr}`.",
        {"answer_contains": [_alts(m.expr)]},
    )


def no_tool(rng: random.Random, ws: WsVocab, pr: Prompts) -> Plan:
    question, answer, key = rng.choice(pr.direct)
    keys = key if isinstance(key, list) else [key]
    return Plan(
        "no_tool",
        {},
        question,
        (),
        lambda r: answer,
        {"no_call": True, "answer_contains": [keys]},
    )


BUILDERS: dict[str, Callable[..., Plan]] = {
    "read_answer": read_answer,
    "list_answer": list_answer,
    "search_read": search_read,
    "run_report": run_report,
    "write_file": write_file,
    "edit_file": edit_file,
    "multi_step": multi_step,
    "recovery": recovery,
    "no_tool": no_tool,
}
