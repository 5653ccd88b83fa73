"""Validate dataset files: every problem in one pass, each as `file:line: what (how to fix)`.

`check_lines` is the pure core (lines in, issues out); `validate_path` reads the
files, adds duplicate and train/valid/test leakage warnings, and with a model the
token length of each example.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from punie.data.checks import check_row
from punie.data.schema import row_form
from punie.errors import PunieError

DEFAULT_MAX_SEQ_LENGTH = 2048  # mlx-lm's own default
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Issue:
    path: str
    line: int
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        tail = f" ({self.hint})" if self.hint else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{where}: {self.message}{tail}"


@dataclass(frozen=True)
class ValidationReport:
    issues: tuple[Issue, ...]
    examples: dict[str, int] = field(default_factory=dict)  # file -> rows read
    max_tokens: int | None = None  # longest example, when a model was given

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        n = sum(self.examples.values())
        tok = f", longest {self.max_tokens} tokens" if self.max_tokens is not None else ""
        return (
            f"{n} examples in {len(self.examples)} files: "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings{tok}"
        )


@dataclass
class ParsedFile:
    """Rows of one file that parsed as JSON, with their 1-based line numbers."""

    path: str
    rows: list[tuple[int, Any]]
    issues: list[Issue]


_SENTINEL = -7.25e-300  # stands in for a shared `tools` value while parsing a line


def _loads_sharing_tools(text: str, shared: list) -> Any:
    """json.loads, but a `tools` list identical to the previous row's is parsed once.

    Most datasets repeat one tools list (about 1 KB) on every row, and parsing it
    dominated validation time. `shared` holds [needle, parsed]: when the line contains
    the needle (`"tools": <the list as json.dumps writes it>`), it is swapped for a
    number before parsing and the one parsed list is put back. Rows then share that
    list object, so treat rows as read-only. The needle cannot match inside a JSON
    string (its quotes would be escaped there); if the swap lands anywhere but the
    top-level `tools` key, the line is parsed normally.
    """
    needle, parsed = shared
    at = text.find(needle) if needle is not None else -1
    if at >= 0:
        row = json.loads(f'{text[:at]}"tools": {_SENTINEL!r}{text[at + len(needle) :]}')
        if isinstance(row, dict) and row.get("tools") == _SENTINEL:
            row["tools"] = parsed
            return row
    row = json.loads(text)
    tools = row.get("tools") if isinstance(row, dict) else None
    if isinstance(tools, list) and tools:
        shared[0] = '"tools": ' + json.dumps(tools, ensure_ascii=False)
        shared[1] = tools
    return row


def check_lines(path: str, lines: Iterable[bytes]) -> ParsedFile:
    """Parse and structurally check raw JSONL lines (bytes, newline optional)."""
    with gc_paused():
        return _check_lines(path, lines)


def _check_lines(path: str, lines: Iterable[bytes]) -> ParsedFile:
    issues: list[Issue] = []
    rows: list[tuple[int, Any]] = []
    form = None  # the form of the first good row: mlx-lm reads a whole file as that form
    first_line = 0
    shared: list = [None, None]
    tools_cache: dict = {}
    for lineno, raw in enumerate(lines, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(
                Issue(path, lineno, f"not UTF-8 at byte {exc.start}", "re-encode the file as UTF-8")
            )
            continue
        if not text.strip():
            issues.append(Issue(path, lineno, "blank line", "remove it: mlx-lm fails on it"))
            continue
        try:
            row = _loads_sharing_tools(text, shared)
        except ValueError as exc:
            msg = getattr(exc, "msg", str(exc))
            col = getattr(exc, "colno", 0)
            issues.append(
                Issue(path, lineno, f"invalid JSON at column {col}: {msg}", "one object per line")
            )
            continue
        rows.append((lineno, row))
        row_f = row_form(row) if isinstance(row, dict) else None
        if row_f is not None:
            if form is None:
                form, first_line = row_f, lineno
            elif row_f != form:
                issues.append(
                    Issue(
                        path,
                        lineno,
                        f"{row_f} row in a {form} file (line {first_line} set the form)",
                        "use one form per file: mlx-lm reads all rows as the first row's form",
                    )
                )
                continue
        for what, how in check_row(row, row_f, tools_cache):
            issues.append(Issue(path, lineno, what, how))
    if not rows and not issues:
        issues.append(
            Issue(
                path,
                0,
                "the file holds no examples",
                "remove it or add rows: mlx-lm fails on an empty split",
            )
        )
    return ParsedFile(path, rows, issues)


_PUNCT = re.compile(r"[^\w\x00]+|_+", re.UNICODE)


_TOOLS_KEYS: dict[int, tuple[Any, str]] = {}  # id(tools list) -> (the list, its JSON)


def _tools_key(tools: Any) -> str | None:
    """Canonical JSON of a tools list, computed once per shared list object."""
    if not tools:
        return None
    hit = _TOOLS_KEYS.get(id(tools))
    if hit is not None and hit[0] is tools:
        return hit[1]
    key = json.dumps(tools, sort_keys=True, ensure_ascii=False, default=str)
    if len(_TOOLS_KEYS) > 64:
        _TOOLS_KEYS.clear()
    _TOOLS_KEYS[id(tools)] = (tools, key)
    return key


def _call_key(calls: Any) -> Any:
    if not calls:
        return None
    try:
        return tuple((c["function"]["name"], repr(c["function"]["arguments"])) for c in calls)
    except (TypeError, KeyError):
        return repr(calls)


def exact_key(row: Any) -> int:
    """Hash of what training sees: messages (roles, content, calls), tools or text."""
    if not isinstance(row, dict):
        return hash(repr(row))
    msgs = row.get("messages")
    if isinstance(msgs, list):
        parts = tuple(
            (m.get("role"), m.get("content"), _call_key(m.get("tool_calls")))
            if isinstance(m, dict)
            else repr(m)
            for m in msgs
        )
        return hash((parts, _tools_key(row.get("tools"))))
    return hash((row.get("prompt"), row.get("completion"), row.get("text")))


def _norm(text: Any) -> str:
    if not text:
        return ""
    folded = _PUNCT.sub(" ", str(text).lower())
    return folded.replace(" \x00", "\x00").replace("\x00 ", "\x00").strip()


def near_key(row: Any) -> str:
    """Text of the example with case, punctuation and spacing folded away."""
    if not isinstance(row, dict):
        return ""
    msgs = row.get("messages")
    if isinstance(msgs, list):
        out = []
        for m in msgs:
            if isinstance(m, dict):
                content = m.get("content")
                out.append(content if isinstance(content, str) else "")
                for c in m.get("tool_calls") or ():
                    fn = c.get("function") if isinstance(c, dict) else None
                    if isinstance(fn, dict):
                        out.append(f"{fn.get('name')} {fn.get('arguments')}")
        # One regex pass over the joined text; "\x00" survives it as a separator.
        return _norm("\x00".join(out))
    return _norm("\x00".join(str(row.get(k) or "") for k in ("prompt", "completion", "text")))


def prompt_key(row: Any) -> str:
    """The request side of an example (all but its final answer), folded like near_key."""
    if not isinstance(row, dict):
        return ""
    msgs = row.get("messages")
    if isinstance(msgs, list):
        return " | ".join(
            _norm(m.get("content"))
            for m in msgs[:-1]
            if isinstance(m, dict) and m.get("role") in ("user", "tool")
        )
    return _norm(row.get("prompt") or row.get("text"))


def duplicate_issues(files: list[ParsedFile]) -> list[Issue]:
    """Warnings for exact and near duplicates within each file, and train leakage."""
    issues: list[Issue] = []
    for pf in files:
        seen_exact: dict[int, int] = {}
        seen_near: dict[str, int] = {}
        for lineno, row in pf.rows:
            k = exact_key(row)
            if k in seen_exact:
                issues.append(
                    Issue(
                        pf.path,
                        lineno,
                        f"exact duplicate of line {seen_exact[k]}",
                        "punie data dedupe",
                        "warning",
                    )
                )
                continue
            seen_exact[k] = lineno
            nk = near_key(row)
            if nk in seen_near:
                issues.append(
                    Issue(
                        pf.path,
                        lineno,
                        f"near duplicate of line {seen_near[nk]} (differs only in case/punctuation)",
                        "punie data dedupe --near",
                        "warning",
                    )
                )
            else:
                seen_near[nk] = lineno
    train = [pf for pf in files if Path(pf.path).stem == "train"]
    held = [pf for pf in files if Path(pf.path).stem in ("valid", "test")]
    if train and held:
        train_prompts: dict[str, int] = {}
        for lineno, row in train[0].rows:
            train_prompts.setdefault(prompt_key(row), lineno)
        train_prompts.pop("", None)
        for pf in files:
            if Path(pf.path).stem not in ("valid", "test"):
                continue
            for lineno, row in pf.rows:
                hit = train_prompts.get(prompt_key(row))
                if hit is not None:
                    issues.append(
                        Issue(
                            pf.path,
                            lineno,
                            f"same request as {train[0].path}:{hit} (train/eval leakage)",
                            "remove it from one split",
                            "warning",
                        )
                    )
    return issues


def dataset_files(path: Path) -> list[Path]:
    """The JSONL files a path names: the file itself, or a folder's *.jsonl (splits first)."""
    path = Path(path)
    if not path.exists():
        raise PunieError(f"{path} does not exist", hint="give a .jsonl file or a dataset folder")
    if path.is_file():
        return [path]
    order = {s: i for i, s in enumerate(SPLITS)}
    files = sorted(path.glob("*.jsonl"), key=lambda p: (order.get(p.stem, len(SPLITS)), p.name))
    if not files:
        raise PunieError(f"{path} holds no .jsonl files", hint="expected train/valid/test.jsonl")
    return files


def read_file(path: Path) -> ParsedFile:
    with open(path, "rb") as f:
        return check_lines(str(path), f)


@contextmanager
def gc_paused():
    """Pause the cyclic GC while many long-lived dicts are built: it would rescan them
    over and over (3-5x slower on 100k rows), and none of them can form a cycle."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def validate_path(
    path: str | Path,
    model: str | Path | None = None,
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
) -> ValidationReport:
    """Validate a file or dataset folder; pure apart from reading the files and tokenizer."""
    with gc_paused():
        return _validate_path(Path(path), model, max_seq_length)


def _validate_path(path: Path, model: str | Path | None, max_seq_length: int) -> ValidationReport:
    files = [read_file(p) for p in dataset_files(path)]
    issues: list[Issue] = [i for pf in files for i in pf.issues]
    if path.is_dir():
        names = {Path(pf.path).stem for pf in files}
        for split in ("train", "valid"):
            if split not in names:
                issues.append(
                    Issue(str(path), 0, f"no {split}.jsonl", "mlx-lm needs it", "warning")
                )
    issues.extend(duplicate_issues(files))
    max_tokens = None
    if model is not None:
        from punie.data.tokens import length_issues, load_tokenizer

        tok = load_tokenizer(model)
        bad = {(i.path, i.line) for i in issues if i.severity == "error"}
        for pf in files:
            rows = [(ln, r) for ln, r in pf.rows if (pf.path, ln) not in bad]
            found, longest = length_issues(pf.path, rows, tok, max_seq_length)
            issues.extend(found)
            max_tokens = max(max_tokens or 0, longest)
    order = {pf.path: k for k, pf in enumerate(files)}
    issues.sort(key=lambda i: (i.severity != "error", order.get(i.path, -1), i.line))
    return ValidationReport(
        tuple(issues), {pf.path: len(pf.rows) for pf in files}, max_tokens=max_tokens
    )
