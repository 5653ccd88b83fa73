"""punie.procs: children die with their parent; free ports are free."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from punie import procs

PARENT = """
import subprocess, sys
from punie import procs
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         preexec_fn=procs.preexec())
print(child.pid, flush=True)
import time; time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): read its state.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not procs.LINUX, reason="PR_SET_PDEATHSIG is Linux-only")
def test_child_dies_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while _alive(child) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_a_listening_port_is_not_free():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert not procs.port_is_free(s.getsockname()[1])


def test_free_port_block_is_free_from_its_base_on():
    base = procs.free_port_block(3)
    assert all(procs.port_is_free(p) for p in range(base, base + 3))


def test_console_script_finds_mlx_launch_beside_the_interpreter():
    assert procs.console_script("mlx.launch").endswith("mlx.launch")
