"""The user's settings for recording, from `PUNIE_HOME/config.toml`:

    [traces]
    record = false        # default true: punie serve and punie ask record each turn
    max_mb = 200          # recording stops (one log line) once traces/ holds this much

No file means the defaults. A file Punie cannot use is an error naming it (exit 2):
a typo must not leave recording on when the user meant it off.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from punie import paths
from punie.errors import PunieError

DEFAULT_MAX_MB = 200


class TracesConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record: bool = True
    max_mb: float = Field(DEFAULT_MAX_MB, gt=0)

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


def config_path() -> Path:
    return paths.punie_home() / "config.toml"


def traces_root() -> Path:
    return paths.punie_home() / "traces"


def load_config(path: Path | None = None) -> TracesConfig:
    p = path or config_path()
    if not p.is_file():
        return TracesConfig()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PunieError(f"cannot read: {exc}", where=str(p)) from None
    unknown = sorted(set(data) - {"traces"})
    if unknown:
        raise PunieError(
            f"unknown key {unknown[0]!r}", where=str(p), hint="the known table is [traces]"
        )
    try:
        return TracesConfig.model_validate(data.get("traces", {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in ("traces", *err["loc"]))
        raise PunieError(
            f"{where}: {err['msg']}", where=str(p), hint="keys: record (bool), max_mb"
        ) from None
