"""CLI commands of punie.train: `punie train`, `punie fuse`, `punie bench train`."""

from __future__ import annotations

from pathlib import Path

import typer

from punie.errors import PunieError

EXIT_INTERRUPTED = 130

# Flag name -> TrainConfig field, for flags that map one to one.
_FLAG_FIELDS = (
    "model",
    "data",
    "method",
    "beta",
    "fine_tune_type",
    "rank",
    "alpha",
    "scale",
    "dropout",
    "num_layers",
    "keys",
    "optimizer",
    "learning_rate",
    "lr_schedule",
    "warmup_steps",
    "iters",
    "batch_size",
    "grad_accumulation_steps",
    "max_seq_length",
    "mask_prompt",
    "train_on",
    "grad_checkpoint",
    "steps_per_report",
    "steps_per_eval",
    "steps_per_save",
    "val_batches",
    "seed",
    "early_stopping_patience",
    "early_stopping_min_delta",
)


def _print_config(cfg, run_dir: str | None, as_json: bool) -> None:
    if as_json:
        from punie.train.progress import JsonEvents

        JsonEvents().emit({"event": "config", "run_dir": run_dir, "config": cfg.dump()})
        return
    from rich.console import Console

    con = Console(stderr=True)
    con.print("[bold]effective config[/bold]" + (f" -> {run_dir}/config.json" if run_dir else ""))
    for k, v in cfg.dump().items():
        con.print(f"  {k:<26} {v}")


def _report(result, as_json: bool) -> int:
    from punie.train.progress import JsonEvents

    summary = {
        "event": "result",
        "run_dir": str(result.run_dir),
        "outcome": result.outcome,
        "steps": result.steps,
        "adapter": str(result.adapter_path),
        "best_adapter": str(result.best_adapter_path) if result.best_adapter_path else None,
        "final_val_loss": result.final_val_loss,
        "best_val_loss": result.best_val_loss,
        "best_step": result.best_step,
    }
    if as_json:
        JsonEvents().emit(summary)
    else:
        typer.echo(
            f"{result.outcome} at step {result.steps}: val loss {result.final_val_loss} "
            f"(best {result.best_val_loss} at step {result.best_step})\n"
            f"adapter: {result.adapter_path}\nbest adapter: {result.best_adapter_path}"
        )
    if result.outcome == "interrupted":
        typer.echo(f"resume with: punie train --resume {result.run_dir}", err=True)
        return EXIT_INTERRUPTED
    return 0


def train_cmd(
    config: Path = typer.Argument(None, help="TOML or YAML config file (flags override it)."),
    model: str = typer.Option(None, help="Base model: folder, embedded name or HF repo id."),
    data: Path = typer.Option(
        None, help="Folder with train.jsonl and valid.jsonl (chat rows; pairs for dpo/orpo)."
    ),
    method: str = typer.Option(
        None, help="sft (default) | dpo | orpo: preference training on pairs."
    ),
    beta: float = typer.Option(None, help="dpo: beta (default 0.1); orpo: lambda."),
    fine_tune_type: str = typer.Option(None, help="lora | dora | full"),
    rank: int = typer.Option(None, help="LoRA rank."),
    alpha: float = typer.Option(None, help="LoRA alpha (scale = alpha / rank)."),
    scale: float = typer.Option(None, help="LoRA scale."),
    dropout: float = typer.Option(None, help="LoRA dropout."),
    num_layers: int = typer.Option(None, help="Layers from the top to adapt; -1 = all."),
    keys: str = typer.Option(
        None, help="Comma-separated modules, e.g. self_attn.q_proj,mlp.up_proj."
    ),
    optimizer: str = typer.Option(None, help="adam | adamw | sgd | adafactor"),
    learning_rate: float = typer.Option(None, "--learning-rate", "--lr"),
    lr_schedule: str = typer.Option(None, help="constant | cosine | linear"),
    warmup_steps: int = typer.Option(None),
    iters: int = typer.Option(None, help="Optimizer updates (extends a run with --resume)."),
    batch_size: int = typer.Option(None),
    grad_accumulation_steps: int = typer.Option(None),
    max_seq_length: int = typer.Option(None),
    mask_prompt: bool = typer.Option(None, "--mask-prompt/--no-mask-prompt"),
    train_on: str = typer.Option(
        None, help="With --mask-prompt: assistant (every assistant turn) | last (last message)."
    ),
    grad_checkpoint: bool = typer.Option(None, "--grad-checkpoint/--no-grad-checkpoint"),
    steps_per_report: int = typer.Option(None),
    steps_per_eval: int = typer.Option(None),
    steps_per_save: int = typer.Option(None),
    val_batches: int = typer.Option(None),
    seed: int = typer.Option(None),
    early_stopping_patience: int = typer.Option(None, "--patience", help="Evals without gain."),
    early_stopping_min_delta: float = typer.Option(None, "--min-delta"),
    set_: list[str] = typer.Option(None, "--set", help="Any config key: --set key=value."),
    run_dir: Path = typer.Option(None, help="Run folder (default PUNIE_HOME/runs/NAME)."),
    name: str = typer.Option(None, help="Run name under PUNIE_HOME/runs."),
    resume: str = typer.Option(
        None, help="Continue RUN (folder or name) from its last checkpoint."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print events as JSON lines."),
    nproc: int = typer.Option(1, help="Data-parallel processes on this machine (mlx.launch ring)."),
    hostfile: Path = typer.Option(None, help="mlx.launch hostfile for multi-machine runs."),
    dry_run: bool = typer.Option(False, help="Check config and data, print the config, stop."),
) -> None:
    """Fine-tune a model with LoRA/DoRA/full training (mlx-lm) in a supervised child:
    supervised on chat rows, or DPO/ORPO on preference pairs (--method)."""
    from punie import paths
    from punie.train import runner
    from punie.train.config import TrainConfig, make_config, parse_set
    from punie.train.progress import JsonEvents, RichProgress

    local = locals()
    overrides = {f: local[f] for f in _FLAG_FIELDS}
    overrides.update(parse_set(set_))
    if resume:
        extra = {k for k, v in overrides.items() if v is not None and k != "iters"}
        if extra or config:
            raise PunieError(
                f"--resume keeps the run's config; cannot change {', '.join(sorted(extra)) or 'it'}",
                where="--resume",
                hint="only --iters may extend a resumed run",
            )
        from punie.train.rundir import find_run

        root = find_run(resume)
        cfg = TrainConfig.model_validate_json((root / "config.json").read_text())
        progress = JsonEvents() if json_out else RichProgress(overrides["iters"] or cfg.iters)
        with progress:
            result = runner.resume(root, on_event=progress, iters=overrides["iters"])
        raise typer.Exit(_report(result, json_out))

    cfg = make_config(config, overrides)
    if nproc < 1:
        raise PunieError("--nproc must be at least 1", where="--nproc")
    target = run_dir or (paths.runs_dir() / name if name else None)
    _print_config(cfg, str(target) if target else None, json_out)
    if dry_run:
        from punie.train.preflight import preflight

        pre = preflight(cfg, world_size=nproc)
        typer.echo(f"ok: model {pre.model_path}, examples {pre.examples}", err=True)
        return
    progress = JsonEvents() if json_out else RichProgress(cfg.iters)
    with progress:
        result = runner.train(cfg, target, on_event=progress, nproc=nproc, hostfile=hostfile)
    raise typer.Exit(_report(result, json_out))


def fuse_cmd(
    source: str = typer.Argument(..., help="Run (folder or name) or adapter folder."),
    out: Path = typer.Option(..., "--out", help="Folder for the fused model."),
    model: str = typer.Option(None, help="Base model (default: the one the adapter names)."),
    dequantize: bool = typer.Option(False, help="Write full-precision weights."),
    last: bool = typer.Option(False, help="Use the run's last adapter instead of its best."),
) -> None:
    """Merge an adapter into its base model: a standalone model folder."""
    from punie.train.fuse import fuse

    path = fuse(source, out, model=model, dequantize=dequantize, last=last)
    typer.echo(str(path))


def bench_train_cmd(
    model: str = typer.Argument(..., help="Model to time (folder, embedded name, HF id)."),
    batch_size: int = typer.Option(4),
    seq_len: int = typer.Option(348, help="Tokens per example in the timed batch."),
    rank: int = typer.Option(8),
    num_layers: int = typer.Option(16),
    fine_tune_type: str = typer.Option("lora"),
    steps: int = typer.Option(3, help="Timed steps after warm-up."),
    warmup: int = typer.Option(1, help="Untimed steps (graph compile)."),
    data: Path | None = typer.Option(
        None, help="Time the first --steps real batches of this dataset folder instead."
    ),
    mask_prompt: bool = typer.Option(False, help="With --data: loss only on the answers."),
    train_on: str = typer.Option(
        "assistant", help="With --mask-prompt: assistant (every assistant turn) | last."
    ),
    full_loss: bool = typer.Option(
        False, help="With --mask-prompt: mlx-lm's full-vocab loss at every position."
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Time steady-state training steps of MODEL (load excluded) in a fast-BLAS child."""
    from punie.train.bench import bench_train, render

    result = bench_train(
        model,
        batch_size=batch_size,
        seq_len=seq_len,
        rank=rank,
        num_layers=num_layers,
        fine_tune_type=fine_tune_type,
        steps=steps,
        warmup=warmup,
        data=data,
        mask_prompt=mask_prompt,
        full_loss=full_loss,
        train_on=train_on,
    )
    if json_out:
        import json

        typer.echo(json.dumps(result))
    else:
        typer.echo(render(result))


def _bench_group(app: typer.Typer) -> typer.Typer:
    """The shared `bench` group: reuse it when another stage registered it first."""
    for group in app.registered_groups:
        if group.name == "bench" and group.typer_instance is not None:
            return group.typer_instance
    bench = typer.Typer(help="Speed benchmarks.", no_args_is_help=True)
    app.add_typer(bench, name="bench")
    return bench


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    app.command("train")(train_cmd)
    app.command("fuse")(fuse_cmd)
    _bench_group(app).command("train")(bench_train_cmd)
