"""`punie init --ide jetbrains|zed`: register `punie serve` in the IDE's agent config.

JetBrains reads `~/.jetbrains/acp.json` (`agent_servers`); Zed reads its
`settings.json` (`agent_servers`, entries with `"type": "custom"`). Both get an
absolute command path (IDEs start agents without the user's shell PATH) and the
model/adapter as `punie serve` arguments. Other agents and settings are kept. A file
that is not valid JSON is backed up and never overwritten blindly: for Zed, whose
settings may legally hold comments, Punie refuses and shows the entry to paste.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from punie import atomic
from punie.errors import PunieError

IDES = ("jetbrains", "zed")


def default_config_path(ide: str) -> Path:
    if ide == "jetbrains":
        return Path.home() / ".jetbrains" / "acp.json"
    base = os.environ.get("XDG_CONFIG_HOME")
    return (Path(base) if base else Path.home() / ".config") / "zed" / "settings.json"


def punie_command() -> list[str]:
    """An absolute way to start this Punie: the venv's `punie` script if there is one."""
    # Not resolved: the venv's python is a symlink, and resolving it would leave the venv.
    script = Path(os.path.abspath(sys.executable)).parent / "punie"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("punie")
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "punie"]


def _model_arg(model: str) -> str:
    p = Path(model).expanduser()
    # A model folder given relative to here must still work from the IDE's cwd.
    return str(p.resolve()) if p.exists() else model


def agent_entry(ide: str, model: str, adapter: Path | None, record: bool = True) -> dict[str, Any]:
    cmd = punie_command()
    args = [*cmd[1:], "serve", "--model", _model_arg(model)]
    if adapter is not None:
        from punie.agent.models import resolve_adapter

        args += ["--adapter", str(resolve_adapter(adapter))]
    if not record:
        args.append("--no-record")
    env = {"PUNIE_HOME": os.environ["PUNIE_HOME"]} if os.environ.get("PUNIE_HOME") else {}
    entry: dict[str, Any] = {"command": cmd[0], "args": args, "env": env}
    if ide == "zed":
        entry = {"type": "custom", **entry}
    return entry


def merge(existing: dict[str, Any], name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The config with `name` set to `entry`; everything else untouched (pure)."""
    servers = existing.get("agent_servers", {})
    if not isinstance(servers, dict):
        raise ValueError("agent_servers is not an object")
    return {**existing, "agent_servers": {**servers, name: entry}}


def _backup(path: Path) -> Path:
    backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.copy2(path, backup)
    return backup


def _load(path: Path) -> dict[str, Any]:
    """The parsed file; ValueError when it is not a JSON object."""
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the top level is not an object")
    if not isinstance(data.get("agent_servers", {}), dict):
        raise ValueError("agent_servers is not an object")
    return data


def run_init(
    ide: str,
    *,
    model: str,
    adapter: Path | None,
    name: str,
    print_only: bool,
    config_path: Path | None,
    record: bool = True,
) -> None:
    from rich.console import Console

    err = Console(stderr=True)
    if ide not in IDES:
        raise PunieError(f"unknown IDE {ide!r}", where="--ide", hint="jetbrains or zed")
    path = Path(config_path).expanduser() if config_path else default_config_path(ide)
    entry = agent_entry(ide, model, adapter, record)
    try:
        config = merge(_load(path), name, entry)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        snippet = json.dumps({"agent_servers": {name: entry}}, indent=2)
        if print_only:
            err.print(f"[yellow]{path} is not plain JSON ({exc}); the entry to add:[/]")
            print(snippet)
            return
        backup = _backup(path)
        if ide == "zed":
            # Zed settings may hold comments/trailing commas: rewriting would lose them.
            print(snippet)
            raise PunieError(
                f"{path} is not plain JSON ({exc}); left unchanged, backed up to {backup}",
                where="punie init",
                hint="paste the entry printed above under agent_servers",
            ) from None
        err.print(f"[yellow]{path} was not valid JSON ({exc}); backed up to {backup}[/]")
        config = {"agent_servers": {name: entry}}
    text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if print_only:
        err.print(f"[dim]{path} would become:[/]")
        print(text, end="")
        return
    atomic.write_text(path, text)
    err.print(
        f"[green]registered {name!r} in {path}[/]: {entry['command']} {' '.join(entry['args'])}"
    )
    err.print(recording_note(record), highlight=False)


def recording_note(record: bool) -> str:
    """What `punie init` says about recording (docs/traces.md)."""
    if not record:
        return "Punie will not record these sessions (--no-record)."
    return (
        "Punie records each session locally under PUNIE_HOME/traces (secrets redacted; "
        "nothing leaves this machine) to train its model: `punie traces list` shows them. "
        "Turn it off with `punie init ... --no-record`, or `record = false` under [traces] "
        "in PUNIE_HOME/config.toml."
    )
