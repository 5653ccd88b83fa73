"""Fixtures of the model tests; the GGUF writing helpers live in gguf_synth.py.

gguf_synth is loaded by file path and handed out as the `gguf_tools` fixture, so it
works whatever pytest's import mode or the layout of `tests/` packages.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "punie_tests_gguf_synth", Path(__file__).with_name("gguf_synth.py")
)
gguf_synth = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = gguf_synth  # dataclasses look their module up there
_spec.loader.exec_module(gguf_synth)


@pytest.fixture(scope="session")
def gguf_tools():
    """The helpers: llama_cpp_permute, reference_dequant, HEADS, KV_HEADS, ..."""
    return gguf_synth


@pytest.fixture
def synth_gguf(tmp_path: Path):
    """A factory: `synth_gguf(arch="llama", qtype="Q8_0")` -> gguf_synth.SynthGGUF."""

    def make(arch: str = "llama", qtype: str = "Q8_0", **kw):
        return gguf_synth.write_synth_gguf(tmp_path / f"{arch}-{qtype}.gguf", arch, qtype, **kw)

    return make
