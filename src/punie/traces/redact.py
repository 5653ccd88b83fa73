"""Secrets out of everything a trace holds: pure functions over text and JSON values.

Three kinds of secret are recognised in any text (prompts, answers, tool arguments,
tool results, command output):
- PEM private key blocks (a block cut off by a clipped output included),
- well-known token formats (GitHub, OpenAI/Anthropic, AWS, Slack, Google, Stripe,
  Hugging Face, GitLab, npm, JWTs, `Bearer`/`Basic` credentials, passwords in URLs),
- assignments of secret-looking names (`API_KEY=...`, `export GITHUB_TOKEN=...`,
  `password: ...`, `"client_secret": "..."`, `token = "..."`).
The whole content of a file named `.env*` is replaced by `ENV_MARKER` where a tool read
or wrote it (see `punie.traces.record`); the helpers for that are here.

Redaction errs towards removing: `auth = "oauth2"` loses its value too. An assignment
whose value is code (`token = get_token()`, `key = os.environ["KEY"]`), a number, a
boolean or a `$VARIABLE` keeps it, and names are matched by their parts (`author`,
`max_tokens`, `sort_key` are not secret names), so code stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

ENV_MARKER = "[REDACTED: contents of a .env file]"


def marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


_PEM = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY((?: BLOCK)?)-----.*?"
    r"(?:-----END \1PRIVATE KEY\2-----|\Z)",
    re.DOTALL,
)

# (kind, pattern): the whole match is the secret.
_TOKENS: list[tuple[str, re.Pattern[str]]] = [
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}")),
    ("github_token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}")),
    ("api_key", re.compile(r"\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}")),
    ("aws_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("slack_token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}")),
    ("google_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("stripe_key", re.compile(r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("hf_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
]
# A credential after an auth scheme has a digit or a base64 sign ("basic understanding" is prose).
_AUTH = re.compile(
    r"(?i)\b(bearer|basic|token)(\s+)(?=[A-Za-z0-9._~+/=-]*[0-9+/=])([A-Za-z0-9._~+/=-]{12,})"
)
_FLAG = re.compile(
    r"(?i)(--(?:[a-z0-9]+-)*(?:password|passwd|passphrase|token|secret|api-key|apikey)[ =])"
    r"(?!-)([^\s'\"]+)"
)
_URL_PASSWORD = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]+:)([^\s@/'\"]+)@")

_QUOTED = r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'"
_ASSIGN = re.compile(
    r"(?P<lead>(?P<q>[\"']?)(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P=q)[ \t]*(?::=|=|:)[ \t]*)"
    rf"(?P<value>{_QUOTED}|[^\s\"'`,;&|(){{}}\[\]<>]+)"
)
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "apikey",
        "auth",
        "cookie",
        "dsn",
        "privatekey",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_SECRET_VALUES = frozenset({"true", "false", "none", "null", "nil", "undefined", "yes", "no"})


def secret_name(name: str) -> bool:
    """Whether a variable or key name says it holds a secret (`GITHUB_TOKEN`,
    `apiKey`, `db-password`), by its parts: `author` and `max_tokens` do not."""
    parts = [p.lower() for p in re.split(r"[^A-Za-z0-9]+", _CAMEL.sub("_", name)) if p]
    if any(p in _SECRET_WORDS for p in parts):
        return True
    joined = "".join(parts)
    if any(w in joined for w in ("apikey", "privatekey", "accesskey", "secretkey", "signingkey")):
        return True
    # A bare KEY part: an env-style name (`STRIPE_KEY`), not a Python `key = ...`.
    return "key" in parts and name.isupper()


def _keeps_value(value: str, after: str) -> bool:
    """An unquoted value that is code or a plain literal, not a secret."""
    if after[:1] in ("(", "[", "."):
        return True  # a call or a lookup: `token = get_token()`
    v = value.lower()
    if v in _NOT_SECRET_VALUES or value.startswith("$") or value.startswith("%"):
        return True  # a literal, or a reference to a variable
    return value.isdigit() and len(value) < 8


def _assignment(m: re.Match[str]) -> str:
    value = m.group("value")
    if not secret_name(m.group("name")):
        return m.group(0)
    if value[:1] in ("'", '"'):
        if len(value) <= 2 or value[1:-1].startswith("[REDACTED"):
            return m.group(0)
        return f"{m.group('lead')}{value[0]}{marker('secret')}{value[0]}"
    if value.startswith("[REDACTED") or _keeps_value(value, m.string[m.end() : m.end() + 1]):
        return m.group(0)
    return f"{m.group('lead')}{marker('secret')}"


def redact_text(text: str) -> tuple[str, int]:
    """(the text with every secret replaced by a marker, how many were replaced)."""
    if not text:
        return text, 0
    total = 0
    text, n = _PEM.subn(marker("private_key"), text)
    total += n
    for kind, rx in _TOKENS:
        text, n = rx.subn(marker(kind), text)
        total += n
    text, n = _AUTH.subn(lambda m: f"{m.group(1)}{m.group(2)}{marker('credential')}", text)
    total += n
    text, n = _FLAG.subn(lambda m: f"{m.group(1)}{marker('secret')}", text)
    total += n
    text, n = _URL_PASSWORD.subn(lambda m: f"{m.group(1)}{marker('password')}@", text)
    total += n
    counted = [0]

    def assignment(m: re.Match[str]) -> str:
        out = _assignment(m)
        counted[0] += out != m.group(0)
        return out

    text = _ASSIGN.sub(assignment, text)
    return text, total + counted[0]


def redact_value(value: Any, count: Callable[[int], None] | None = None) -> Any:
    """A JSON-like value with every string in it redacted (keys are kept)."""
    if isinstance(value, str):
        out, n = redact_text(value)
        if count is not None and n:
            count(n)
        return out
    if isinstance(value, dict):
        return {k: redact_value(v, count) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, count) for v in value]
    return value


def is_env_file(path: Any) -> bool:
    """Whether a path names a `.env*` file (`.env`, `.env.local`, `sub/.env.prod`)."""
    if not isinstance(path, str) or not path:
        return False
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].startswith(".env")


_ENV_IN_COMMAND = re.compile(r"(?:^|[\s/'\"=<>:])\.env(?:[\w.-]*)(?=$|[\s'\";|&>)])")


def command_reads_env_file(command: Any) -> bool:
    """Whether a shell command names a `.env*` file (`cat .env`, `source ./.env.local`):
    its output is then treated as that file's contents."""
    return isinstance(command, str) and bool(_ENV_IN_COMMAND.search(command))


_HIT = re.compile(r"^(?P<path>[^\n:]+):(?P<line>\d+): .*$", re.MULTILINE)


def redact_env_hits(text: str) -> tuple[str, int]:
    """Search hits (`path:line: text`) in `.env*` files with their text replaced."""
    n = 0

    def hit(m: re.Match[str]) -> str:
        nonlocal n
        if not is_env_file(m.group("path")):
            return m.group(0)
        n += 1
        return f"{m.group('path')}:{m.group('line')}: {ENV_MARKER}"

    return _HIT.sub(hit, text), n


_EMBEDDED_ENV = re.compile(r"(<file uri=(['\"])(?P<uri>[^'\"\n]*)\2>\n).*?(\n</file>)", re.DOTALL)


def redact_embedded_env(text: str) -> tuple[str, int]:
    """Files the IDE embedded in a prompt (`<file uri=...>` blocks) that are `.env*`."""
    n = 0

    def block(m: re.Match[str]) -> str:
        nonlocal n
        if not is_env_file(m.group("uri")):
            return m.group(0)
        n += 1
        return f"{m.group(1)}{ENV_MARKER}{m.group(4)}"

    return _EMBEDDED_ENV.sub(block, text), n
