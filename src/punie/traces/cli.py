"""`punie traces list / show / rm`: the sessions Punie recorded under PUNIE_HOME/traces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from punie.errors import PunieError

traces_app = typer.Typer(
    help="Sessions Punie recorded (local only, secrets redacted): list, show, delete."
)
MARKS = {
    "succeeded": "[green]✓",
    "failed": "[red]✗",
    "rejected": "[yellow]⊘",
    "cancelled": "[dim]…",
}


def _console():
    from rich.console import Console

    return Console()


def _root() -> Path:
    from punie.traces.config import traces_root

    return traces_root()


SHORT = {"succeeded": "ok", "failed": "failed", "rejected": "rejected", "cancelled": "cancelled"}


def _outcomes(counts: dict[str, int]) -> str:
    parts = [f"{counts[k]} {v}" for k, v in SHORT.items() if counts.get(k)]
    parts += [f"{v} {k}" for k, v in counts.items() if k not in SHORT]
    return ", ".join(parts) or "-"


@traces_app.command("list")
def list_command(
    workspace: Path | None = typer.Option(None, "--workspace", help="only this workspace's"),
) -> None:
    """Recorded sessions, newest first: id, workspace, turns, call outcomes, last time."""
    from rich.table import Table

    from punie.traces.store import list_sessions

    found = list_sessions(_root(), workspace)
    console = _console()
    if not found:
        console.print(f"no recorded sessions in {_root()}")
        return
    table = Table()
    # 12 characters of the id: `show` and `rm` take any unambiguous start of one.
    table.add_column("session", no_wrap=True)
    table.add_column("workspace", overflow="fold", min_width=9)
    table.add_column("from", min_width=5)
    table.add_column("turns", justify="right", min_width=5)
    table.add_column("calls", min_width=10)
    table.add_column("last", no_wrap=True)
    for s in found:
        table.add_row(
            s.session_id[:12],
            Path(s.workspace).name,
            s.source,
            str(s.turns),
            _outcomes(s.outcomes),
            s.last_time.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
    total = sum(s.size for s in found) / 2**20
    console.print(f"{len(found)} sessions, {total:.1f} MB in {_root()}", highlight=False)


def _call_line(c: dict[str, Any]) -> str:
    from rich.markup import escape

    status = str(c.get("status", "?"))
    args = json.dumps(c.get("arguments"), ensure_ascii=False)
    args = args if len(args) <= 80 else args[:77] + "..."
    tool = f"{c['server']}: {c.get('tool')}" if c.get("server") else str(c.get("tool"))
    line = f"    {MARKS.get(status, '?')} {escape(tool)}[/] {escape(args)}  {status}"
    p = c.get("permission")
    if isinstance(p, dict):
        line += f" [dim](permission: {p.get('kind') or p.get('answer')}"
        line += ", remembered)[/]" if p.get("remembered") else ")[/]"
    if c.get("error"):
        line += f"\n      [dim]{escape(str(c['error']).splitlines()[0][:160])}[/]"
    return line


def _first_line(text: Any, limit: int = 100) -> str:
    from rich.markup import escape

    lines = str(text or "").strip().splitlines() or [""]
    line = lines[0] if len(lines[0]) <= limit else lines[0][: limit - 3] + "..."
    return escape(line + (" …" if len(lines) > 1 else ""))


@traces_app.command("show")
def show_command(
    session: str = typer.Argument(..., help="a session id (or the start of one)"),
    as_json: bool = typer.Option(False, "--json", help="the raw records, one a line"),
) -> None:
    """A session's turns: prompt, how each ended, every call and its outcome, what followed."""
    from rich.markup import escape

    from punie.traces.store import find_session, read_records, summarize

    path = find_session(_root(), session)
    records = read_records(path)
    if as_json:
        for r in records:
            print(json.dumps(r, ensure_ascii=False))
        return
    s, console = summarize(path), _console()
    console.print(f"[bold]{s.session_id}[/] in {escape(s.workspace)} ({s.source}, {s.turns} turns)")
    n = 0
    for r in records:
        if r.get("type") == "turn":
            n += 1
            adapter = f" + {r['adapter']}" if r.get("adapter") else ""
            made_by = escape(f"{r.get('model')}{adapter}")
            console.print(
                f"\n[bold]#{n}[/] {r.get('time', '?')}  {r.get('ended_by')} "
                f"({r.get('stop_reason')}, {r.get('duration_s', 0)} s)  [dim]{made_by}[/]"
            )
            console.print(f"  [cyan]> {_first_line(r.get('prompt'))}[/]")
            for c in r.get("calls") or []:
                console.print(_call_line(c))
            if r.get("error"):
                console.print(f"  [red]{_first_line(r['error'], 160)}[/]")
        elif r.get("type") == "next_prompt":
            console.print(f"  [dim]next prompt:[/] {_first_line(r.get('prompt'))}")


@traces_app.command("rm")
def rm_command(
    session: str | None = typer.Option(None, "--session", help="this session (id or its start)"),
    workspace: Path | None = typer.Option(None, "--workspace", help="this workspace's sessions"),
    older_than: str | None = typer.Option(
        None, "--older-than", help="sessions whose last turn is older: 30d, 12h, 2w"
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="delete without asking"),
) -> None:
    """Delete recorded sessions: by session, workspace or age (given together, all must match)."""
    from punie.traces.store import parse_age, remove, select

    if session is None and workspace is None and older_than is None:
        raise PunieError(
            "say what to delete",
            where="punie traces rm",
            hint="--session, --workspace or --older-than",
        )
    age = parse_age(older_than) if older_than is not None else None
    found = select(_root(), session=session, workspace=workspace, older_than=age)
    console = _console()
    if not found:
        console.print("no recorded session matches; nothing deleted")
        return
    turns = sum(s.turns for s in found)
    console.print(f"{len(found)} sessions ({turns} turns):")
    for s in found[:20]:
        console.print(f"  {s.session_id}  {s.workspace}  {s.last_time:%Y-%m-%d %H:%M}")
    if len(found) > 20:
        console.print(f"  … and {len(found) - 20} more")
    if not yes and not typer.confirm("delete them?", default=False):
        console.print("nothing deleted")
        raise typer.Exit(1)
    console.print(f"deleted {remove(found)} sessions")


def register(app: typer.Typer) -> None:
    """Add `punie traces` to the root app."""
    app.add_typer(traces_app, name="traces")
