"""Shared fixtures: a fresh PUNIE_HOME per test session and the tiny model built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def punie_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep tests out of the user's real cache; the embedded model is converted once per
    session into this home (see `smollm2`)."""
    home = tmp_path_factory.mktemp("punie_home")
    old = os.environ.get("PUNIE_HOME")
    os.environ["PUNIE_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("PUNIE_HOME", None)
    else:
        os.environ["PUNIE_HOME"] = old


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from punie.model.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="session")
def smollm2(punie_home: Path) -> Path:
    """The embedded SmolLM2-135M, converted once per test session into the test PUNIE_HOME
    (~3 s). Heavy work on it belongs in a child process started with `blas.child_env()`."""
    from punie.model import resolve_model

    return resolve_model("smollm2-135m")
