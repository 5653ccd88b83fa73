"""Fixtures of the model tests; the GGUF writing helpers live in gguf_synth.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf_synth import SynthGGUF, write_synth_gguf


@pytest.fixture
def synth_gguf(tmp_path: Path):
    """A factory: `synth_gguf(arch="llama", qtype="Q8_0")` -> SynthGGUF."""

    def make(arch: str = "llama", qtype: str = "Q8_0", **kw) -> SynthGGUF:
        return write_synth_gguf(tmp_path / f"{arch}-{qtype}.gguf", arch, qtype, **kw)

    return make
