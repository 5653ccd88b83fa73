"""train_on="assistant": one trace, every assistant turn trained in one example, equals
the expanded per-turn examples (each trained on its last turn) over the same tokens."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import tiny_config, write_chat_data
from punie.toolspec import READ_FILE
from punie.train.batches import Spans, collate
from punie.train.loss import loss_positions, target_mask


def _call(i: int, path: str) -> dict:
    return {
        "id": f"call_{i}",
        "type": "function",
        "function": {"name": "read_file", "arguments": json.dumps({"path": path})},
    }


def trace_row(k: int = 0) -> dict:
    """system, user, call, result, call, result, answer: three assistant turns."""
    return {
        "tools": [READ_FILE],
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": f"What do setup.py and notes.txt say? ({k})"},
            {"role": "assistant", "content": "", "tool_calls": [_call(0, "setup.py")]},
            {"role": "tool", "tool_call_id": "call_0", "content": "from setuptools import setup"},
            {"role": "assistant", "content": "", "tool_calls": [_call(1, "notes.txt")]},
            {"role": "tool", "tool_call_id": "call_1", "content": f"remember the milk {k}"},
            {"role": "assistant", "content": "setup.py packages the app; notes.txt is a list."},
        ],
    }


@pytest.fixture(scope="module")
def tok(tiny_model):
    from mlx_lm.utils import load

    return load(str(tiny_model))[1]


def test_spans_cover_exactly_the_assistant_tokens(tok):
    from punie.train.dataset import assistant_spans

    row = trace_row()
    msgs, tools = row["messages"], row["tools"]
    tokens, spans = assistant_spans(tok, row)
    assert len(spans) == 3
    text = tok.apply_chat_template(msgs, tools=tools, tokenize=False)
    outside = []
    last = 0
    for (s, e), i in zip(spans, (2, 4, 6), strict=True):
        before = tok.apply_chat_template(
            msgs[:i], tools=tools, add_generation_prompt=True, tokenize=False
        )
        upto = tok.apply_chat_template(msgs[: i + 1], tools=tools, tokenize=False)
        assert text.startswith(upto) and upto.startswith(before)
        assert tok.decode(tokens[s:e]) == upto[len(before) :]
        assert "<|im_end|>" in tok.decode(tokens[s:e])  # the end-of-turn token is trained
        outside.append(tok.decode(tokens[last:s]))
        last = e
    assert e == len(tokens)
    prompt = "".join(outside)
    for m in msgs:
        if m["role"] != "assistant":
            assert m["content"] in prompt  # system, user and tool results stay untrained


def test_a_template_breaking_the_prefix_property_fails_with_file_and_line(tmp_path):
    from punie.errors import PunieError
    from punie.train.dataset import load_split

    class Rewriting:
        """A template that renders the message count first: prefixes differ."""

        def apply_chat_template(self, messages, tools=None, add_generation_prompt=False, **kw):
            return [len(messages)] + [7] * (3 * len(messages) + add_generation_prompt)

    path = tmp_path / "train.jsonl"
    path.write_text("\n" + json.dumps(trace_row()) + "\n")
    ds = load_split(path, Rewriting(), mask_prompt=True)
    with pytest.raises(PunieError, match=f"{path}:2: the chat template"):
        ds[0]


def test_last_is_mlx_lm_mask_prompt_and_single_turn_rows_train_the_same(tok, chat_data):
    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset

    from punie.train.dataset import load_datasets

    ref = CacheDataset(load_local_dataset(chat_data, tok, argparse.Namespace(mask_prompt=True))[0])
    last = load_datasets(chat_data, tok, True, "last")[0]
    every = load_datasets(chat_data, tok, True, "assistant")[0]
    assert [last[i] for i in range(len(last))] == [ref[i] for i in range(len(ref))]
    for i in range(0, len(ref) - 3, 4):
        b_ref, l_ref = collate([ref[j] for j in range(i, i + 4)], 2048)
        b_all, s_all = collate([every[j] for j in range(i, i + 4)], 2048)
        assert isinstance(s_all, Spans) and np.array_equal(np.array(b_ref), np.array(b_all))
        ref_pos = loss_positions(l_ref, b_ref.shape[1])
        all_pos = loss_positions(s_all, b_all.shape[1])
        assert all(np.array_equal(a, b) for a, b in zip(ref_pos, all_pos, strict=True))
    # mask_prompt off: everything is trained, whatever train_on says.
    off = load_datasets(chat_data, tok, False, "assistant")[0]
    assert off[0][1] == 0


def test_span_positions_and_mask_agree_with_mlx_lm_rows():
    lengths = [[0, 5], [3, 7], [7, 7], [9, 4]]
    width = 8
    index, weight = loss_positions(lengths, width)
    spans = Spans.of(np.array(lengths))
    for a, b in zip((index, weight), loss_positions(spans, width), strict=True):
        assert np.array_equal(a, b)
    mask = target_mask(spans, width).reshape(-1)
    assert sorted(index[weight].tolist()) == np.flatnonzero(mask).tolist()
    two = Spans((((2, 4), (5, 7)),), (7,))  # two turns, the second reaching the end
    idx, w = loss_positions(two, 9)
    assert idx[w].tolist() == [1, 2, 4, 5, 6]


def _model(tiny_model, chat_data, kind: str):
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_unflatten
    from mlx_lm.utils import load

    from punie.train import engine

    model, _ = load(str(tiny_model))
    over = {"rank": 4} if kind == "lora" else {"fine_tune_type": "full", "num_layers": 1}
    engine.apply_adapters(model, tiny_config(tiny_model, chat_data, mask_prompt=True, **over))
    mx.random.seed(0)
    nonzero = [  # lora_b starts at zero, which would zero every lora_a gradient
        (k, 0.05 * mx.random.normal(v.shape))
        for k, v in tree_flatten(model.trainable_parameters())
        if k.endswith("lora_b")
    ]
    model.update(tree_unflatten(nonzero))
    return model


def _sum_grad(model, fn, *args):
    import mlx.nn as nn
    from mlx.utils import tree_flatten

    def total(m, *a):
        loss, n = fn(m, *a)
        return loss * n

    value, grad = nn.value_and_grad(model, total)(model, *args)
    return float(value), {k: np.array(v) for k, v in tree_flatten(grad)}


@pytest.mark.parametrize("kind", ["lora", "full"])
def test_all_turns_loss_and_gradients_equal_the_expanded_examples(tiny_model, chat_data, tok, kind):
    import mlx.core as mx
    from mlx_lm.tuner.datasets import ChatDataset
    from mlx_lm.tuner.trainer import default_loss

    from punie.data.traces import expand_rows
    from punie.train.dataset import assistant_spans
    from punie.train.loss import head_of, masked_loss, selective_loss

    model = _model(tiny_model, chat_data, kind)
    head = head_of(model)
    row = trace_row()
    batch, spans = collate([assistant_spans(tok, row)], 2048)
    index, weight = (mx.array(a) for a in loss_positions(spans, batch.shape[1]))
    sel = _sum_grad(model, lambda m, *a: selective_loss(m, head, *a), batch, index, weight)
    mask = mx.array(target_mask(spans, batch.shape[1]))
    full = _sum_grad(model, masked_loss, batch, mask)

    expanded = expand_rows([row])
    assert len(expanded) == 3
    ds = ChatDataset(expanded, tok, mask_prompt=True)
    ref_sum, ref_grad = 0.0, None
    for k, r in enumerate(expanded):
        tokens, offset = ds.process(r)
        assert tokens == np.array(batch)[0, : len(tokens)].tolist()  # the trace's own prefix
        b, lengths = collate([(tokens, offset)], 2048)
        if k < len(expanded) - 1:  # only the turn's tokens: not mlx-lm's pad after the end
            lengths = mx.array([[offset, len(tokens) - 1]])
        value, grad = _sum_grad(model, default_loss, b, lengths)
        ref_sum += value
        ref_grad = grad if ref_grad is None else {n: ref_grad[n] + grad[n] for n in grad}

    assert int(np.array(weight).sum()) == sum(e - s for s, e in spans.rows[0]) + 1
    for value, grad in (sel, full):
        assert value == pytest.approx(ref_sum, rel=1e-5)
        assert grad.keys() == ref_grad.keys() and len(grad) >= 2
        for name, a in ref_grad.items():
            assert np.abs(a).max() > 0, name
            np.testing.assert_allclose(
                grad[name], a, rtol=1e-5, atol=1e-5 * np.abs(a).max(), err_msg=name
            )


def _write_traces(out: Path) -> Path:
    write_chat_data(out, n_train=16, n_valid=4)
    for name, n in (("train", 16), ("valid", 4)):
        with open(out / f"{name}.jsonl", "a") as f:
            for k in range(n):
                f.write(json.dumps(trace_row(k)) + "\n")
    return out


def test_evaluate_with_spans_selective_equals_full(tiny_model, chat_data, tok, tmp_path):
    from punie.train import engine
    from punie.train.dataset import load_datasets

    model = _model(tiny_model, chat_data, "lora")
    valid = load_datasets(_write_traces(tmp_path / "d"), tok, True, "assistant")[1]
    batches = [[0, 1, 4, 5], [2, 3, 6, 7]]  # single-turn rows and traces mixed
    full = engine.evaluate(model, valid, batches, 2048)
    sel = engine.evaluate(model, valid, batches, 2048, selective=True)
    assert sel == pytest.approx(full, rel=1e-5)


def test_a_run_on_traces_trains_more_tokens_with_assistant_than_last(tiny_model, tmp_path):
    from punie.train.rundir import read_events
    from punie.train.runner import train

    data = _write_traces(tmp_path / "traces")
    trained = {}
    for train_on in ("assistant", "last"):
        cfg = tiny_config(tiny_model, data, mask_prompt=True, train_on=train_on, iters=3)
        assert cfg.dump()["train_on"] == train_on
        r = train(cfg, tmp_path / train_on)
        assert r.outcome == "completed" and np.isfinite(r.final_val_loss)
        ends = [e for e in read_events(r.metrics_path) if e["event"] == "end"]
        trained[train_on] = ends[-1]["trained_tokens"]
    assert trained["assistant"] > trained["last"] > 0
