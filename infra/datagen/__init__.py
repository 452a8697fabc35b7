"""Realistic, deterministic test data: the publications of N Tianjin market entities."""

from infra.datagen.generator import generate, write_jsonl

__all__ = ["generate", "write_jsonl"]
