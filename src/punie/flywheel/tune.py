"""`punie tune-inference`: score sampling settings on a suite against one managed server.

Temperature, top-p, top-k and repetition penalty go into each request body (the
OpenAI fields mlx_lm.server reads per request), so one server serves every point.
punie.evaluate's `run_suite` sends only temperature/seed/max_tokens, so this module
builds each body with `request_body` and adds the knobs, then uses the evaluator's
own `ask` and `score`: same transport and same scoring as every other evaluation.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from punie import atomic


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = off (mlx_lm's convention)
    repetition_penalty: float = 1.0  # 1.0 = off

    def body(self) -> dict[str, Any]:
        """The request fields; knobs left at 'off' are still sent, explicitly."""
        out: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
        }
        # mlx_lm.server treats 0.0 (its default) as "no penalty"; 1.0 means the same.
        out["repetition_penalty"] = self.repetition_penalty
        return out

    @property
    def name(self) -> str:
        return f"T{self.temperature} p{self.top_p} k{self.top_k} rep{self.repetition_penalty}"


def grid_points(temps, top_ps, top_ks, reps) -> list[Sampling]:
    return [Sampling(*c) for c in itertools.product(temps, top_ps, top_ks, reps)]


@dataclass
class TuneResult:
    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)

    def table(self):
        from rich.table import Table

        t = Table(title="Inference settings sorted by accuracy")
        for c in (
            "temperature",
            "top_p",
            "top_k",
            "rep. penalty",
            "accuracy",
            "passed",
            "failures",
        ):
            t.add_column(c)
        for r in self.rows:
            s = r["sampling"]
            t.add_row(
                str(s["temperature"]),
                str(s["top_p"]),
                str(s["top_k"]),
                str(s["repetition_penalty"]),
                f"{100 * r['accuracy']:.1f}%",
                f"{r['passed']}/{r['n']}",
                ", ".join(f"{k} {v}" for k, v in r["failures"].items()),
            )
        return t


async def score_point(ep, suite, cases, sampling: Sampling, max_tokens: int, seed: int = 0):
    """Ask every case with these settings; returns (CaseResult-like dicts, bodies sent)."""
    import httpx

    from punie.evaluate.runner import EvalSettings, _decoder, ask, request_body
    from punie.evaluate.scoring import score

    settings = EvalSettings(temperature=sampling.temperature, seed=seed, max_tokens=max_tokens)
    decode = _decoder(ep)
    sem = asyncio.Semaphore(ep.decode_concurrency or 4)

    async def one(client, case):
        body = request_body(case, ep, suite, settings, decode is not None)
        body.update(sampling.body())
        async with sem:
            answer = await ask(client, ep, body, settings, decode)
        v = score(case, answer)
        return {
            "id": case.id,
            "passed": v.passed,
            "failure": v.failure,
            "text": answer.raw_text or answer.content,
            "body": {k: body[k] for k in ("temperature", "top_p", "top_k", "repetition_penalty")},
        }

    async with httpx.AsyncClient(timeout=settings.timeout_s) as client:
        return await asyncio.gather(*(one(client, c) for c in cases))


def tune_inference(
    model: str,
    adapter: Path | None,
    suite_name: str,
    points: list[Sampling],
    out: Path,
    *,
    max_tokens: int = 96,
    limit: int = 0,
    console: Any = None,
    decode_concurrency: int = 8,
) -> TuneResult:
    from punie.evaluate.suite import load_suite
    from punie.flywheel.evals import dev_draws
    from punie.serve.endpoints import Endpoint, resolve_model_path
    from punie.serve.server import ManagedServer

    # Choosing settings is a decision: on the dev draw of a built-in suite, never the
    # test draw the reports quote.
    (dev,) = dev_draws([suite_name])
    if console is not None and dev != suite_name:
        console.print(f"tuning on {dev}, the dev draw of {suite_name}")
    suite = load_suite(dev)
    cases = suite.cases[:limit] if limit else suite.cases
    adapter = _adapter_dir(adapter)
    model_path = resolve_model_path(model)
    rows = []
    with ManagedServer(model_path, adapter=adapter, decode_concurrency=decode_concurrency) as srv:
        ep = Endpoint(srv.base_url, srv.model_name, srv, Path(model_path))
        for p in points:
            if console is not None:
                console.print(f"scoring {p.name} on {len(cases)} cases ...")
            results = asyncio.run(score_point(ep, suite, cases, p, max_tokens))
            fails: dict[str, int] = {}
            for r in results:
                if not r["passed"]:
                    fails[r["failure"]] = fails.get(r["failure"], 0) + 1
            passed = sum(r["passed"] for r in results)
            rows.append(
                {
                    "sampling": asdict(p),
                    "accuracy": passed / len(results),
                    "passed": passed,
                    "n": len(results),
                    "failures": fails,
                    "cases": results,
                }
            )
    rows.sort(key=lambda r: -r["accuracy"])
    out = Path(out)
    atomic.write_json(
        out / "tune.json",
        {
            "model": str(model_path),
            "adapter": str(adapter) if adapter else None,
            "suite": suite.name,
            "rows": rows,
        },
    )
    return TuneResult(out / "tune.json", rows)


def _adapter_dir(adapter: Path | None) -> Path | None:
    """An adapter folder, or a run folder holding `adapter/`."""
    if adapter is None:
        return None
    a = Path(adapter)
    if (a / "adapter" / "adapters.safetensors").is_file():
        return a / "adapter"
    return a
