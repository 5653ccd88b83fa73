"""Resuming an --out folder: every input that can change a result must match."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eval_fakes import RecordingServer, serving
from test_task_fakes import scripted, suite_of

from punie.errors import PunieError
from punie.evaluate.runner import EvalSettings, run_suite
from punie.evaluate.suite import parse_suite
from punie.evaluate.task_runner import run_task_suite

SUITE = """
name: two
max_tokens: 8
cases:
  - id: chat
    category: no_tool
    messages: [{role: user, content: "Hello"}]
    tools: agent
    no_call: true
  - id: py
    category: python
    messages: [{role: user, content: "Explain a decorator"}]
    keywords: [decorator]
"""


@pytest.fixture
def suite():
    return parse_suite(SUITE, "two.yaml")


def _folder(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def _rewrite(path: Path, data: bytes) -> None:
    """New bytes of the same size, as a retrain writes them (mtime moves on)."""
    st = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


async def _run(suite, out: Path, settings=EvalSettings(), **kw):
    async with serving(RecordingServer(delay=0), **kw.pop("endpoint", {})) as ep:
        return await run_suite(ep, suite, out, settings=settings, progress=False, **kw)


async def test_other_generation_settings_are_refused_not_relabelled(tmp_path, suite):
    # Found in review: answers made with max_tokens 2 / temperature 0 were reported
    # as max_tokens 40 / temperature 0.7 after a rerun into the same folder.
    await _run(suite, tmp_path, EvalSettings(max_tokens=2, temperature=0.0))
    with pytest.raises(PunieError) as err:
        await _run(suite, tmp_path, EvalSettings(max_tokens=40, temperature=0.7))
    msg = err.value.format_message()
    assert "\n" not in msg
    assert "settings.temperature 0.0 -> 0.7" in msg and "settings.max_tokens 2 -> 40" in msg
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["settings"]["max_tokens"] == 2 and saved["settings"]["temperature"] == 0.0


async def test_a_retrained_adapter_in_the_same_folder_is_refused(tmp_path, suite):
    adapter = _folder(
        tmp_path / "adapter",
        {"adapter_config.json": b'{"rank": 8}', "adapters.safetensors": b"A" * 64},
    )
    first = await _run(suite, tmp_path / "out", adapter=adapter)
    assert first.adapter_hash
    again = await _run(suite, tmp_path / "out", adapter=adapter)  # untouched: resumes
    assert again.adapter_hash == first.adapter_hash
    _rewrite(adapter / "adapters.safetensors", b"B" * 64)
    with pytest.raises(PunieError, match=f"adapter_hash '{first.adapter_hash}' -> '"):
        await _run(suite, tmp_path / "out", adapter=adapter)


async def test_changed_model_weights_are_refused(tmp_path, suite):
    model = _folder(tmp_path / "model", {"config.json": b"{}", "model.safetensors": b"W" * 64})
    first = await _run(suite, tmp_path / "out", endpoint={"model_path": model})
    assert first.model_hash
    _rewrite(model / "model.safetensors", b"X" * 64)
    with pytest.raises(PunieError, match=f"model_hash '{first.model_hash}' -> '"):
        await _run(suite, tmp_path / "out", endpoint={"model_path": model})


@pytest.mark.parametrize("key", ["punie_source", "mlx", "mlx-lm", "python"])
async def test_other_punie_source_or_versions_are_refused(tmp_path, suite, key):
    first = await _run(suite, tmp_path)
    assert key in first.software
    meta = json.loads((tmp_path / "meta.json").read_text())
    meta["software"][key] = "older"
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(PunieError, match=f"software.{key} 'older' -> "):
        await _run(suite, tmp_path)


async def test_a_task_suite_resume_goes_through_the_same_check(tmp_path):
    tasks = suite_of({"id": "b", "category": "chat", "prompt": "hi", "checks": {"no_call": True}})
    adapter = _folder(
        tmp_path / "adapter",
        {"adapter_config.json": b"{}", "adapters.safetensors": b"A" * 64},
    )
    model = scripted({"hi": ["Hello!"]})
    await run_task_suite(model, tasks, tmp_path / "out", adapter=adapter, progress=False)
    _rewrite(adapter / "adapters.safetensors", b"B" * 64)
    with pytest.raises(PunieError, match="adapter_hash"):
        await run_task_suite(model, tasks, tmp_path / "out", adapter=adapter, progress=False)
