"""`TrainConfig`: everything a training run does, typed, frozen and checked up front.

A config comes from a TOML or YAML file, then `--flag`/`--set key=value` overrides;
the effective config is what the run saves and what the worker reads back. All
checks that can be done without loading a model happen here, so a typo costs a
second instead of a model load.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from punie.errors import PunieError

FineTuneType = Literal["lora", "dora", "full"]
OptimizerName = Literal["adam", "adamw", "sgd", "adafactor"]
Schedule = Literal["constant", "cosine", "linear"]
# With mask_prompt: every assistant turn of a chat row, or only its last message (mlx-lm).
TrainOn = Literal["assistant", "last"]
# sft: chat rows; dpo/orpo: preference pairs (punie.data.pairs), see punie.train.dpo.
Method = Literal["sft", "dpo", "orpo"]


class TrainConfig(BaseModel):
    """One training run. `iters` counts optimizer updates (each one consumes
    `grad_accumulation_steps` micro-batches of `batch_size`), so checkpoints and
    reports always fall on update boundaries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(description="model spec: a folder, an embedded name or an HF repo id")
    data: Path = Field(description="folder with train.jsonl and valid.jsonl (test.jsonl optional)")
    method: Method = Field("sft", description="sft on chat rows, dpo or orpo on preference pairs")
    beta: float = Field(
        0.1, gt=0, description="dpo: the KL strength beta; orpo: the odds-ratio weight lambda"
    )
    fine_tune_type: FineTuneType = "lora"
    rank: int = Field(8, gt=0)
    scale: float = Field(20.0, gt=0, description="LoRA scale; `alpha` is accepted: alpha/rank")
    dropout: float = Field(0.0, ge=0, lt=1)
    num_layers: int = Field(-1, description="layers from the top to adapt; -1 = all")
    keys: tuple[str, ...] | None = Field(
        None, description="module paths inside a layer, e.g. self_attn.q_proj; None = all linear"
    )
    optimizer: OptimizerName = "adam"
    weight_decay: float | None = Field(None, ge=0, description="adamw/sgd only")
    learning_rate: float = Field(1e-5, gt=0)
    lr_schedule: Schedule = "constant"
    warmup_steps: int = Field(0, ge=0)
    warmup_init: float = Field(0.0, ge=0)
    min_learning_rate: float = Field(0.0, ge=0, description="end value of cosine/linear decay")
    iters: int = Field(1000, gt=0)
    batch_size: int = Field(4, gt=0)
    grad_accumulation_steps: int = Field(1, ge=1)
    max_seq_length: int = Field(2048, gt=0)
    mask_prompt: bool = False
    train_on: TrainOn = Field(
        "assistant",
        description="with mask_prompt: every assistant turn of a chat row, or only the last message",
    )
    # >1: each trained turn's first token (a tool call or a text answer: the decision a
    # small model gets wrong while the easy tokens after it drive the mean loss down)
    # weighs this much in the loss. The validation loss stays the plain mean.
    turn_start_weight: float = Field(
        1.0, ge=1.0, description="loss weight of each trained turn's first token"
    )
    grad_checkpoint: bool = False
    steps_per_report: int = Field(10, gt=0)
    steps_per_eval: int = Field(200, gt=0)
    steps_per_save: int = Field(100, gt=0)
    val_batches: int = Field(25, description="-1 = the whole validation set")
    seed: int = 0
    early_stopping_patience: int | None = Field(
        None, gt=0, description="stop after this many evaluations without improvement"
    )
    early_stopping_min_delta: float = Field(0.0, ge=0)
    keep_checkpoints: int = Field(3, gt=0, description="how many step checkpoints to keep")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        # mlx-lm's own YAML nests LoRA settings; accept that shape too.
        nested = data.pop("lora_parameters", None)
        if isinstance(nested, dict):
            for k, v in nested.items():
                data.setdefault(k, v)
        if "alpha" in data:
            alpha = data.pop("alpha")
            if "scale" in data:
                raise ValueError("give either alpha or scale, not both (scale = alpha / rank)")
            rank = data.get("rank", 8)
            try:
                data["scale"] = float(alpha) / int(rank)
            except (TypeError, ValueError, ZeroDivisionError):
                raise ValueError(f"alpha={alpha!r} with rank={rank!r} gives no scale") from None
        if isinstance(data.get("keys"), str):
            data["keys"] = [k.strip() for k in data["keys"].split(",") if k.strip()]
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.num_layers == 0 or self.num_layers < -1:
            raise ValueError("num_layers must be -1 (all) or a positive count")
        if self.val_batches == 0 or self.val_batches < -1:
            raise ValueError("val_batches must be -1 (all) or a positive count")
        if self.warmup_steps >= self.iters and self.warmup_steps > 0:
            raise ValueError(f"warmup_steps {self.warmup_steps} >= iters {self.iters}")
        if self.keys is not None and not self.keys:
            raise ValueError("keys is empty (leave it out to adapt every linear layer)")
        return self

    @property
    def lora_parameters(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "scale": self.scale,
            "dropout": self.dropout,
            "keys": list(self.keys) if self.keys is not None else None,
        }

    def adapter_config(self) -> dict[str, Any]:
        """What `mlx_lm.load(adapter_path=...)` and `mlx_lm.server --adapter-path` read."""
        out: dict[str, Any] = {
            "fine_tune_type": self.fine_tune_type,
            "num_layers": self.num_layers,
            "model": self.model,
        }
        if self.fine_tune_type != "full":
            params = self.lora_parameters
            if params["keys"] is None:
                params.pop("keys")
            out["lora_parameters"] = params
        return out

    def dump(self) -> dict[str, Any]:
        return json.loads(self.model_dump_json())


def _format_errors(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "config"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown setting"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A TOML (.toml) or YAML (.yaml/.yml) file as a dict; a `[train]` table is unwrapped."""
    p = Path(path)
    if not p.is_file():
        raise PunieError("config file not found", where=str(p), hint="check the path")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise PunieError("unknown config format", where=str(p), hint="use .toml or .yaml")
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise PunieError(f"cannot parse: {exc}", where=str(p)) from None
    except Exception as exc:  # yaml.YAMLError and friends
        if isinstance(exc, PunieError):
            raise
        raise PunieError(f"cannot parse: {exc}".splitlines()[0], where=str(p)) from None
    if not isinstance(data, dict):
        raise PunieError("expected a table of settings", where=str(p))
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    return data


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """`key=value` pairs; values are read as JSON when they parse (numbers, true, lists)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PunieError(f"--set {item!r} is not key=value", hint="e.g. --set rank=16")
        try:
            out[key.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip().replace("-", "_")] = value
    return out


def make_config(
    file: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """File settings, then overrides (None values ignored): the effective config."""
    data: dict[str, Any] = read_config_file(file) if file else {}
    for k, v in (overrides or {}).items():
        if v is None:
            continue
        # A flag given with alpha overrides a file's scale, and the reverse.
        if k == "alpha":
            data.pop("scale", None)
        if k == "scale":
            data.pop("alpha", None)
        data[k] = v
    where = str(file) if file else "config"
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise PunieError(
            _format_errors(exc), where=where, hint="see `punie train --help`"
        ) from None
