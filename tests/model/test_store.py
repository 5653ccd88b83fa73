"""resolve_model: embedded names, folders, the local Hugging Face cache, and clear refusals."""

from __future__ import annotations

import shutil

import pytest

from punie.errors import PunieError
from punie.model import store
from punie.model.store import list_models, resolve_model


def test_a_model_folder_resolves_to_itself(tiny_model):
    assert resolve_model(str(tiny_model)) == tiny_model.resolve()


@pytest.mark.slow
def test_embedded_model_is_converted_once(smollm2):
    stamp = (smollm2 / "model.safetensors").stat().st_mtime_ns
    assert resolve_model("smollm2-135m") == smollm2
    assert (smollm2 / "model.safetensors").stat().st_mtime_ns == stamp
    assert any(e.name == "smollm2-135m" and e.status == "converted" for e in list_models())


def _fake_hub_entry(hub, repo_id, model_dir, commit="0123abcd"):
    """Lay a real model folder out the way huggingface_hub caches one."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    shutil.copytree(model_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return repo / "snapshots" / commit


def test_hf_cache_repo_id_resolves_offline(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    snap = _fake_hub_entry(tmp_path / "hub", "acme/tiny", tiny_model)
    assert resolve_model("acme/tiny") == snap
    assert any(e.name == "acme/tiny" and e.source == "hf-cache" for e in list_models())


def test_hf_home_is_honoured(tiny_model, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    snap = _fake_hub_entry(tmp_path / "hf" / "hub", "acme/tiny", tiny_model)
    assert resolve_model("acme/tiny") == snap


def test_repo_not_in_cache_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(PunieError, match="not in the local Hugging Face cache"):
        resolve_model("acme/missing")


def test_unknown_name_lists_what_exists():
    with pytest.raises(PunieError, match="no such model.*smollm2-135m"):
        resolve_model("no-such-model")


def test_gguf_file_points_at_convert(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(PunieError, match="punie model convert"):
        resolve_model(str(gguf))


def test_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(PunieError, match="not a model folder"):
        resolve_model(str(tmp_path))


def test_missing_embedded_wheel_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))
    missing = store.EmbeddedModel(
        name="ghost",
        distribution="punie-no-such-wheel",
        package="punie_no_such_wheel",
        filename="ghost.gguf",
        description="",
        license="",
    )
    monkeypatch.setitem(store.EMBEDDED, "ghost", missing)
    with pytest.raises(PunieError, match="punie-no-such-wheel is not installed"):
        resolve_model("ghost")
    assert any(e.name == "ghost" and "wheel missing" in e.status for e in list_models())


_RESOLVE = "from punie.model import resolve_model; print(resolve_model('smollm2-135m'))"


@pytest.mark.slow
def test_concurrent_first_use_converts_once(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PUNIE_HOME": str(tmp_path / "home")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RESOLVE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    models = tmp_path / "home" / "models"
    assert {out.strip() for out, _ in results} == {str(models / "smollm2-135m")}
    # The lock made the second process wait and reuse the first one's conversion.
    assert sum("converting" in err for _, err in results) == 1
    assert sorted(p.name for p in models.iterdir()) == [".smollm2-135m.lock", "smollm2-135m"]
