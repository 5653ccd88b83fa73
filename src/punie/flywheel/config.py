"""`FlywheelConfig`: one flywheel run (data -> train -> eval -> compare -> report).

Read from TOML:

    name = "qwen-tools"              # optional; the run folder's name
    model = "smollm2-135m"           # a folder, an embedded name or an HF-cache repo id

    [data]
    generate = "tools"               # a punie.data generator ...
    n = 400
    seed = 0
    # path = "my-data/"              # ... or your own dataset folder (train/valid.jsonl)
    max_example_tokens = 0           # >0: drop train rows longer than this (CPU budget)
    # harvest = ["data/harvest"]     # `punie data harvest` folders merged in (or one path)
    # harvest_weight = 1.0           # harvested train rows = round(weight x their count)

    [train]                          # any punie.train TrainConfig field but model/data
    num_layers = 8
    rank = 8
    learning_rate = 2e-4
    iters = 40

    [eval]
    suites = ["tools", "no-tool"]    # built-in names or YAML files
    max_tokens = 64                  # per model call; default: each suite's own
    decode_concurrency = 8
    # harvest_suite = true           # with data.harvest: also score `harvest-newer`
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from punie.errors import PunieError


class DataSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    generate: str | None = "tools"
    n: int = Field(400, gt=0)
    seed: int = 0
    path: Path | None = None
    max_example_tokens: int = Field(0, ge=0)
    # Drop train rows that end in a text answer after a tool result: the tool suites
    # score calls and direct answers, and on a small step budget those rows spend
    # ~40% of the examples on a turn no suite measures.
    drop_answer_turns: bool = False
    check_format: bool = True
    # `punie data harvest` folders: their train rows join the train split (weighted),
    # their valid rows the valid split, their test rows become the harvest-newer suite.
    harvest: tuple[Path, ...] = ()
    # Harvested train rows in the merged train split = round(weight x their count):
    # every row floor(weight) times, and a seeded sample of the fraction once more.
    harvest_weight: float = Field(1.0, ge=0)

    @field_validator("harvest", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | Path) else value

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if self.path is not None and self.generate not in (None, "tools"):
            raise ValueError("give data.path or data.generate, not both")
        return self

    @property
    def generated(self) -> bool:
        return self.path is None


class EvalSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    suites: tuple[str, ...] = ("tools", "no-tool")
    # >0: evaluate only this many cases per suite (round-robin over categories).
    max_cases: int = Field(0, ge=0)
    # None: each suite's own (tools 96: its edit_file calls are 56-60 SmolLM2 tokens,
    # and a call cut short fails).
    max_tokens: int | None = Field(None, gt=0)
    decode_concurrency: int = Field(8, gt=0)
    concurrency: int | None = Field(None, gt=0)
    temperature: float = Field(0.0, ge=0)
    timeout_s: float = Field(180.0, gt=0)
    # Sampling knobs sent with every request (tune-inference sets them).
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    # With data.harvest: evaluate base and adapted on the harvest's held-out newest
    # sessions too, as the task suite `harvest-newer` (punie.evaluate.harvested).
    harvest_suite: bool = True


class FlywheelConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    model: str = "smollm2-135m"
    data: DataSpec = DataSpec()
    train: dict[str, Any] = Field(default_factory=dict)
    eval: EvalSpec = EvalSpec()
    select_checkpoint: bool = Field(
        False, description="evaluate saved checkpoints on the valid split, keep the best"
    )

    @model_validator(mode="after")
    def _train_keys(self) -> FlywheelConfig:
        bad = {"model", "data"} & set(self.train)
        if bad:
            raise ValueError(f"train.{sorted(bad)[0]} is set at the top level, not in [train]")
        return self

    def train_config(self, model: str, data: Path):
        """The punie.train config for this run (raises PunieError on a bad key)."""
        from punie.train.config import TrainConfig

        try:
            return TrainConfig.model_validate({**self.train, "model": model, "data": data})
        except ValidationError as exc:
            raise PunieError(
                _first_error(exc, "train"), where="flywheel config", hint="see docs/train.md"
            ) from None


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    loc = f"{prefix}.{loc}" if prefix and loc else (loc or prefix)
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> FlywheelConfig:
    """Read a TOML flywheel config; errors name the file and the key."""
    p = Path(path)
    if not p.is_file():
        raise PunieError("config file not found", where=str(p), hint="give a .toml file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PunieError(f"not valid TOML: {exc}", where=str(p)) from None
    for k, v in (overrides or {}).items():
        data[k] = v
    return config_from_dict(data, p)


def config_from_dict(data: dict[str, Any], source: Path) -> FlywheelConfig:
    """A FlywheelConfig from a config file's parsed TOML (`source` names the file in
    errors and anchors relative dataset paths)."""
    data_spec = data.get("data")
    if isinstance(data_spec, dict) and "path" in data_spec:
        # Relative dataset paths are relative to the config file, not the cwd.
        data_spec["path"] = _beside(source, data_spec["path"])
        data_spec.setdefault("generate", None)
    if isinstance(data_spec, dict) and "harvest" in data_spec:
        h = data_spec["harvest"]
        data_spec["harvest"] = (
            [_beside(source, x) for x in h] if isinstance(h, list) else _beside(source, h)
        )
    try:
        cfg = FlywheelConfig.model_validate(data)
    except ValidationError as exc:
        raise PunieError(
            _first_error(exc), where=str(source), hint="see docs/flywheel.md"
        ) from None
    cfg.train_config(cfg.model, Path("."))  # a bad [train] key fails now, not after the base eval
    return cfg


def _beside(source: Path, value: Any) -> Any:
    """A path from the config file, relative to the file's folder."""
    if not isinstance(value, str | Path):
        return value  # pydantic names the bad type
    p = Path(value).expanduser()
    return p if p.is_absolute() else (source.parent / p).resolve()
