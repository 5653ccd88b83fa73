"""The one JSON Schema check of tool arguments: dataset validation, the scorer and the
agent all ask this module, so they cannot disagree about what a valid call is.

It is the `jsonschema` package (Draft 2020-12 unless a schema names its `$schema`)
with two Punie rules on top:

- **`integer` means a JSON integer literal**: `3` is one, `3.0` and `true` are not.
  The spec counts 3.0 as an integer; Punie does not, because a model that writes
  `"line": 3.0` has not learned the tool's contract, and the Python tool receiving
  it gets a float. `number` accepts ints and floats, never booleans. This is a
  custom type checker, the hook jsonschema provides for exactly this.
- **strict objects**: an object schema that lists `properties` and says nothing of
  `additionalProperties` rejects other keys, as if it said `false`. A call carrying
  an argument the tool does not declare is one the agent refuses, so training data
  and the scorer must refuse it too.

Validation runs once per tool call on the dataset hot path (50k+ rows/s), where a
jsonschema call (~14 us) would dominate. So each compiled schema remembers the
*shapes* it has accepted when its verdict depends on nothing else: a schema made
of `type`, `properties`, `required`, a boolean `additionalProperties` and
annotations, whose properties are plain `type`s, judges a value only by its key
set and the Python type of each value (with the integer rule above, `type()`
decides every JSON type). The first value of a shape is judged by jsonschema;
later values of an accepted shape are a dict lookup. Rejections are never
remembered, so every error message is jsonschema's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

__all__ = ["Checker", "SchemaInvalid", "argument_problems", "checker_for", "is_type", "problems"]

_ANNOTATIONS = frozenset(
    ("description", "title", "default", "examples", "$comment", "deprecated", "readOnly")
)
_SHAPE_KEYS = _ANNOTATIONS | {"type", "properties", "required", "additionalProperties"}
_MAX_SHAPES = 4096  # per schema; past it, values are judged by jsonschema every time


class SchemaInvalid(ValueError):
    """The schema itself is not valid JSON Schema (e.g. `"type": "str"`)."""


def _is_integer(_checker: Any, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@lru_cache(maxsize=8)
def _punie_validator(base: type) -> type:
    """`base` (a jsonschema Validator class) with Punie's integer rule."""
    checker = base.TYPE_CHECKER.redefine("integer", _is_integer)
    return jsonschema.validators.extend(base, type_checker=checker)


def _strict(schema: Any) -> Any:
    """A copy in which every object schema with `properties` and no word on other
    keys forbids them."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    props = out.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: _strict(v) for k, v in props.items()}
        if "additionalProperties" not in out and "patternProperties" not in out:
            out["additionalProperties"] = False
    for key in ("items", "prefixItems", "additionalProperties", "not", "anyOf", "oneOf", "allOf"):
        if key in out:
            out[key] = _strict(out[key])
    for key in ("$defs", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {k: _strict(v) for k, v in out[key].items()}
    return out


def _leaf(schema: Any) -> bool:
    return isinstance(schema, dict) and set(schema) <= _ANNOTATIONS | {"type"}


def _shape_decides(schema: dict[str, Any]) -> bool:
    """True when the verdict on a value depends only on its shape (see the module doc)."""
    if _leaf(schema):
        return True
    if set(schema) - _SHAPE_KEYS or schema.get("additionalProperties", True) not in (True, False):
        return False
    props = schema.get("properties", {})
    return isinstance(props, dict) and all(_leaf(p) for p in props.values())


def _shape(value: Any) -> tuple:
    if type(value) is dict:
        return tuple([(k, type(v)) for k, v in value.items()])
    return (type(value),)  # never equal to a dict's shape: its items are pairs


def _pointer(path: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


@dataclass
class _Compiled:
    validator: Any
    memo: set[tuple] | None  # accepted shapes; None when shape does not decide

    def problems(self, value: Any, where: str) -> list[str]:
        memo = self.memo
        if memo is not None:
            shape = _shape(value)
            if shape in memo:
                return []
        try:
            out = [
                f"{where}{_pointer(e.absolute_path)}: {e.message}"
                for e in self.validator.iter_errors(value)
            ]
        except Unresolvable as exc:
            return [f"{where}: the schema's reference {exc.ref!r} cannot be resolved"]
        if not out and memo is not None and len(memo) < _MAX_SHAPES:
            memo.add(shape)
        return out


@lru_cache(maxsize=256)
def _compiled(text: str, strict: bool) -> _Compiled:
    schema = json.loads(text)
    if strict:
        schema = _strict(schema)
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        base.check_schema(schema)
    except SchemaError as exc:
        where = _pointer(exc.absolute_path) or "the schema"
        raise SchemaInvalid(f"{where.lstrip('.')}: {exc.message}") from None
    validator = _punie_validator(base)(schema)
    memo = set() if isinstance(schema, dict) and _shape_decides(schema) else None
    return _Compiled(validator, memo)


@dataclass(frozen=True)
class Checker:
    """value -> every way it breaks the schema, each naming `where` and the JSON path."""

    compiled: _Compiled = field(repr=False)
    where: str = "arguments"

    def __call__(self, value: Any) -> list[str]:
        memo = self.compiled.memo  # the hot path, inlined: a known-good shape
        if memo is not None and _shape(value) in memo:
            return []
        return self.compiled.problems(value, self.where)


def checker_for(schema: Any, *, strict: bool = True, where: str = "arguments") -> Checker:
    """A checker for `schema`, compiled once per distinct schema. Raises SchemaInvalid."""
    if schema is None:
        schema = {}
    elif not isinstance(schema, dict | bool):
        raise SchemaInvalid(f"a JSON schema is an object, got {type(schema).__name__}")
    try:
        text = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise SchemaInvalid(f"the schema is not JSON: {exc}") from None
    return Checker(_compiled(text, strict), where)


def problems(
    value: Any, schema: Any, *, where: str = "arguments", strict: bool = True
) -> list[str]:
    """Every way `value` breaks `schema` (empty: valid). Raises SchemaInvalid."""
    return checker_for(schema, strict=strict, where=where)(value)


def argument_problems(tool: dict[str, Any], arguments: Any) -> list[str]:
    """Why a call's `arguments` do not fit `tool` (an OpenAI tool spec, or its
    `function` part); empty when they do. Each problem starts with the tool's name.
    Raises SchemaInvalid when the tool's own `parameters` are not a JSON schema."""
    fn = tool.get("function", tool)
    return problems(arguments, fn.get("parameters") or {}, where=f"{fn.get('name', 'tool')}")


def is_type(value: Any, json_type: str) -> bool:
    """Whether `value` is of JSON type `json_type` by Punie's rules (3.0 is no integer)."""
    return _punie_validator(jsonschema.Draft202012Validator).TYPE_CHECKER.is_type(value, json_type)
