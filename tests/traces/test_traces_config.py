"""PUNIE_HOME/config.toml's [traces] table."""

from __future__ import annotations

import pytest

from punie.errors import PunieError
from punie.traces.config import DEFAULT_MAX_MB, load_config


def test_no_config_file_means_recording_on_with_the_default_cap(tmp_path):
    cfg = load_config(tmp_path / "config.toml")
    assert cfg.record is True and cfg.max_mb == DEFAULT_MAX_MB


def test_record_false_turns_recording_off(tmp_path):
    (tmp_path / "config.toml").write_text("[traces]\nrecord = false\nmax_mb = 50\n")
    cfg = load_config(tmp_path / "config.toml")
    assert (cfg.record, cfg.max_bytes) == (False, 50 * 1024 * 1024)


@pytest.mark.parametrize(
    "text, says",
    [
        ("[trace]\nrecord = false\n", "unknown key 'trace'"),
        ("[traces]\nrecrod = false\n", "traces.recrod"),
        ("[traces]\nmax_mb = 0\n", "traces.max_mb"),
        ("[traces\n", "cannot read"),
    ],
)
def test_a_config_punie_cannot_use_is_an_error_naming_the_file(tmp_path, text, says):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(PunieError) as err:
        load_config(path)
    assert str(path) in err.value.format_message() and says in err.value.format_message()
