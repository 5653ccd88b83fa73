"""A run killed with SIGKILL resumes from its last checkpoint and its loss curve
continues the uninterrupted run's exactly; Ctrl-C saves a checkpoint and exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from punie.train.checkpoint import latest_checkpoint, read_state
from punie.train.rundir import read_events


def _punie(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "punie", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _wait_for(pred, timeout: float = 120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _start_long_run(tiny_model, chat_data, run_dir: Path) -> subprocess.Popen:
    # Same settings as the full_run fixture except a huge iters, so the kill lands mid-run.
    return _punie(
        "train", "--model", str(tiny_model), "--data", str(chat_data), "--run-dir", str(run_dir),
        "--fine-tune-type", "full", "--lr", "1e-3", "--iters", "100000", "--batch-size", "4",
        "--steps-per-report", "1", "--steps-per-eval", "20", "--steps-per-save", "5",
        "--val-batches", "2", "--json",
        start_new_session=True,
    )  # fmt: skip


def _train_losses(path: Path) -> list[tuple[int, float]]:
    return [(e["step"], e["train_loss"]) for e in read_events(path) if e["event"] == "train"]


def test_sigkilled_run_resumes_and_its_loss_continues(tiny_model, chat_data, full_run, tmp_path):
    run_dir = tmp_path / "run"
    proc = _start_long_run(tiny_model, chat_data, run_dir)
    metrics = run_dir / "metrics.jsonl"
    start = _wait_for(lambda: [e for e in read_events(metrics) if e["event"] == "start"])
    _wait_for(
        lambda: any(e["event"] == "checkpoint" and e["step"] >= 10 for e in read_events(metrics))
    )
    os.killpg(proc.pid, signal.SIGKILL)  # the supervisor; the worker dies with it
    proc.wait()
    _wait_for(lambda: not _alive(start[0]["pid"]), timeout=20)

    ckpt_step = read_state(latest_checkpoint(run_dir / "checkpoints"))["step"]
    assert 10 <= ckpt_step <= 30
    target = ckpt_step + 6
    r = _punie("train", "--resume", str(run_dir), "--iters", str(target), "--json")
    out, err = r.communicate(timeout=180)
    assert r.returncode == 0, err
    result = json.loads(out.splitlines()[-1])
    assert (result["outcome"], result["steps"]) == ("completed", target)

    resumed = _train_losses(metrics)
    assert [s for s, _ in resumed] == list(range(1, target + 1))  # no gap, no repeat
    reference = dict(_train_losses(full_run.metrics_path))
    for step, loss in resumed:
        assert abs(loss - reference[step]) < 1e-4, (step, loss, reference[step])
    attempts = json.loads((run_dir / "manifest.json").read_text())["attempts"]
    assert [a["from_step"] for a in attempts] == [0, ckpt_step]


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tiny_model, chat_data, tmp_path):
    run_dir = tmp_path / "run"
    proc = _start_long_run(tiny_model, chat_data, run_dir)
    metrics = run_dir / "metrics.jsonl"
    _wait_for(lambda: any(e["event"] == "train" and e["step"] >= 3 for e in read_events(metrics)))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    end = [e for e in read_events(metrics) if e["event"] == "end"][-1]
    assert end["outcome"] == "interrupted"
    assert read_state(latest_checkpoint(run_dir / "checkpoints"))["step"] == end["step"]
    assert "resume with: punie train --resume" in err
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["outcome"] == "interrupted"


def test_resume_refuses_changed_data(tiny_model, chat_data, tmp_path):
    import shutil

    from conftest import tiny_config
    from punie.errors import PunieError
    from punie.train.runner import resume, train

    data = tmp_path / "data"
    shutil.copytree(chat_data, data)
    r = train(tiny_config(tiny_model, data, iters=1), tmp_path / "run")
    with open(data / "train.jsonl", "a") as f:
        f.write((chat_data / "valid.jsonl").read_text().splitlines()[0] + "\n")
    with pytest.raises(PunieError, match="the data changed since the run started"):
        resume(r.run_dir, iters=2)
