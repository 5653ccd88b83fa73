"""Sampling settings really reach mlx_lm.server: at temperature 2 the tiny model's
answers are random, unless top_k=1 (or a tiny top_p) makes sampling greedy again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from punie.evaluate.suite import load_suite
from punie.flywheel.tune import Sampling, score_point, tune_inference
from punie.serve.endpoints import Endpoint
from punie.serve.server import ManagedServer


def test_top_k_and_top_p_reach_the_server(tiny_model: Path, small_suite: Path):
    suite = load_suite(small_suite)
    cases = suite.cases
    with ManagedServer(tiny_model, decode_concurrency=2) as srv:
        ep = Endpoint(srv.base_url, srv.model_name, srv, tiny_model)

        def texts(s: Sampling, seed: int = 0) -> list[str]:
            rows = asyncio.run(score_point(ep, suite, cases, s, max_tokens=12, seed=seed))
            assert all(r["body"]["top_k"] == s.top_k for r in rows)
            return [r["text"] for r in rows]

        greedy = texts(Sampling(temperature=0.0))
        hot = [texts(Sampling(temperature=2.0), seed=s) for s in (1, 2)]
        assert any(h != greedy for h in hot)  # temperature 2 really samples
        assert texts(Sampling(temperature=2.0, top_k=1), seed=1) == greedy
        assert texts(Sampling(temperature=2.0, top_p=1e-9), seed=2) == greedy


def test_tune_inference_writes_a_sorted_table(tmp_path: Path, tiny_model: Path, small_suite: Path):
    points = [Sampling(temperature=0.0), Sampling(temperature=1.0, repetition_penalty=1.3)]
    res = tune_inference(str(tiny_model), None, str(small_suite), points, tmp_path, max_tokens=8)
    assert res.path.is_file() and len(res.rows) == 2
    accs = [r["accuracy"] for r in res.rows]
    assert accs == sorted(accs, reverse=True)
    assert {r["sampling"]["repetition_penalty"] for r in res.rows} == {1.0, 1.3}


def test_tune_inference_scores_a_built_in_suite_on_its_dev_draw(tmp_path: Path, tiny_model: Path):
    res = tune_inference(
        str(tiny_model), None, "tools", [Sampling()], tmp_path, max_tokens=4, limit=1
    )
    assert json.loads(res.path.read_text())["suite"] == "tools-dev"
