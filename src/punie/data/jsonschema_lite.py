"""A small checker for the JSON-schema subset that tool parameters use.

Supports `type` (one name or a list), `properties`, `required`, `enum`, `items`
and `additionalProperties`. With `strict=True` a key the schema's `properties` do not
name is an error even without `additionalProperties: false`: a tool call carrying an
argument the tool does not declare teaches the model calls the agent rejects. Keywords outside the subset are ignored rather
than guessed at. Written here because it runs once per tool call in the hot
validation path, where a general validator would dominate the time.
"""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def _type_ok(value: Any, name: str) -> bool:
    kinds = _TYPES.get(name)
    if kinds is None:
        return True  # unknown type name: not ours to judge
    # bool is an int subclass in Python; JSON keeps them apart.
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, kinds)


def _json_type(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "object", "array", "null"):
        if _type_ok(value, name):
            return name
    return type(value).__name__


def check(
    value: Any, schema: dict[str, Any], where: str = "arguments", *, strict: bool = False
) -> list[str]:
    """Every way `value` breaks `schema`, as short phrases naming the JSON path."""
    errors: list[str] = []
    _check(value, schema, where, errors, strict)
    return errors


def _check(value: Any, schema: Any, where: str, errors: list[str], strict: bool) -> None:
    if not isinstance(schema, dict):
        return
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_type_ok(value, n) for n in names):
            errors.append(f"{where} is {_json_type(value)}, expected {' or '.join(names)}")
            return
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        errors.append(f"{where} is {value!r}, expected one of {enum!r}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key in schema.get("required") or ():
            if key not in value:
                errors.append(f"{where} lacks required key {key!r}")
        extra_ok = schema.get("additionalProperties", not (strict and "properties" in schema))
        for key, item in value.items():
            sub = props.get(key)
            if sub is not None:
                _check(item, sub, f"{where}.{key}", errors, strict)
            elif extra_ok is False:
                errors.append(f"{where} has unknown key {key!r} (allowed: {sorted(props)})")
            elif isinstance(extra_ok, dict):
                _check(item, extra_ok, f"{where}.{key}", errors, strict)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _check(item, items, f"{where}[{i}]", errors, strict)


_FAST_TYPES = {"string": str, "boolean": bool, "object": dict, "array": list}


def compile_checker(schema: Any, *, strict: bool = False, where: str = "arguments"):
    """A function value -> problems for `schema`, with a fast path for the common tool
    shape (an object of plain-typed properties); anything unusual goes through `check`."""

    def slow(value: Any) -> list[str]:
        return check(value, schema, where, strict=strict) if isinstance(schema, dict) else []

    if not isinstance(schema, dict) or schema.get("type") != "object":
        return slow
    props = schema.get("properties") or {}
    types: dict[str, type] = {}
    for key, sub in props.items():
        if not isinstance(sub, dict) or set(sub) - {"type", "description", "title"}:
            return slow
        kind = _FAST_TYPES.get(sub.get("type"))
        if kind is None:
            return slow
        types[key] = kind
    required = tuple(schema.get("required") or ())
    extra = schema.get("additionalProperties", not (strict and "properties" in schema))
    if extra not in (True, False) or set(schema) - {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "description",
        "title",
    }:
        return slow

    def fast(value: Any) -> list[str]:
        if type(value) is not dict:
            return slow(value)
        for key in required:
            if key not in value:
                return slow(value)
        for key, item in value.items():
            kind = types.get(key)
            if kind is None:
                if extra is False:
                    return slow(value)
            elif type(item) is not kind:
                return slow(value)
        return []

    return fast
