"""A Rich progress bar for a training run, fed by punie.train's structured events."""

from __future__ import annotations

from typing import Any


class TrainProgress:
    """Context manager; pass `.on_event` to `punie.train.train`."""

    def __init__(self, iters: int, console: Any = None):
        self.iters = iters
        self.console = console
        self._p = None
        self._task = None
        self.train_loss: float | None = None
        self.val_loss: float | None = None

    def __enter__(self) -> TrainProgress:
        if self.console is not None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._p = Progress(
                TextColumn("train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[losses]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._task = self._p.add_task("train", total=self.iters, losses="")
            self._p.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._p is not None:
            self._p.stop()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "train":
            self.train_loss = event.get("train_loss")
        elif kind == "val":
            self.val_loss = event.get("val_loss")
        if self._p is None or "step" not in event:
            return
        parts = []
        if self.train_loss is not None:
            parts.append(f"loss {self.train_loss:.3f}")
        if self.val_loss is not None:
            parts.append(f"val {self.val_loss:.3f}")
        self._p.update(self._task, completed=event["step"], losses=" ".join(parts))
