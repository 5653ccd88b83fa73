"""punie.model: the model store, the GGUF converter, the tiny test model and the chat template.

Other stages call `resolve_model(spec) -> Path`.
"""

from punie.model.store import DEFAULT_MODEL, resolve_model
from punie.model.template import CHAT_TEMPLATE
from punie.model.tiny import build_tiny_model

__all__ = ["CHAT_TEMPLATE", "DEFAULT_MODEL", "build_tiny_model", "resolve_model"]
