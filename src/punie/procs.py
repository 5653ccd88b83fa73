"""Child processes and local ports: one place for what the server, the trainer and
the tests each need from them."""

from __future__ import annotations

import shutil
import signal
import socket
import sys
from pathlib import Path

from punie.errors import PunieError

LINUX = sys.platform.startswith("linux")


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGKILL this process when its parent thread exits, so a killed
    Punie leaves no server or trainer running on. Use as `preexec_fn` (or call it
    first thing in a child); a no-op elsewhere."""
    if not LINUX:
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def preexec() -> object:
    """`preexec_fn=` for subprocess.Popen: `die_with_parent` where it exists."""
    return die_with_parent if LINUX else None


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # SO_REUSEADDR as servers use it: a port in TIME_WAIT is free to them, a port
        # another process listens on is not.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    # Something may listen on the wildcard address only on some systems; a connect
    # tells us for sure whether another process already answers there.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port_block(n: int) -> int:
    """A base port with `n` free ports from it on (mlx's ring backend takes a block)."""
    for _ in range(50):
        base = free_port()
        if base + n < 65535 and all(port_is_free(p) for p in range(base, base + n)):
            return base
    raise PunieError("no block of free local ports", hint="try again")


def console_script(name: str) -> str:
    """The path of an installed console script (e.g. `mlx.launch`), looked up beside
    this interpreter first: a venv's scripts need not be on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise PunieError(
            f"{name} not found", hint=f"install the package that provides {name} in this venv"
        )
    return found
