"""The supervisor: checks, run folder, the worker child (or `mlx.launch` ranks), events.

`train()` is the Python API other stages use. It raises PunieError before starting
anything when the config or data is wrong, runs the worker with the fast BLAS,
follows RUN_DIR/metrics.jsonl (JSON lines the worker fsyncs) and hands each event to
`on_event`. Ctrl-C becomes a STOP file plus SIGINT for the worker, which then saves a
checkpoint and exits; a second Ctrl-C kills it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from punie import blas, paths, procs
from punie.errors import PunieError
from punie.jsonl import parse_lines
from punie.train import checkpoint as ck
from punie.train import rundir
from punie.train.config import TrainConfig
from punie.train.preflight import preflight
from punie.train.rundir import RunPaths

Event = dict[str, Any]


class TrainFailed(PunieError):
    """The worker crashed: not the user's input, so exit 1 (details in train.log)."""

    exit_code = 1


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    outcome: str  # completed | early_stopped | interrupted | failed
    steps: int
    adapter_path: Path
    best_adapter_path: Path | None
    final_val_loss: float | None
    best_val_loss: float | None
    best_step: int | None
    metrics_path: Path
    manifest: dict[str, Any] = field(repr=False)


def worker_command(
    run: RunPaths,
    model_path: Path,
    resume_from: Path | None,
    nproc: int = 1,
    hostfile: Path | None = None,
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "punie.train.worker",
        str(run.root),
        "--model-path",
        str(model_path),
    ]
    if resume_from is not None:
        cmd += ["--resume-from", str(resume_from)]
    if nproc <= 1 and hostfile is None:
        return cmd
    # mlx.launch is mlx's public entry point (its module is private).
    launch = [procs.console_script("mlx.launch")]
    if hostfile is not None:
        launch += ["--hostfile", str(hostfile)]
    else:
        launch += ["--backend", "ring", "-n", str(nproc), "-p", str(procs.free_port_block(nproc))]
    return [*launch, "--", *cmd]


class _Follower:
    """Reads complete new lines of a JSONL file as it grows."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.buf = b""

    def poll(self) -> list[Event]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        return [v for _, v in parse_lines(lines) if not isinstance(v, ValueError)]


def _supervise(
    cmd: list[str], run: RunPaths, on_event: Callable[[Event], None] | None
) -> tuple[int, list[Event]]:
    follower = _Follower(run.metrics)
    env = blas.child_env()
    distributed = Path(cmd[0]).name == "mlx.launch"
    if distributed and "--hostfile" not in cmd:
        # Local ranks share the cores: without this each BLAS spawns a thread per core.
        nproc = int(cmd[cmd.index("-n") + 1])
        for var in ("MKL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env.setdefault(var, str(max(1, (os.cpu_count() or 1) // nproc)))
    # A resumed run's earlier events are history, not news: start at the end.
    follower.offset = run.metrics.stat().st_size if run.metrics.exists() else 0
    events: list[Event] = []
    with open(run.log, "ab") as log:
        log.write(f"\n$ {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only us; we forward it once
            preexec_fn=procs.preexec(),
        )
    interrupts = 0

    def on_sigint(signum, frame) -> None:  # noqa: ARG001
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            run.stop.touch()
            if not distributed:
                # mlx.launch would die of a SIGINT and take its ranks along before they
                # save; ranks poll the STOP file instead and agree on the step to stop.
                try:
                    os.killpg(proc.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        else:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    in_main = threading.current_thread() is threading.main_thread()
    # SIGTERM/SIGHUP (a closed terminal, a job scheduler) stop as gently as Ctrl-C.
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {sig: signal.signal(sig, on_sigint) for sig in stops} if in_main else {}
    try:
        while True:
            rc = proc.poll()
            for e in follower.poll():
                events.append(e)
                if on_event is not None:
                    on_event(e)
            if rc is not None:
                break
            time.sleep(0.2)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, events


def _finish(run: RunPaths, manifest: dict, rc: int, events: list[Event]) -> TrainResult:
    history = rundir.read_events(run.metrics)
    end = next((e for e in reversed(events) if e["event"] == "end"), None)
    error = next((e for e in reversed(events) if e["event"] == "error"), None)
    vals = [e for e in history if e["event"] == "val"]
    outcome = end["outcome"] if end else ("killed" if rc < 0 else "failed")
    steps = end["step"] if end else max((e.get("step", 0) for e in history), default=0)
    manifest.update(
        ended=rundir.now(),
        outcome=outcome,
        steps=steps,
        final_val_loss=vals[-1]["val_loss"] if vals else None,
        best_val_loss=min((v["val_loss"] for v in vals), default=None),
        best_step=min(vals, key=lambda v: v["val_loss"])["step"] if vals else None,
        exit_code=rc,
    )
    manifest["attempts"][-1].update(ended=manifest["ended"], outcome=outcome, steps=steps)
    rundir.write_manifest(run, manifest)
    run.stop.unlink(missing_ok=True)
    if error is not None and error.get("kind") == "config":
        raise PunieError(error["message"], where="config", hint="fix the config and start again")
    if end is None:
        msg = error["message"] if error else f"worker exited with code {rc}"
        raise TrainFailed(
            msg,
            where=str(run.root),
            hint=f"see {run.log}; resume with `punie train --resume {run.root}`",
        )
    return TrainResult(
        run_dir=run.root,
        outcome=outcome,
        steps=steps,
        adapter_path=run.adapter,
        best_adapter_path=run.adapter_best if run.adapter_best.exists() else None,
        final_val_loss=manifest["final_val_loss"],
        best_val_loss=manifest["best_val_loss"],
        best_step=manifest["best_step"],
        metrics_path=run.metrics,
        manifest=manifest,
    )


def train(
    config: TrainConfig,
    run_dir: str | Path | None = None,
    on_event: Callable[[Event], None] | None = None,
    *,
    nproc: int = 1,
    hostfile: str | Path | None = None,
) -> TrainResult:
    """Train a fresh run into `run_dir` (default PUNIE_HOME/runs/<model>-<time>)."""
    hostfile = Path(hostfile) if hostfile else None
    if hostfile is not None and not hostfile.is_file():
        raise PunieError("hostfile not found", where=str(hostfile))
    pre = preflight(config, world_size=nproc)
    # Absolute paths, so `--resume` works from any directory.
    fixed = {"data": Path(config.data).resolve()}
    if Path(config.model).expanduser().exists():
        fixed["model"] = str(Path(config.model).expanduser().resolve())
    config = config.model_copy(update=fixed)
    root = Path(run_dir) if run_dir else paths.runs_dir() / rundir.default_name(config.model)
    run = RunPaths(root)
    if root.exists() and any(root.iterdir()):
        raise PunieError(
            "run folder exists and is not empty",
            where=str(root),
            hint=f"resume it with `punie train --resume {root}` or pick another --run-dir",
        )
    root.mkdir(parents=True, exist_ok=True)
    from punie import atomic

    atomic.write_json(run.config, config.dump())
    started = rundir.now()
    manifest = {
        "name": root.name,
        "run_dir": str(root.resolve()),
        "config": config.dump(),
        "model": {
            "spec": config.model,
            "path": str(pre.model_path),
            "sha256": rundir.model_hash(pre.model_path),
        },
        "data": {
            "path": str(Path(config.data).resolve()),
            "sha256": rundir.data_hash(config.data),
            "examples": pre.examples,
        },
        "versions": rundir.versions(),
        "git_commit": rundir.git_commit(),
        "blas": blas.fast_blas().describe(),
        "nproc": nproc,
        "hostfile": str(hostfile) if hostfile else None,
        "started": started,
        "ended": None,
        "outcome": "running",
        "attempts": [{"started": started, "from_step": 0}],
    }
    rundir.write_manifest(run, manifest)
    cmd = worker_command(run, pre.model_path, None, nproc, hostfile)
    run.metrics.unlink(missing_ok=True)
    rc, events = _supervise(cmd, run, on_event)
    return _finish(run, manifest, rc, events)


def resume(
    run_spec: str | Path,
    on_event: Callable[[Event], None] | None = None,
    *,
    iters: int | None = None,
) -> TrainResult:
    """Continue a run from its last complete checkpoint (weights, optimizer, step, data
    position). `iters` may extend it; everything else stays as the run was started."""
    root = rundir.find_run(run_spec)
    run = RunPaths(root)
    config = TrainConfig.model_validate_json(run.config.read_text())
    if iters is not None and iters != config.iters:
        config = TrainConfig.model_validate({**config.dump(), "iters": iters})
    manifest = rundir.read_manifest(run)
    nproc = int(manifest.get("nproc") or 1)
    hostfile = Path(manifest["hostfile"]) if manifest.get("hostfile") else None
    pre = preflight(config, world_size=nproc)
    for what, now_hash in (
        ("data", rundir.data_hash(config.data)),
        ("model", rundir.model_hash(pre.model_path)),
    ):
        was = manifest.get(what, {}).get("sha256")
        if was and was != now_hash:
            raise PunieError(
                f"the {what} changed since the run started (sha256 {was[:12]} -> {now_hash[:12]})",
                where=str(root),
                hint="a resumed run must see the same inputs; start a new run",
            )
    ckpt = ck.latest_checkpoint(run.checkpoints)
    from_step = ck.read_state(ckpt)["step"] if ckpt else 0
    if ckpt is not None and from_step >= config.iters:
        raise PunieError(
            f"run already reached step {from_step} of {config.iters}",
            where=str(root),
            hint="pass --iters N to train further",
        )
    from punie import atomic

    atomic.write_json(run.config, config.dump())
    started = rundir.now()
    manifest.setdefault("attempts", []).append({"started": started, "from_step": from_step})
    manifest.update(config=config.dump(), outcome="running", ended=None)
    rundir.write_manifest(run, manifest)
    run.stop.unlink(missing_ok=True)
    cmd = worker_command(run, pre.model_path, ckpt, nproc, hostfile)
    if ckpt is None:
        run.metrics.unlink(missing_ok=True)
    else:
        rundir.truncate_metrics(run.metrics, from_step)
    rc, events = _supervise(cmd, run, on_event)
    return _finish(run, manifest, rc, events)
