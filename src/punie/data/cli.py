"""CLI commands of punie.data (`punie data ...`). Heavy imports stay inside commands."""

from __future__ import annotations

from pathlib import Path

import typer

from punie.errors import PunieError

data_app = typer.Typer(
    name="data",
    help=(
        "Chat-JSONL datasets: validate, check-format, generate, split, stats, import, "
        "harvest, harvest-suite."
    ),
    no_args_is_help=True,
)

_MODEL_HELP = "model name or folder whose tokenizer and chat template to use"


def _echo_issues(issues, limit: int = 0) -> None:
    shown = issues if not limit else issues[:limit]
    for issue in shown:
        typer.echo(str(issue))
    if limit and len(issues) > limit:
        typer.echo(f"... {len(issues) - limit} more")


@data_app.command("validate")
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


@data_app.command("check-format")
def check_format_cmd(
    path: Path = typer.Argument(..., help="a .jsonl file or a dataset folder"),
    model: str = typer.Option(..., "--model", "-m", help=_MODEL_HELP),
    limit: int = typer.Option(None, "--limit", help="check only the first N examples"),
    max_issues: int = typer.Option(50, "--max-issues", help="issues to print (0: all)"),
) -> None:
    """Render with the model's template, parse with mlx-lm's tool parser, compare calls."""
    from rich.console import Console
    from rich.progress import Progress

    from punie.data.check_format import check_format

    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("rendering and parsing", total=None)
        report = check_format(
            path,
            model,
            limit=limit,
            on_progress=lambda d, t: bar.update(task, completed=d, total=t),
        )
    _echo_issues(list(report.issues), max_issues)
    if not report.ok:
        raise PunieError(
            f"{len(report.issues)} assistant turns do not round-trip through the "
            f"chat template and tool parser ({report.parser})",
            where=str(path),
            hint="see the lines above",
        )
    typer.echo(
        f"ok: {report.examples} examples, {report.turns} assistant turns, "
        f"{report.calls} tool calls parse back identically with {report.parser}"
    )


def _read(path: Path):
    from punie.data.files import read_dataset

    return read_dataset(path)


def _write_out(out: Path, splits: dict) -> None:
    """A dataset folder, or a single .jsonl when `out` names one and there is one split."""
    from punie.data.files import write_dataset, write_rows

    if out.suffix == ".jsonl":
        write_rows(out, [r for rows in splits.values() for r in rows])
        typer.echo(f"wrote {sum(len(r) for r in splits.values())} rows to {out}")
        return
    counts = write_dataset(out, splits)
    typer.echo(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@data_app.command("generate")
def generate_cmd(
    kind: str = typer.Argument(..., help="tools (agent tool calls) or python (Q&A)"),
    out: Path = typer.Option(..., "--out", "-o", help="dataset folder to write"),
    n: int = typer.Option(1000, "--n", help="examples in all splits together"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Generate a dataset: train/valid/test.jsonl, each agent trace one whole row."""
    from punie.data.generate import generate

    counts = generate(kind, out, n, seed)
    typer.echo(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@data_app.command("expand")
def expand_cmd(
    path: Path = typer.Argument(..., help="a .jsonl file or dataset folder"),
    out: Path = typer.Option(..., "--out", "-o"),
    all_splits: bool = typer.Option(False, "--all", help="expand valid/test too"),
) -> None:
    """One row per assistant turn (mask_prompt trains only the last message)."""
    from punie.data.traces import expand_rows

    splits = _read(path)
    result = {
        k: (expand_rows(v) if all_splits or k == "train" or path.is_file() else v)
        for k, v in splits.items()
    }
    _write_out(out, result)


@data_app.command("split")
def split_cmd(
    path: Path = typer.Argument(..., help="a .jsonl file (or folder: all rows pooled)"),
    out: Path = typer.Option(..., "--out", "-o", help="dataset folder to write"),
    ratios: str = typer.Option("0.8,0.1,0.1", "--ratios", help="train,valid,test"),
    seed: int = typer.Option(0, "--seed"),
    no_expand: bool = typer.Option(False, "--no-expand", help="keep train traces whole"),
) -> None:
    """Seeded shuffle split; multi-turn train traces expanded by default."""
    from punie.data.ops import parse_ratios, split_rows

    rows = [r for rs in _read(path).values() for r in rs]
    _write_out(out, split_rows(rows, parse_ratios(ratios), seed, expand_train=not no_expand))


@data_app.command("dedupe")
def dedupe_cmd(
    path: Path = typer.Argument(...),
    out: Path = typer.Option(..., "--out", "-o"),
    near: bool = typer.Option(False, "--near", help="also fold case, punctuation, spacing"),
) -> None:
    """Drop duplicate rows within each split."""
    from punie.data.ops import dedupe

    result, dropped = {}, 0
    for k, rows in _read(path).items():
        result[k], d = dedupe(rows, near)
        dropped += d
    typer.echo(f"dropped {dropped} duplicates")
    _write_out(out, result)


@data_app.command("merge")
def merge_cmd(
    paths: list[Path] = typer.Argument(..., help="dataset folders or files"),
    out: Path = typer.Option(..., "--out", "-o"),
    near: bool = typer.Option(False, "--near"),
) -> None:
    """Concatenate datasets split by split, without duplicates."""
    from punie.data.ops import merge

    _write_out(out, merge([_read(p) for p in paths], near))


@data_app.command("filter")
def filter_cmd(
    path: Path = typer.Argument(...),
    out: Path = typer.Option(..., "--out", "-o"),
    language: str = typer.Option(None, "--language", help="keep rows in this language (en)"),
    min_quality: float = typer.Option(0.0, "--min-quality", help="0..1 score threshold"),
    python: bool = typer.Option(False, "--python", help="python code blocks must parse"),
) -> None:
    """Keep rows that pass the language / quality / Python-parses filters."""
    from punie.data.ops import filter_rows

    result = {}
    for k, rows in _read(path).items():
        result[k], why = filter_rows(rows, language, min_quality, python)
        if why:
            typer.echo(f"{k}: dropped " + ", ".join(f"{n} for {r}" for r, n in why.items()))
    _write_out(out, result)


@data_app.command("stats")
def stats_cmd(
    path: Path = typer.Argument(...),
    model: str = typer.Option(None, "--model", "-m", help=_MODEL_HELP + " (token counts)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Counts, forms, categories, tool calls per tool, assistant turns, tokens."""
    import json
    from dataclasses import asdict

    from punie.data.ops import stats

    tok = None
    if model:
        from punie.data.tokens import load_tokenizer

        tok = load_tokenizer(model)
    result = {k: asdict(stats(rows, tok)) for k, rows in _read(path).items()}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for k, st in result.items():
        typer.echo(f"{k}: {st['examples']} examples")
        for key in ("forms", "categories", "tools", "assistant_turns", "tokens"):
            if st[key]:
                typer.echo(f"  {key}: " + ", ".join(f"{a}={b}" for a, b in st[key].items()))


@data_app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., help="a .jsonl or .json file"),
    fmt: str = typer.Option(..., "--format", "-f", help="sharegpt, openai, glaive or alpaca"),
    out: Path = typer.Option(..., "--out", "-o", help=".jsonl file, or a folder to split into"),
    ratios: str = typer.Option("0.8,0.1,0.1", "--ratios", help="when --out is a folder"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Convert a local file into Punie's schema; nothing is written if any row is bad."""
    from punie.data.importers import import_file
    from punie.data.ops import parse_ratios, split_rows

    rows, issues = import_file(path, fmt)
    _echo_issues(issues)
    if issues:
        raise PunieError(
            f"{len(issues)} errors, nothing written", where=str(path), hint="fix the lines above"
        )
    if out.suffix == ".jsonl":
        _write_out(out, {"train": rows})
    else:
        _write_out(out, split_rows(rows, parse_ratios(ratios), seed))


@data_app.command("harvest")
def harvest_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="folder to write (replaced whole)"),
    since: str = typer.Option(None, "--since", help="turns started then or later: DATE or 30d"),
    workspace: Path = typer.Option(None, "--workspace", help="only this workspace's sessions"),
    traces: Path = typer.Option(None, "--traces", help="traces folder (PUNIE_HOME/traces)"),
    existing: list[Path] = typer.Option(
        None, "--existing", help="a dataset (file or folder) not to repeat; repeatable"
    ),
    model: str = typer.Option(None, "--model", "-m", help=_MODEL_HELP + " (length, format)"),
    max_seq_length: int = typer.Option(2048, "--max-seq-length", help="with --model"),
    limit: int = typer.Option(40, "--limit", help="turns to list (0: all; all in harvest.json)"),
) -> None:
    """Recorded sessions into training rows (approved, succeeded, uncorrected turns) and
    preference pairs (a rejected or failed call, then the allowed one): split by time."""
    from punie.data import harvest as hv
    from punie.data import harvest_io as io
    from punie.data.gen_python import suite_requests

    root = traces
    if root is None:
        from punie.traces.config import traces_root

        root = traces_root()
    cutoff = io.parse_since(since) if since else None
    turns, info = io.load_turns(root, cutoff, workspace)
    too_long = bad_format = None
    if model:
        too_long, bad_format = io.model_checks(model, max_seq_length)
    checks = hv.Checks(
        existing=io.existing_keys(existing or []),
        suite_requests=hv.normalised(suite_requests()),
        too_long=too_long,
        bad_format=bad_format,
    )
    result = hv.harvest(turns, checks)
    info = {"traces": str(root), "since": cutoff.isoformat() if cutoff else None, **info}
    io.write_harvest(out, result, io.report(result, info))
    _print_harvest(result, out, limit)


@data_app.command("harvest-suite")
def harvest_suite_cmd(
    folder: Path = typer.Argument(..., help="a folder `punie data harvest --out` wrote"),
    out: Path = typer.Option(None, "--out", "-o", help="YAML file to write (default: print it)"),
) -> None:
    """The harvest's held-out newest sessions as a task suite (`harvest-newer`): score
    any model or adapter on them with `punie eval --suite FILE` or `harvest:FOLDER`."""
    from punie import atomic
    from punie.evaluate.harvested import SKIPS
    from punie.evaluate.harvested_io import (
        NO_CASES_HINT,
        build_harvest_suite,
        no_cases_reason,
        suite_yaml,
    )

    suite, info = build_harvest_suite([folder])
    for s in info["skipped_rows"]:
        detail = f" ({s['detail']})" if s["detail"] else ""
        typer.echo(f"skipped {s['where']}: {SKIPS[s['reason']]}{detail}", err=True)
    if suite is None:
        raise PunieError(no_cases_reason(info), where=str(folder), hint=NO_CASES_HINT)
    text = suite_yaml(suite)
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic.write_text(out, text)
    typer.echo(
        f"{info['cases']} of {info['held_out_rows']} held-out turns as tasks"
        + (f", wrote {out}" if out else ""),
        err=True,
    )


def _print_harvest(result, out: Path, limit: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from punie.data.harvest import REASONS

    console = Console()
    table = Table(title="turns")
    for name in ("session", "line", "prompt", "kept", "split", "why"):
        table.add_column(name, overflow="fold")
    shown = result.outcomes if not limit else result.outcomes[:limit]
    for o in shown:
        why = "; ".join(f"{k}: {d}" if d else k for k, d in o.reasons)
        line = o.where.rsplit(":", 1)[-1]
        prompt = " ".join(o.prompt.split())[:40]
        split = o.split if o.kept else ""
        cells = (o.session_id[:8], line, prompt, o.kept or "dropped", split or "", why)
        table.add_row(*(escape(c) for c in cells))
    console.print(table)
    if len(result.outcomes) > len(shown):
        console.print(f"... {len(result.outcomes) - len(shown)} more turns in harvest.json")
    summary = Table(title="reasons")
    summary.add_column("reason")
    summary.add_column("turns", justify="right")
    summary.add_column("meaning")
    for key, n in result.counts().items():
        summary.add_row(key, str(n), REASONS[key])
    console.print(summary)

    def sizes(splits: dict) -> str:
        return ", ".join(f"{k} {len(v)}" for k, v in splits.items()) or "none"

    console.print(
        f"wrote {out}: positives {sizes(result.positives)}; pairs (in pairs/) "
        f"{sizes(result.pairs)}; report harvest.json",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    app.add_typer(data_app, name="data")
