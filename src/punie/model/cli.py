"""CLI commands of punie.model: `punie model list|info|tiny|convert` and `punie doctor`.

Heavy imports (mlx, transformers) stay inside the commands so `punie --help` is fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

model_app = typer.Typer(
    name="model",
    help="Models: the embedded SmolLM2, local folders, the HF cache, GGUF conversion.",
    no_args_is_help=True,
)


def _print_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@model_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The models Punie can use here (offline: embedded, PUNIE_HOME, local HF cache)."""
    from rich.console import Console
    from rich.table import Table

    from punie.model.store import list_models

    entries = list_models()
    if as_json:
        _print_json(
            [
                {"name": e.name, "source": e.source, "path": e.path, "status": e.status}
                for e in entries
            ]
        )
        return
    table = Table("name", "source", "status", "path")
    for e in entries:
        table.add_row(e.name, e.source, e.status, str(e.path or ""))
    Console().print(table)


@model_app.command("info")
def info_cmd(
    model: str = typer.Argument(
        ..., help="smollm2-135m, a model folder, or org/name in the HF cache."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What a model is: architecture, size, dtype, chat template, tool-call format, memory."""
    from rich.console import Console
    from rich.table import Table

    from punie.model.info import human_bytes, human_count, model_info
    from punie.model.store import resolve_model

    info = model_info(resolve_model(model))
    if as_json:
        _print_json({"model": model, **info.to_json()})
        return
    table = Table(show_header=False, box=None)
    rows = [
        ("model", model),
        ("path", info.path),
        ("architecture", info.architecture),
        ("parameters", f"{human_count(info.parameters)} ({info.parameters:,})"),
        ("dtype", info.dtype),
        ("quantization", info.quantization or "none"),
        ("size on disk", human_bytes(info.size_bytes)),
        ("chat template", "yes" if info.chat_template else "no"),
        ("tool-call format", info.tool_call_format or "none recognised by mlx-lm"),
        (
            "LoRA training memory",
            f"~{human_bytes(info.lora_memory_bytes)} ({info.lora_memory_assumes})",
        ),
        ("files", ", ".join(f"{n} ({human_bytes(s)})" for n, s in info.files)),
    ]
    for k, v in rows:
        table.add_row(f"[bold]{k}[/]", v)
    Console().print(table)


@model_app.command("tiny")
def tiny_cmd(
    path: Path = typer.Argument(..., help="Folder to write the tiny model to."),
    seed: int = typer.Option(0, help="Weight seed; the same seed gives identical files."),
) -> None:
    """Write a deterministic tiny random Qwen2 model (for fast tests)."""
    from punie.model.tiny import TinyConfig, build_tiny_model

    out = build_tiny_model(path, TinyConfig(seed=seed))
    typer.echo(f"tiny model written to {out}")


@model_app.command("convert")
def convert_cmd(
    gguf: Path = typer.Argument(..., help="A llama or qwen2 .gguf file (F32/F16/Q4_0/Q4_1/Q8_0)."),
    out: Path = typer.Argument(..., help="Model folder to create."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
) -> None:
    """Convert a GGUF file into a float32 MLX model folder with Punie's chat template."""
    from rich.console import Console

    from punie.model.gguf_convert import convert_gguf
    from punie.model.info import human_count

    console = Console(stderr=True)
    with console.status(f"converting {gguf.name}"):
        result = convert_gguf(gguf, out, force=force)
    typer.echo(
        f"converted {gguf} ({result.architecture}, {result.source_type}, "
        f"{human_count(result.parameters)} parameters) to {result.out}"
    )


def doctor_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check this machine: mlx, fast BLAS, versions, cache, memory, disk, embedded model."""
    from rich.console import Console
    from rich.table import Table

    from punie.model.doctor import checks_json, run_checks

    checks = run_checks()
    if as_json:
        _print_json(checks_json(checks))
    else:
        table = Table("", "check", "value")
        for c in checks:
            table.add_row("[green]ok[/]" if c.ok else "[red]!![/]", c.name, c.value)
        console = Console()
        console.print(table)
        todo = [c for c in checks if not c.ok]
        for c in todo:
            console.print(f"[red]{c.name}[/]: {c.fix or 'see above'}", soft_wrap=True)
        if not todo:
            console.print("[green]all good[/]")
    if any(not c.ok for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    app.add_typer(model_app, name="model")
    app.command("doctor")(doctor_cmd)
