"""`punie fuse` merges a run's adapter into a standalone model with the same outputs."""

from __future__ import annotations

from typer.testing import CliRunner

from punie.cli import app


def test_fused_model_matches_base_plus_adapter(tiny_model, lora16_run, tmp_path):
    import mlx.core as mx
    from mlx_lm import load

    out = tmp_path / "fused"
    r = CliRunner().invoke(app, ["fuse", str(lora16_run.run_dir), "--out", str(out)])
    assert r.exit_code == 0, r.output
    fused, tok = load(str(out))
    tuned, _ = load(str(tiny_model), adapter_path=str(lora16_run.best_adapter_path))
    ids = mx.array([tok.encode("List the directory src/punie")])
    assert mx.allclose(fused(ids), tuned(ids), atol=1e-4).item()
    weights = {k for f in out.glob("*.safetensors") for k in mx.load(str(f))}
    assert weights and not any("lora" in k for k in weights)


def test_fuse_refuses_an_existing_output(lora16_run, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("keep me")
    r = CliRunner().invoke(app, ["fuse", str(lora16_run.run_dir), "--out", str(tmp_path / "taken")])
    assert r.exit_code == 2
    assert (tmp_path / "taken" / "x").read_text() == "keep me"
