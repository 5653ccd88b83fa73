"""Evaluation suites: YAML files of cases, validated with pydantic.

A case is one chat request plus what a correct answer looks like:

    - id: read-readme
      category: read_file
      messages: [{role: user, content: "Show me README.md"}]
      tools: agent                 # Punie's AGENT_TOOLS; or a list of OpenAI specs; or none
      expected_calls:              # the calls (any order) a correct answer makes...
        - name: read_file
          arguments: {path: [README.md, docs/README.md]}   # acceptable values
          compare: {path: path}    # optional: this call's own comparison kinds
      # ...or `no_call: true`, and/or keywords that must / must not appear:
      keywords: [decorator, [wraps, functools.wraps]]   # an inner list = alternatives
      forbidden: [I cannot]

How each argument is compared is declared, once per suite in its header
(`compare: {read_file.path: path, run_command.command: exact}`) and per call where a
case differs; an argument declared nowhere is `exact`. The kinds (see `ArgKind`):

- `exact`: equal JSON values (an int equals the same float: an int is a number).
- `path`: strings compared as paths: surrounding spaces, a leading `./` and a
  trailing `/` dropped (`./src/` is `src`); case kept.
- `free`: free text, as BFCL compares it: case, whitespace and `,./-_*^` ignored.
- `any`: any value the tool's schema accepts, and the argument may be left out.

A nested object is compared key by key: its acceptable value is a mapping of each
key to its acceptable values (`{mode: [r, rb], encoding: [utf-8, null]}`), and a
nested key's kind is declared by its dotted path (`open.options.mode: free`). An
argument the call gives but the expected answer does not name must equal its
schema `default` or be of kind `any`.

Built-in suites live beside this module in `suites/NAME.yaml`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from punie import schema_check
from punie.errors import PunieError
from punie.toolspec import AGENT_TOOLS

if TYPE_CHECKING:
    from punie.evaluate.tasks import TaskSuite

SUITES_DIR = Path(__file__).parent / "suites"
OPTIONAL = None  # an acceptable value meaning "the argument may be left out" (BFCL's "")
ArgKind = Literal["exact", "path", "free", "any"]


def check_roles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A suite's chat messages (a case's, or a task's prior conversation)."""
    for m in messages:
        if m.get("role") not in {"system", "user", "assistant", "tool"}:
            raise ValueError(f"message role must be system/user/assistant/tool, got {m!r}")
    return messages


class ExpectedCall(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    # Each argument: the list of acceptable values; a `null` in the list means the
    # argument may also be absent.
    arguments: dict[str, list[Any]] = Field(default_factory=dict)
    # Argument (dotted for a nested key) -> how it is compared; the suite's header
    # kinds for this tool are merged in when the suite loads, the call's own win.
    compare: dict[str, ArgKind] = Field(default_factory=dict)

    @field_validator("arguments", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
        return value


def acceptable(value: Any) -> Any:
    """One literal value in the acceptable-values form, so it is the only answer:
    each nested key of an object becomes a one-element list of its own value."""
    if isinstance(value, dict):
        return {k: [acceptable(v)] for k, v in value.items()}
    if isinstance(value, list):
        return [acceptable(v) for v in value]
    return value


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    category: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    expected_calls: list[ExpectedCall] = Field(default_factory=list)
    no_call: bool = False
    keywords: list[str | list[str]] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    max_tokens: int | None = None

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        if value in (None, "none", []):
            return []
        if value == "agent":
            return AGENT_TOOLS
        return value

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return check_roles(value)

    @model_validator(mode="after")
    def _one_kind(self) -> Case:
        if self.expected_calls and self.no_call:
            raise ValueError("a case has expected_calls or no_call, not both")
        if not (self.expected_calls or self.no_call or self.keywords or self.forbidden):
            raise ValueError("a case needs expected_calls, no_call, keywords or forbidden")
        names = {t["function"]["name"] for t in self.tools if "function" in t}
        for call in self.expected_calls:
            if call.name not in names:
                raise ValueError(f"expected call {call.name!r} is not among the tools offered")
            props = (self.tool_spec(call.name).get("parameters") or {}).get("properties")
            for arg in call.compare:
                if props is not None and arg.split(".")[0] not in props:
                    raise ValueError(f"compare names {arg!r}, not an argument of {call.name}")
        for tool in self.tools:
            fn = tool.get("function") or {}
            try:
                schema_check.checker_for(fn.get("parameters"))
            except schema_check.SchemaInvalid as exc:
                raise ValueError(f"tool {fn.get('name')!r} parameters: {exc}") from None
        return self

    @property
    def kind(self) -> Literal["tool", "no_tool", "keywords"]:
        if self.expected_calls:
            return "tool"
        return "no_tool" if self.no_call else "keywords"

    def tool_spec(self, name: str) -> dict[str, Any] | None:
        for t in self.tools:
            if t.get("function", {}).get("name") == name:
                return t["function"]
        return None


class SuiteBase(BaseModel):
    """What every suite kind shares: unique case ids and a content fingerprint. It
    declares no fields, so each kind's fields (and so its fingerprint) keep their order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _unique_ids(self):
        seen: set[str] = set()
        for c in self.cases:
            if c.id in seen:
                raise ValueError(f"duplicate case id {c.id!r}")
            seen.add(c.id)
        return self

    def fingerprint(self) -> str:
        """Changes when any case changes: a resumed evaluation must be the same suite."""
        data = self.model_dump_json(exclude={"source"})
        return hashlib.sha256(data.encode()).hexdigest()[:16]


class Suite(SuiteBase):
    name: str
    description: str = ""
    max_tokens: int = 128
    # `tool.argument` (dotted deeper for a nested key) -> how it is compared, for
    # every case; a call's own `compare` overrides it (see the module doc).
    compare: dict[str, ArgKind] = Field(default_factory=dict)
    cases: list[Case] = Field(min_length=1)
    source: str | None = None  # the file it came from, for messages

    @field_validator("compare")
    @classmethod
    def _dotted(cls, value: dict[str, ArgKind]) -> dict[str, ArgKind]:
        for key in value:
            if len(key.split(".")) < 2 or "" in key.split("."):
                raise ValueError(f"compare key {key!r} is not tool.argument")
        return value

    @model_validator(mode="after")
    def _header_kinds(self) -> Suite:
        """Every header key names an offered tool's argument; its kind reaches the calls."""
        specs = {t["function"]["name"]: t["function"] for c in self.cases for t in c.tools}
        for key in self.compare:
            tool, arg = key.split(".")[:2]
            props = (specs.get(tool, {}).get("parameters") or {}).get("properties")
            if tool not in specs or (props is not None and arg not in props):
                raise ValueError(f"compare names {key!r}, not an argument of an offered tool")
        if self.compare:
            cases = [_with_header(c, self.compare) for c in self.cases]
            object.__setattr__(self, "cases", cases)  # frozen: set once, while validating
        return self


def _with_header(case: Case, header: dict[str, ArgKind]) -> Case:
    calls = []
    for call in case.expected_calls:
        prefix = call.name + "."
        mine = {k[len(prefix) :]: v for k, v in header.items() if k.startswith(prefix)}
        calls.append(call.model_copy(update={"compare": {**mine, **call.compare}}))
    return case.model_copy(update={"expected_calls": calls}) if calls else case


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


class _LineLoader(yaml.SafeLoader):
    """Records the line of every mapping so validation errors can name file:line."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    loader.lines[id(mapping)] = node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode, deep: bool = False):
    seq = yaml.SafeLoader.construct_sequence(loader, node, deep=deep)
    loader.lines[id(seq)] = node.start_mark.line + 1
    return seq


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line_of(data: Any, loc: tuple, lines: dict[int, int]) -> int | None:
    line = lines.get(id(data))
    node = data
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        line = lines.get(id(node), line)
    return line


def _load_yaml(text: str, source: str) -> tuple[Any, dict[int, int]]:
    loader = _LineLoader(text)
    loader.lines = {}
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise PunieError(f"not valid YAML: {getattr(exc, 'problem', exc)}", where=where) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise PunieError("a suite is a mapping with name and cases", where=f"{source}:1")
    return data, loader.lines


def _validate(cls: type[BaseModel], data: dict, lines: dict[int, int], source: str) -> Any:
    try:
        return cls(**data, source=source)
    except ValidationError as exc:
        err = exc.errors()[0]
        line = _line_of(data, err["loc"], lines)
        path = ".".join(str(p) for p in err["loc"])
        raise PunieError(
            f"{path}: {err['msg']}" if path else err["msg"],
            where=f"{source}:{line}" if line else source,
            hint="see docs/evaluate.md for the suite format",
        ) from None


def parse_suite(text: str, source: str = "<suite>") -> Suite:
    """Validate suite YAML text; errors name `source:line`."""
    data, lines = _load_yaml(text, source)
    if data.get("kind") == "tasks":
        raise PunieError(
            "this is a task suite (kind: tasks)", where=f"{source}:1", hint="use load_any_suite"
        )
    return _validate(Suite, data, lines, source)


def parse_any_suite(text: str, source: str = "<suite>") -> Suite | TaskSuite:
    """A single-turn Suite, or a TaskSuite when the YAML says `kind: tasks`."""
    from punie.evaluate.tasks import TaskSuite

    data, lines = _load_yaml(text, source)
    if data.get("kind") == "tasks":
        return _validate(TaskSuite, data, lines, source)
    if "kind" in data:
        raise PunieError(
            f"unknown suite kind {data['kind']!r}", where=f"{source}:1", hint="use kind: tasks"
        )
    return _validate(Suite, data, lines, source)


def parse_task_suite(text: str, source: str = "<suite>") -> TaskSuite:
    from punie.evaluate.tasks import TaskSuite

    suite = parse_any_suite(text, source)
    if not isinstance(suite, TaskSuite):
        raise PunieError("not a task suite (it needs kind: tasks)", where=f"{source}:1")
    return suite


def _suite_file(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if not p.suffix and not p.exists():
        p = SUITES_DIR / f"{name_or_path}.yaml"
        if not p.exists():
            raise PunieError(
                f"no suite named {name_or_path!r}",
                where="eval",
                hint=f"built-ins: {', '.join(builtin_suites())}; or pass a YAML file",
            )
    if not p.is_file():
        raise PunieError(f"suite file {p} does not exist", where="eval")
    return p


def load_any_suite(name_or_path: str | Path) -> Suite | TaskSuite:
    """A built-in suite by name, a YAML file of either kind, or `harvest:DIR`: the
    held-out newest sessions of a harvest as tasks (`punie.evaluate.harvested`)."""
    if isinstance(name_or_path, str) and name_or_path.startswith("harvest:"):
        from punie.evaluate.harvested_io import load_harvest_suite

        return load_harvest_suite(Path(name_or_path.removeprefix("harvest:")).expanduser())
    p = _suite_file(name_or_path)
    return parse_any_suite(p.read_text(encoding="utf-8"), str(p))


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in single-turn suite by name, or a YAML file."""
    p = _suite_file(name_or_path)
    return parse_suite(p.read_text(encoding="utf-8"), str(p))
