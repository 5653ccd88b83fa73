"""Write a real LoRA adapter for the tiny model: a few high-LR steps on one chat.

A LoRA on the random tiny model cannot learn the answer, but these steps move its
output on this prompt away from the base model's, which is what the tests check.

Used by the serve tests to prove the managed server really applies the adapter, and
that `local:URL` on an mlx_lm.server keeps it.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]
TARGET = "The capital of France is Paris."


def chat(base_url: str, model: str, messages, max_tokens: int = 12) -> str:
    """The content of a greedy chat completion for `model`."""
    body = json.dumps(
        {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0}
    ).encode()
    req = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())["choices"][0]["message"]["content"] or ""


def train_tiny_adapter(model_dir: Path, out: Path, steps: int = 20) -> Path:
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim
    from mlx.utils import tree_flatten
    from mlx_lm import load
    from mlx_lm.tuner.utils import linear_to_lora_layers

    mx.random.seed(0)
    model, tok = load(str(model_dir))
    model.freeze()
    lora = {"rank": 8, "scale": 20.0, "dropout": 0.0}
    linear_to_lora_layers(model, -1, lora)
    prompt = tok.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=True)
    answer = tok.encode(TARGET + "<|im_end|>", add_special_tokens=False)
    ids = mx.array([prompt + answer])
    n_prompt = len(prompt)

    def loss_fn(m):
        logits = m(ids[:, :-1])[:, n_prompt - 1 :]
        return nn.losses.cross_entropy(logits, ids[:, n_prompt:]).mean()

    opt = optim.Adam(learning_rate=1e-2)
    step = nn.value_and_grad(model, loss_fn)
    for _ in range(steps):
        loss, grads = step(model)
        opt.update(model, grads)
        mx.eval(model.parameters(), opt.state, loss)
    out.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(
        str(out / "adapters.safetensors"), dict(tree_flatten(model.trainable_parameters()))
    )
    config = {"fine_tune_type": "lora", "num_layers": -1, "lora_parameters": lora}
    (out / "adapter_config.json").write_text(json.dumps(config))
    return out
