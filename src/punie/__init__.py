"""Punie: a local-first coding agent that fine-tunes its own local model."""

__version__ = "0.1.0"
