"""`punie model ...` and `punie doctor` through their typer commands (and once via the real entry point)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from punie.cli import app as root_app


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    # The real root app: it is what turns a PunieError into one line and exit 2.
    return root_app


def _run(app, *args):
    return CliRunner().invoke(app, list(map(str, args)))


def _assert_one_line_error(result, needle):
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert needle in err
    assert "Traceback" not in result.output


def test_info_json_on_the_tiny_model(app, tiny_model):
    import mlx.core as mx

    result = _run(app, "model", "info", tiny_model, "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    weights = mx.load(str(tiny_model / "model.safetensors"))
    assert info["parameters"] == sum(v.size for v in weights.values())
    assert info["architecture"] == "qwen2"
    assert info["dtype"] == "float32"
    assert info["chat_template"] is True
    assert info["tool_call_format"] == "json_tools"
    assert info["kind"] == "tiny"
    assert {"name": "config.json", "bytes": (tiny_model / "config.json").stat().st_size} in info[
        "files"
    ]
    assert info["lora_memory_bytes"] > 4 * info["parameters"]


@pytest.mark.slow
def test_info_on_the_embedded_model(app, smollm2):
    result = _run(app, "model", "info", "smollm2-135m")
    assert result.exit_code == 0, result.output
    for text in ("llama", "134.5M", "float32", "Q4_1", "json_tools"):
        assert text in result.stdout


def test_list_shows_the_embedded_model(app):
    result = _run(app, "model", "list", "--json")
    assert result.exit_code == 0, result.output
    assert "smollm2-135m" in [e["name"] for e in json.loads(result.stdout)]


def test_tiny_writes_a_model_that_info_reads(app, tmp_path):
    assert _run(app, "model", "tiny", tmp_path / "t").exit_code == 0
    result = _run(app, "model", "info", tmp_path / "t", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["architecture"] == "qwen2"


def test_convert_writes_a_model_that_info_reads(app, synth_gguf, tmp_path):
    synth = synth_gguf("llama", "Q4_0")
    result = _run(app, "model", "convert", synth.path, tmp_path / "conv")
    assert result.exit_code == 0, result.output
    info = json.loads(_run(app, "model", "info", tmp_path / "conv", "--json").stdout)
    assert info["architecture"] == "llama"
    assert info["quantization"] == "none (dequantized from GGUF Q4_0)"


def test_info_on_a_missing_path(app, tmp_path):
    _assert_one_line_error(_run(app, "model", "info", tmp_path / "nope"), "no such model")


def test_convert_a_missing_file(app, tmp_path):
    result = _run(app, "model", "convert", tmp_path / "nope.gguf", tmp_path / "out")
    _assert_one_line_error(result, "no such file")


def test_convert_a_non_gguf_file(app, tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_text("hello")
    result = _run(app, "model", "convert", bad, tmp_path / "out")
    _assert_one_line_error(result, "not a GGUF file")
    assert not (tmp_path / "out").exists()


def test_convert_an_unsupported_architecture(app, synth_gguf, tmp_path):
    synth = synth_gguf("llama", "F32", arch_name="gemma")
    result = _run(app, "model", "convert", synth.path, tmp_path / "out")
    _assert_one_line_error(result, "architecture 'gemma' is not supported")


def test_doctor_reports_blas_versions_and_model(app):
    from punie import blas

    result = _run(app, "doctor", "--json")
    assert result.exit_code in (0, 1), result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    for name in ("mlx device", "mlx-lm", "pydantic-ai", "acp", "cache dir (PUNIE_HOME)"):
        assert name in checks
    children = checks["BLAS (training/serving children)"]
    choice = blas.fast_blas()
    if choice.name in ("mkl", "openblas"):
        # A real child was asked which library it loaded.
        assert children["value"].endswith(f"loaded: {choice.name}") and children["ok"]
    assert "converts on first use" in checks["model smollm2-135m"]["value"] or (
        "converted" in checks["model smollm2-135m"]["value"]
    )


def test_real_entry_point_error_is_one_line_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "punie", "model", "info", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("error: ")
