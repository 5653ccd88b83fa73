"""The `punie` command: parses arguments and delegates to the stage packages.

Each stage package exposes `register(app)` in its own `cli.py`; those modules
import heavy libraries (mlx, transformers) inside the commands, so `punie --help`
and the ACP agent start fast.
"""

from __future__ import annotations

import typer

from punie import __version__
from punie.errors import PunieError


class _OneLineErrors(typer.core.TyperGroup):
    """Every command's PunieError becomes its one line on stderr and exit code 2.

    typer 0.29 vendors its own click, so a PunieError (a click.ClickException) would
    otherwise escape its handler and print as a traceback with exit code 1.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PunieError as exc:
            exc.show()
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    name="punie",
    cls=_OneLineErrors,
    help="Punie: a local coding agent (ACP) that fine-tunes its own local model.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"punie {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """Punie's command line."""


def _register_all() -> None:
    from punie.agent import cli as agent_cli
    from punie.data import cli as data_cli
    from punie.evaluate import cli as evaluate_cli
    from punie.flywheel import cli as flywheel_cli
    from punie.model import cli as model_cli
    from punie.serve import cli as serve_cli
    from punie.traces import cli as traces_cli
    from punie.train import cli as train_cli

    for module in (
        model_cli,
        data_cli,
        train_cli,
        serve_cli,
        evaluate_cli,
        flywheel_cli,
        agent_cli,
        traces_cli,
    ):
        module.register(app)


_register_all()


def main() -> None:
    app()
