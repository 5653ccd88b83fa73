from __future__ import annotations

import pytest
from agent_harness import RecordingClient


@pytest.fixture
def client() -> RecordingClient:
    return RecordingClient()
