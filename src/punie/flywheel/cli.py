"""CLI commands of punie.flywheel: demo, flywheel run, sweep, tune-inference, runs."""

from __future__ import annotations

import functools
from pathlib import Path

import typer

from punie.errors import PunieError

flywheel_app = typer.Typer(help="The whole flywheel on your own model, data and suites.")
runs_app = typer.Typer(help="Training and flywheel runs under PUNIE_HOME.")


def _one_line_errors(fn):
    """PunieError as its one line and exit code (typer's vendored click misses it)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PunieError as exc:
            exc.show()
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _console():
    from rich.console import Console

    return Console(stderr=False)


def _finish(res, console, *, strict: bool) -> None:
    """Stage table, verdict, report path; exit 1 unless every stage ran."""
    console.print(res.log.table())
    import json

    summary = json.loads((res.run_dir / "flywheel.json").read_text())
    v = summary["verdict"]
    for line in v["suites"]:
        target = (
            ""
            if line["target"] is None
            else f" (target {line['target']:+.0f}: {'met' if line['met'] else 'NOT met'})"
        )
        console.print(
            f"{line['suite']}: {100 * line['base']:.1f}% -> {100 * line['new']:.1f}% "
            f"({line['delta']:+.1f} points, {line['label']}){target}"
        )
    for lim in v.get("limits", []):
        console.print(
            f"{lim['suite']}: {lim['count']} adapted tasks ended on the {lim['ending']} "
            f"(at most {lim['max']}: {'met' if lim['met'] else 'NOT met'})"
        )
    _harvest_lines(summary.get("harvest"), console)
    console.print(f"[bold]verdict: {v['label']}[/]")
    model = summary["config"]["model"]
    console.print(f"use it: punie serve --model {model} --adapter {summary['adapter']}")
    console.print(f"report: {res.report}")
    if strict and not res.complete:
        raise typer.Exit(1)


def _harvest_lines(info: dict | None, console) -> None:
    """What the harvested sessions added: rows merged, the newer-session suite built."""
    if not info:
        return
    m, s = info.get("merge"), info.get("suite")
    if m:
        console.print(
            f"harvest: {m['harvested_train']} train rows x {m['weight']:g} -> "
            f"{m['harvested_train_rows']} in train, {m['harvested_valid']} in valid",
            highlight=False,
        )
    if s:
        skipped = ", ".join(f"{k} {n}" for k, n in s["skipped"].items()) or "none"
        console.print(
            f"{s['name']}: {s['cases']} of {s['held_out_rows']} held-out turns as tasks "
            f"(skipped: {skipped})" + (f"; {s['note']}" if s.get("note") else ""),
            highlight=False,
        )


def _forget_demo(out: Path, cache: Path) -> None:
    """Remove what an earlier demo left (its training run too), so everything reruns."""
    import json
    import shutil

    prev = out / "flywheel.json"
    if prev.is_file():
        run = json.loads(prev.read_text()).get("train_run")
        if run and Path(run).name.startswith("flywheel-"):
            shutil.rmtree(run, ignore_errors=True)
    for p in (out, cache / "data", cache / "evals", cache / "validated"):
        shutil.rmtree(p, ignore_errors=True)


def demo_command(
    run_dir: Path = typer.Option(None, "--run-dir", help="default PUNIE_HOME/flywheel/demo"),
    fresh: bool = typer.Option(False, "--fresh", help="ignore cached results of earlier runs"),
    seed: int = typer.Option(None, "--seed", help="training seed (default: the recipe's)"),
    dev: bool = typer.Option(
        False, "--dev", help="score the dev draw (tasks-dev), for choosing recipes"
    ),
) -> None:
    """Fine-tune the embedded SmolLM2-135M on Punie's tools and show it finishes tasks."""
    from punie import paths
    from punie.flywheel.demo_recipe import demo_config, demo_endings, demo_targets
    from punie.flywheel.pipeline import cache_root, run_flywheel

    console = _console()
    recipe = demo_config(seed=seed, dev=dev)
    name = "demo" + ("-dev" if dev else "") + ("" if seed is None else f"-seed{seed}")
    out = run_dir or paths.punie_home() / "flywheel" / name
    if fresh:
        _forget_demo(out, cache_root())
    console.print(
        f"[bold]Punie demo[/]: {recipe.model}, {recipe.data.n} generated agent traces, "
        f"LoRA top {recipe.train['num_layers']} layers x {recipe.train['iters']} steps; "
        f"suites {', '.join(recipe.eval.suites)}"
    )
    res = run_flywheel(
        recipe,
        out,
        console=console,
        title="Punie demo: SmolLM2-135M learns to finish tasks with Punie's tools",
        targets=demo_targets(dev),
        endings=demo_endings(dev),
    )
    _finish(res, console, strict=True)


def flywheel_run_command(
    config: Path = typer.Argument(..., help="flywheel TOML (see docs/flywheel.md)"),
    run_dir: Path = typer.Option(None, "--run-dir", help="default PUNIE_HOME/flywheel/NAME"),
) -> None:
    """Run data -> train -> eval -> compare -> report; finished stages are reused."""
    from punie import paths
    from punie.flywheel.config import load_config
    from punie.flywheel.pipeline import run_flywheel

    cfg = load_config(config)
    console = _console()
    out = run_dir or paths.punie_home() / "flywheel" / (cfg.name or config.stem)
    res = run_flywheel(
        cfg, out, console=console, title=f"Punie flywheel: {cfg.name or config.stem}"
    )
    _finish(res, console, strict=True)


def sweep_command(
    config: Path = typer.Argument(..., help="flywheel TOML with a [sweep] grid"),
    out: Path = typer.Option(None, "--out", help="default PUNIE_HOME/sweeps/NAME"),
) -> None:
    """Train and evaluate every point of a grid; a table sorted by task score."""
    from punie import paths
    from punie.flywheel.sweep import load_sweep, run_sweep

    cfg, grid, metric = load_sweep(config)
    console = _console()
    target = out or paths.punie_home() / "sweeps" / (cfg.name or config.stem)
    result = run_sweep(cfg, grid, target, console=console, metric=metric)
    console.print(result.table())
    console.print(f"best: {result.best_name}  ({result.html})")


def tune_command(
    model: str = typer.Option("smollm2-135m", "--model", "-m"),
    adapter: Path = typer.Option(None, "--adapter", help="adapter folder or a run folder"),
    suite: str = typer.Option(
        "tools-dev", "--suite", "-s", help="a built-in's test draw is swapped for its dev draw"
    ),
    temperature: list[float] = typer.Option([0.0, 0.7], "--temperature"),
    top_p: list[float] = typer.Option([1.0], "--top-p"),
    top_k: list[int] = typer.Option([0], "--top-k"),
    repetition_penalty: list[float] = typer.Option([1.0], "--repetition-penalty"),
    # The tools suites' own limit: their edit_file calls are 56-60 SmolLM2 tokens.
    max_tokens: int = typer.Option(96, "--max-tokens"),
    limit: int = typer.Option(0, "--limit", help="first N cases only (0 = all)"),
    out: Path = typer.Option(None, "--out"),
) -> None:
    """Score sampling settings (sent per request to one managed server) on a suite."""
    from punie import paths
    from punie.flywheel.tune import grid_points, tune_inference

    console = _console()
    points = grid_points(temperature, top_p, top_k, repetition_penalty)
    target = out or paths.punie_home() / "tune" / suite
    result = tune_inference(
        model, adapter, suite, points, target, max_tokens=max_tokens, limit=limit, console=console
    )
    console.print(result.table())
    console.print(f"results: {result.path}")


def runs_list_command() -> None:
    """Every training run and flywheel run under PUNIE_HOME, newest first."""
    from punie.flywheel.runs import list_runs, runs_table

    _console().print(runs_table(list_runs()))


def runs_show_command(run: str = typer.Argument(..., help="run name or folder")) -> None:
    """What a run trained and evaluated: config, data, outcome, scores."""
    from punie.flywheel.runs import show_run

    _console().print(show_run(run))


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    w = _one_line_errors
    app.command("demo")(w(demo_command))
    flywheel_app.command("run")(w(flywheel_run_command))
    app.add_typer(flywheel_app, name="flywheel")
    app.command("sweep")(w(sweep_command))
    app.command("tune-inference")(w(tune_command))
    runs_app.command("list")(w(runs_list_command))
    runs_app.command("show")(w(runs_show_command))
    app.add_typer(runs_app, name="runs")
