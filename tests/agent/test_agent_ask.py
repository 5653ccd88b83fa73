"""`punie ask`: the agent headless in a terminal, with local tools."""

from __future__ import annotations

import os
import subprocess
import sys

from agent_harness import FAKE_MODEL

WRITE = 'TOOL write_file {"path": "out.txt", "content": "hi"}'


def punie_ask(tmp_path, *args: str, stdin: str = ""):
    env = {**os.environ, "PUNIE_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "punie",
            "ask",
            *args,
            "--model",
            f"test-fake:{FAKE_MODEL}",
            "--cwd",
            str(tmp_path),
        ],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_ask_asks_before_a_write_and_a_no_leaves_the_file_alone(tmp_path):
    r = punie_ask(tmp_path, WRITE, stdin="n\n")
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "out.txt").exists()
    assert "Allow Write out.txt?" in r.stderr
    assert "✗ Write out.txt" in r.stderr
    assert "rejected" in r.stdout  # what the model was told, in its answer


def test_ask_yes_approves_and_shows_the_tool_call_and_answer(tmp_path):
    r = punie_ask(tmp_path, WRITE + '\nTOOL read_file {"path": "out.txt"}', "--yes")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.txt").read_text() == "hi"
    assert "✓ Write out.txt" in r.stderr and "✓ Read out.txt" in r.stderr
    assert r.stdout.startswith("results: ") and '"hi"' in r.stdout
    assert "Allow" not in r.stderr


def test_ask_without_anyone_to_answer_rejects(tmp_path):
    r = punie_ask(tmp_path, WRITE)  # stdin closed: no silent yes
    assert r.returncode == 0
    assert not (tmp_path / "out.txt").exists()


def test_ask_exits_1_when_the_repeat_guard_ends_the_turn(tmp_path):
    r = punie_ask(tmp_path, 'REPEAT list_dir {"path": "."}')
    assert r.returncode == 1, r.stderr
    assert "no answer" in r.stderr and "repeated the same tool call" in r.stderr


def test_ask_exits_1_when_the_call_budget_runs_out(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    # Alternating calls dodge the repeat guard; 30 of them outrun the 25-call budget.
    script = "\n".join(f'TOOL read_file {{"path": "{"ab"[i % 2]}.txt"}}' for i in range(30))
    r = punie_ask(tmp_path, script)
    assert r.returncode == 1, r.stderr
    assert "model-call budget" in r.stderr


def test_ask_exits_1_on_an_unusable_reply(tmp_path):
    r = punie_ask(tmp_path, "BADJSON")
    assert r.returncode == 1, r.stderr
    assert "could not be used" in r.stderr


def test_ask_exits_0_on_an_answer(tmp_path):
    r = punie_ask(tmp_path, "hello there")
    assert r.returncode == 0, r.stderr
    assert "hello" in r.stdout and "no answer" not in r.stderr


def test_ask_exits_1_when_the_prompt_cannot_fit_the_context_window(tmp_path):
    r = punie_ask(tmp_path, "hello there", "--context", "200")  # less than the tools take
    assert r.returncode == 1, r.stderr
    assert "no answer: the request would not fit the model's context window" in r.stderr
    assert "hello" not in r.stdout.split("[punie:")[0]  # nothing came from the model


def test_ask_refuses_a_context_window_below_one_token(tmp_path):
    r = punie_ask(tmp_path, "hello there", "--context", "0")
    assert r.returncode == 2
    assert "--context" in r.stderr
