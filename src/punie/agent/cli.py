"""CLI commands of punie.agent: `punie serve`, `punie ask`, `punie init`."""

from __future__ import annotations

from pathlib import Path

import typer

CONTEXT_HELP = (
    "the model's context window in tokens (default: the model folder's config, "
    "else what the server says, else 4096)"
)
NO_RECORD_HELP = (
    "do not record this session under PUNIE_HOME/traces (recording is on by default, "
    "local only, secrets redacted; `record = false` under \\[traces] in "
    "PUNIE_HOME/config.toml turns it off for good)"
)
MODEL_HELP = (
    "local | local:NAME | local:URL | ollama:NAME | a model folder or name "
    "(Punie starts mlx_lm.server for it on the first prompt)"
)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""

    @app.command("serve")
    def serve(
        model: str = typer.Option("local", "--model", "-m", help=MODEL_HELP),
        adapter: Path | None = typer.Option(
            None, "--adapter", help="LoRA adapter folder for a managed model"
        ),
        max_tokens: int | None = typer.Option(None, "--max-tokens", help="per model reply"),
        temperature: float | None = typer.Option(None, "--temperature"),
        context: int | None = typer.Option(None, "--context", min=1, help=CONTEXT_HELP),
        command_timeout: float = typer.Option(120.0, "--command-timeout", help="seconds"),
        output_limit: int = typer.Option(64_000, "--output-limit", help="bytes of command output"),
        no_record: bool = typer.Option(False, "--no-record", help=NO_RECORD_HELP),
    ) -> None:
        """Run the Punie agent over ACP on stdio (what JetBrains/Zed start)."""
        from punie.agent.server import run

        run(
            model,
            adapter,
            max_tokens=max_tokens,
            temperature=temperature,
            context=context,
            timeout_s=command_timeout,
            output_limit=output_limit,
            record=not no_record,
        )

    @app.command("ask")
    def ask(
        prompt: str = typer.Argument(..., help="what to ask the agent"),
        model: str = typer.Option("local", "--model", "-m", help=MODEL_HELP),
        adapter: Path | None = typer.Option(None, "--adapter"),
        yes: bool = typer.Option(False, "--yes", "-y", help="approve writes and commands"),
        cwd: Path = typer.Option(Path("."), "--cwd", help="workspace (default: here)"),
        max_tokens: int | None = typer.Option(None, "--max-tokens"),
        temperature: float | None = typer.Option(None, "--temperature"),
        context: int | None = typer.Option(None, "--context", min=1, help=CONTEXT_HELP),
        command_timeout: float = typer.Option(120.0, "--command-timeout"),
        no_record: bool = typer.Option(False, "--no-record", help=NO_RECORD_HELP),
    ) -> None:
        """Ask the agent once, in this terminal, with local tools."""
        from punie.agent.ask import run_ask

        raise typer.Exit(
            run_ask(
                prompt,
                model,
                adapter,
                yes=yes,
                cwd=cwd,
                max_tokens=max_tokens,
                temperature=temperature,
                context=context,
                timeout_s=command_timeout,
                record=not no_record,
            )
        )

    @app.command("init")
    def init(
        ide: str = typer.Option(..., "--ide", help="jetbrains | zed"),
        model: str = typer.Option("local", "--model", "-m", help=MODEL_HELP),
        adapter: Path | None = typer.Option(None, "--adapter"),
        name: str = typer.Option("Punie", "--name", help="the agent's name in the IDE"),
        print_only: bool = typer.Option(False, "--print", help="show the result, write nothing"),
        config_path: Path | None = typer.Option(
            None, "--config-path", help="the IDE's config file (default: its usual place)"
        ),
        no_record: bool = typer.Option(False, "--no-record", help="register `serve --no-record`"),
    ) -> None:
        """Register `punie serve` as an agent in JetBrains (acp.json) or Zed (settings.json)."""
        from punie.agent.ide_config import run_init

        run_init(
            ide,
            model=model,
            adapter=adapter,
            name=name,
            print_only=print_only,
            config_path=config_path,
            record=not no_record,
        )
