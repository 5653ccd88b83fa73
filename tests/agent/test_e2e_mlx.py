"""End to end: `punie serve --model PATH --adapter DIR` with a real mlx_lm.server (the
tiny random model: it emits gibberish, so only the protocol's shape is checked)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

from agent_harness import ask, running_agent


def lora_adapter(model_dir: Path, out: Path) -> Path:
    """A LoRA adapter for the tiny model in mlx-lm's format (untrained: B is zero)."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.utils import linear_to_lora_layers
    from mlx_lm.utils import load

    lora = {"rank": 4, "scale": 10.0, "dropout": 0.0}
    model, _ = load(str(model_dir))
    model.freeze()
    linear_to_lora_layers(model, 2, lora)
    out.mkdir(parents=True)
    mx.save_safetensors(
        str(out / "adapters.safetensors"), dict(tree_flatten(model.trainable_parameters()))
    )
    (out / "adapter_config.json").write_text(
        json.dumps({"fine_tune_type": "lora", "num_layers": 2, "lora_parameters": lora})
    )
    return out


async def test_a_prompt_completes_through_a_managed_mlx_server_stopped_on_exit(
    tmp_path, client, tiny_model
):
    adapter = lora_adapter(tiny_model, tmp_path / "adapter")
    args = ("--adapter", str(adapter), "--max-tokens", "24")
    async with running_agent(tmp_path, client, model=str(tiny_model), extra_args=args) as (
        conn,
        sid,
        _,
    ):
        # The server starts on this first prompt (lazily), so allow its startup time.
        resp = await ask(conn, sid, "Say hello.", timeout=180)
    assert resp.stop_reason in ("end_turn", "max_tokens")
    chunks = client.of("agent_message_chunk")
    assert len(chunks) >= 2 and client.text()  # gibberish (often newlines), but streamed
    log = (tmp_path / "home" / "logs" / "agent.log").read_text()
    assert f"adapter {adapter}" in log
    port = int(re.search(r"model ready at http://127\.0\.0\.1:(\d+)/v1", log).group(1))
    with socket.socket() as s:  # the agent stopped its server when it exited
        assert s.connect_ex(("127.0.0.1", port)) != 0
