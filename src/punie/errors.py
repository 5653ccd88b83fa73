"""The one error type the CLI turns into a clear message and exit code 2."""

from __future__ import annotations

import click


class PunieError(click.ClickException):
    """Bad input or a state the user can fix: shown as one message, exit code 2.

    Messages follow the shape `where: what is wrong (how to fix it)`; `where` is a
    file:line when there is one.
    """

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        text = message
        if where:
            text = f"{where}: {text}"
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)
        self.where = where
        self.hint = hint

    def show(self, file=None) -> None:  # noqa: ARG002 - click's signature
        # One line on stderr, no Rich panel: scripts and humans both parse it.
        click.echo(f"error: {self.format_message()}", err=True)
