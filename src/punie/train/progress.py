"""What a person (Rich bar) or a script (`--json` lines) sees while a run trains."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _fmt(x: Any) -> str:
    return f"{x:.4f}" if isinstance(x, float) else "-"


class JsonEvents:
    """One JSON object per line on stdout, flushed, for scripts and the flywheel."""

    def __enter__(self) -> JsonEvents:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def emit(self, obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    __call__ = emit


class RichProgress:
    """A bar over optimizer steps with the latest train/val loss and an ETA."""

    def __init__(self, iters: int, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.iters = iters
        self.train_loss: float | None = None
        self.val_loss: float | None = None
        self.best: float | None = None
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[losses]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.task = None

    def _losses(self) -> str:
        return f"loss {_fmt(self.train_loss)}  val {_fmt(self.val_loss)} (best {_fmt(self.best)})"

    def __enter__(self) -> RichProgress:
        self.progress.__enter__()
        self.task = self.progress.add_task("train", total=self.iters, losses=self._losses())
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, e: dict[str, Any]) -> None:
        kind = e.get("event")
        if kind in ("start", "resume"):
            self.iters = e.get("iters", self.iters)
            self.progress.update(self.task, total=self.iters, completed=e.get("step", 0))
            if kind == "resume":
                self.progress.reset(self.task, total=self.iters, completed=e.get("step", 0))
            self.progress.console.print(
                f"{kind} at step {e.get('step', 0)}: "
                f"{e.get('trainable_parameters', 0):,} of {e.get('total_parameters', 0):,} "
                f"parameters trainable, {e.get('world_size', 1)} process(es), blas {e.get('blas')}"
            )
        elif kind == "train":
            self.train_loss = e["train_loss"]
            self.progress.update(self.task, completed=e["step"], losses=self._losses())
        elif kind == "val":
            self.val_loss = e["val_loss"]
            self.best = e.get("best_val_loss")
            self.progress.update(self.task, losses=self._losses())
        elif kind == "end":
            self.progress.update(self.task, completed=e["step"])
        elif kind == "error":
            self.progress.console.print(f"[red]worker error: {e.get('message')}")
