"""CLI commands of punie.data (`punie data ...`). Heavy imports stay inside commands."""

from __future__ import annotations

import functools
from pathlib import Path

import typer

from punie.errors import PunieError

data_app = typer.Typer(
    name="data",
    help="Chat-JSONL datasets: validate, check-format, generate, split, stats, import.",
    no_args_is_help=True,
)

_MODEL_HELP = "model name or folder whose tokenizer and chat template to use"


def _punie_errors(fn):
    """Show PunieError as its one line with exit 2. typer 0.29 vendors its own click, so
    it does not catch `click.ClickException` subclasses and would print a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PunieError as exc:
            exc.show()
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _echo_issues(issues, limit: int = 0) -> None:
    shown = issues if not limit else issues[:limit]
    for issue in shown:
        typer.echo(str(issue))
    if limit and len(issues) > limit:
        typer.echo(f"... {len(issues) - limit} more")


@data_app.command("validate")
@_punie_errors
def validate_cmd(
    path: Path = typer.Argument(..., help="a .jsonl file or a dataset folder"),
    model: str = typer.Option(None, "--model", "-m", help=_MODEL_HELP + " (token lengths)"),
    max_seq_length: int = typer.Option(2048, "--max-seq-length", help="longest allowed example"),
    max_warnings: int = typer.Option(20, "--max-warnings", help="warnings to print (0: all)"),
) -> None:
    """Check every row; print each problem as file:line; exit 2 on any error."""
    from punie.data.validate import validate_path

    report = validate_path(path, model=model, max_seq_length=max_seq_length)
    _echo_issues(report.errors)
    _echo_issues(report.warnings, max_warnings)
    if not report.ok:
        raise PunieError(
            f"{len(report.errors)} errors", where=str(path), hint="fix the lines listed above"
        )
    typer.echo(f"ok: {report.summary()}")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    app.add_typer(data_app, name="data")
