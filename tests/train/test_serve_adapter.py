"""A trained adapter loads in a real `mlx_lm.server --adapter-path` and answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

from punie.blas import child_env
from punie.procs import free_port


def test_adapter_serves_in_mlx_lm_server(tiny_model, lora16_run, tmp_path):
    port = free_port()
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlx_lm", "server", "--model", str(tiny_model),
         "--adapter-path", str(lora16_run.adapter_path), "--port", str(port)],
        env=child_env(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    body = json.dumps(
        {
            "model": "default_model",  # naming the id would reload the base without adapter
            "messages": [{"role": "user", "content": "Read the file README.md"}],
            "max_tokens": 4,
        }
    ).encode()
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/chat/completions",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    reply = json.loads(resp.read())
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.3)
        assert reply["choices"][0]["message"]["role"] == "assistant"
        assert reply["usage"]["completion_tokens"] >= 1
    finally:
        proc.kill()
        proc.wait()
        log.close()
