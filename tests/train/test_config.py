"""TrainConfig: typed, frozen, from TOML/YAML with overrides, errors as PunieError."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie.errors import PunieError
from punie.train.config import TrainConfig, make_config, parse_set


def test_alpha_becomes_scale_over_rank():
    cfg = make_config(None, {"model": "m", "data": "d", "rank": 16, "alpha": 32})
    assert cfg.scale == 2.0
    assert cfg.adapter_config()["lora_parameters"]["scale"] == 2.0


def test_alpha_and_scale_together_is_an_error(tmp_path: Path):
    f = tmp_path / "c.toml"
    f.write_text('model = "m"\ndata = "d"\nalpha = 16\nscale = 3.0\n')
    with pytest.raises(PunieError, match="alpha or scale"):
        make_config(f)


def test_toml_then_flags_override(tmp_path: Path):
    f = tmp_path / "c.toml"
    f.write_text('[train]\nmodel = "m"\ndata = "d"\nrank = 4\nlearning_rate = 1e-4\n')
    cfg = make_config(f, {"rank": 12, "learning_rate": None, **parse_set(["seed=7"])})
    assert (cfg.rank, cfg.learning_rate, cfg.seed) == (12, 1e-4, 7)


def test_yaml_with_mlx_lm_nested_lora_parameters(tmp_path: Path):
    f = tmp_path / "c.yaml"
    f.write_text(
        "model: m\ndata: d\nlora_parameters:\n  rank: 4\n  scale: 10.0\n"
        "  keys: [self_attn.q_proj]\n"
    )
    cfg = make_config(f)
    assert cfg.lora_parameters == {
        "rank": 4,
        "scale": 10.0,
        "dropout": 0.0,
        "keys": ["self_attn.q_proj"],
    }


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"rnak": 8}, "rnak: unknown setting"),
        ({"rank": 0}, "rank: Input should be greater than 0"),
        ({"num_layers": 0}, "num_layers must be -1"),
        ({"fine_tune_type": "qlora"}, "fine_tune_type"),
    ],
)
def test_bad_settings_are_punie_errors(setting, message):
    with pytest.raises(PunieError, match=message):
        make_config(None, {"model": "m", "data": "d", **setting})


def test_config_is_frozen():
    cfg = TrainConfig(model="m", data=Path("d"))
    with pytest.raises(ValueError):
        cfg.rank = 3  # type: ignore[misc]
