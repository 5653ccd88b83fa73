"""CLI commands of punie.evaluate: `punie eval` and `punie compare`."""

from __future__ import annotations

import re
from pathlib import Path

import typer


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip("/")).strip("_")[-80:] or "model"


def default_out(model: str, adapter: Path | None, suite: str) -> Path:
    """Stable per (model, adapter, suite), so running the same command again resumes."""
    from punie import paths

    name = _slug(model) + (f"+{_slug(str(adapter))}" if adapter else "")
    return paths.evals_dir() / _slug(suite) / name


def format_task_metrics(m: dict) -> str:
    return (
        f"calls/task {m['mean_model_calls']}, tool calls/task {m['mean_tool_calls']}, "
        f"repeat guard {m['repeat_guard']}, call budget {m['call_budget']}, "
        f"invalid/call {m['invalid_per_call']}, tokens in/out {m['mean_input_tokens']}/"
        f"{m['mean_output_tokens']}, {m['mean_seconds']} s/task"
    )


def eval_command(
    model: str = typer.Option(
        ...,
        "--model",
        "-m",
        help="local, local:NAME, local:URL, ollama:NAME, or a model folder/name (managed server).",
    ),
    suite: str = typer.Option(
        "tools",
        "--suite",
        "-s",
        help="Built-in suite (tools, no-tool, tasks, each with a -dev draw; python) or a YAML file.",
    ),
    adapter: Path | None = typer.Option(
        None, "--adapter", help="LoRA adapter folder for a managed model."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help=(
            "Output folder (default: PUNIE_HOME/evals/SUITE/MODEL); an existing one resumes "
            "if it was made with the same suite, model, adapter, settings and software."
        ),
    ),
    concurrency: int = typer.Option(
        8,
        "--concurrency",
        "-j",
        help="Requests in flight (and the managed server's --decode-concurrency).",
    ),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", help="Override the suite's max_tokens."
    ),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds per request."),
    temperature: float = typer.Option(0.0, "--temperature"),
    seed: int = typer.Option(0, "--seed"),
    run: Path | None = typer.Option(
        None, "--run", help="Training run folder: its loss curves go into the report."
    ),
    fresh: bool = typer.Option(
        False,
        "--fresh",
        help="Discard the output folder's earlier results (e.g. made with other settings).",
    ),
) -> None:
    """Evaluate a model on a suite; writes cases.jsonl, results.json and report.html."""
    import asyncio
    import shutil

    from rich.console import Console

    from punie.evaluate.report import write_html_report
    from punie.evaluate.runner import REPORT_FILE, EvalSettings, evaluate
    from punie.evaluate.suite import load_any_suite
    from punie.evaluate.task_runner import evaluate_tasks
    from punie.evaluate.tasks import TaskSuite

    the_suite = load_any_suite(suite)
    # A task suite runs whole tasks through the agent loop; a single-turn one asks once.
    run_it = evaluate_tasks if isinstance(the_suite, TaskSuite) else evaluate
    out_dir = out or default_out(model, adapter, the_suite.name)
    if fresh and out_dir.exists():
        shutil.rmtree(out_dir)
    settings = EvalSettings(
        temperature=temperature,
        seed=seed,
        max_tokens=max_tokens,
        concurrency=concurrency,
        timeout_s=timeout,
    )
    console = Console(stderr=True)
    try:
        result = asyncio.run(
            run_it(
                model,
                the_suite,
                out_dir,
                adapter=adapter,
                settings=settings,
                decode_concurrency=concurrency,
            )
        )
    except KeyboardInterrupt:
        console.print(
            f"interrupted: finished cases are in {out_dir}/cases.jsonl; run the same command to resume"
        )
        raise typer.Exit(130) from None
    if run is not None:
        write_html_report(result, out_dir / REPORT_FILE, run)
    s = result.summary()
    console.print(
        f"[bold]{the_suite.name}[/]: {s['passed']}/{s['n']} passed ({100 * s['accuracy']:.1f}%)"
        + (f"; failures {s['failures']}" if s["failures"] else "")
    )
    for name, c in s["per_category"].items():
        console.print(f"  {name:<20} {c['passed']:>3}/{c['n']:<3} {100 * c['accuracy']:5.1f}%")
    if "tasks" in s:
        console.print("  " + format_task_metrics(s["tasks"]), highlight=False)
    if not result.complete:
        console.print("[yellow]incomplete: run the same command again to resume[/]")
    typer.echo(str(out_dir / "results.json"))
    typer.echo(str(out_dir / REPORT_FILE))


def compare_command(
    base: Path = typer.Argument(..., help="Baseline results.json (or its folder)."),
    new: Path = typer.Argument(..., help="New results.json (or its folder)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: NEW's folder)."
    ),
    run: Path | None = typer.Option(
        None, "--run", help="Training run folder: its loss curves go into the comparison."
    ),
) -> None:
    """Compare two evaluations: per-category deltas, flipped cases, McNemar p, bootstrap CI, verdict."""
    from rich.console import Console

    from punie.evaluate.compare import write_comparison
    from punie.evaluate.results import load_result

    b, n = load_result(base), load_result(new)
    out_dir = out or (new if new.is_dir() else new.parent)
    cmp = write_comparison(b, n, out_dir, run)
    console = Console(stderr=True)
    console.print(
        f"[bold]{cmp.label}[/]: {100 * cmp.base_accuracy:.1f}% -> {100 * cmp.new_accuracy:.1f}% "
        f"({cmp.delta_points:+.1f} points, 95% CI {cmp.ci_points[0]:+.1f}..{cmp.ci_points[1]:+.1f}, "
        f"McNemar p={cmp.p_value:.3g}); fixed {len(cmp.fixed)}, broken {len(cmp.broken)}"
    )
    for name, c in cmp.per_category.items():
        console.print(
            f"  {name:<20} {100 * c['base']:5.1f}% -> {100 * c['new']:5.1f}%  {c['delta_points']:+.1f}"
        )
    if cmp.task_metrics:
        for key, (was, now) in cmp.task_metrics.items():
            console.print(f"  {key:<20} {was} -> {now}", highlight=False)
    typer.echo(str(out_dir / "comparison.json"))
    typer.echo(str(out_dir / "comparison.html"))


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    app.command("eval")(eval_command)
    app.command("compare")(compare_command)
