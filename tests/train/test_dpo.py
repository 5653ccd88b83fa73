"""Preference training: the DPO/ORPO losses, the reference (the base with the adapter
off, no second copy), pair validation, and `punie train --method dpo` end to end on
the tiny model, which raises the chosen call's log-probability over the rejected one's."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import tiny_config
from punie.cli import app
from punie.data.pairs import check_pair, validate_pairs
from punie.toolspec import READ_FILE, RUN_COMMAND, SYSTEM_PROMPT
from punie.train.rundir import read_events

_FILES = ["README.md", "src/app/main.py", "tests/test_utils.py", "notes.txt", "setup.py"]


def _call(name: str, args: dict, cid: str = "call_1") -> dict:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": cid,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
        ],
    }


def _pair(i: int) -> dict:
    """What harvest makes of a turn: the call the user rejected, and the approved call
    that followed it. Odd pairs sit mid-trace, after an earlier call and its result."""
    path = _FILES[i % len(_FILES)]
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Read the file {path} ({i}) and tell me what it does."},
    ]
    if i % 2:
        messages += [
            _call("read_file", {"path": "missing.txt"}, "call_0"),
            {"role": "tool", "tool_call_id": "call_0", "content": "Error: file not found."},
        ]
    return {
        "tools": [READ_FILE, RUN_COMMAND],
        "messages": messages,
        "chosen": _call("read_file", {"path": path}),
        "rejected": _call("run_command", {"command": f"cat {path}"}),
    }


def write_pairs(out: Path, n_train: int = 8, n_valid: int = 4) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", range(n_train)), ("valid", range(n_train, n_train + n_valid))):
        (out / f"{name}.jsonl").write_text("".join(json.dumps(_pair(i)) + "\n" for i in rows))
    return out


@pytest.fixture(scope="module")
def pairs_dir(tmp_path_factory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("pairs") / "pairs")


@pytest.fixture(scope="module")
def loaded(tiny_model, pairs_dir):
    """The tiny model's tokenizer and the valid pairs, tokenised and batched."""
    from mlx_lm.utils import load

    from punie.train.pair_batches import collate_pairs, load_pairs

    _, tok = load(str(tiny_model))
    pairs = load_pairs(pairs_dir / "valid.jsonl", tok, 2048)
    return tok, pairs, collate_pairs(pairs, 2048)


def _adapted(tiny_model, pairs_dir, **overrides):
    """The tiny model with LoRA applied and lora_b made non-zero, so the adapter matters."""
    import mlx.core as mx
    from mlx_lm.utils import load

    from punie.train import engine

    model, _ = load(str(tiny_model))
    cfg = tiny_config(tiny_model, pairs_dir, method="dpo", **overrides)
    engine.apply_adapters(model, cfg)
    mx.random.seed(1)
    for _, m in model.named_modules():
        if "lora_b" in m:
            m.lora_b = mx.random.normal(m.lora_b.shape) * 0.5
    return model, cfg


# The losses ---------------------------------------------------------------------------


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_dpo_loss_matches_the_formula():
    import mlx.core as mx

    from punie.train.dpo import dpo_loss

    pc, pr = np.array([-10.0, -4.0]), np.array([-12.0, -3.0])
    rc, rr = np.array([-11.0, -5.0]), np.array([-11.5, -3.5])
    beta = 0.1
    logits = (pc - pr) - (rc - rr)
    want = -np.log(_sigmoid(beta * logits))
    losses, margins = dpo_loss(mx.array(np.r_[pc, pr]), mx.array(np.r_[rc, rr]), mx.ones(4), beta)
    np.testing.assert_allclose(np.array(losses), want, rtol=1e-6)
    np.testing.assert_allclose(np.array(margins), beta * logits, rtol=1e-6)


def test_orpo_loss_matches_the_formula():
    import mlx.core as mx

    from punie.train.dpo import orpo_loss

    sums, counts, lam = np.array([-6.0, -9.0, -8.0, -3.0]), np.array([3.0, 3.0, 2.0, 6.0]), 0.1
    mean = sums / counts
    odds = np.log(np.exp(mean) / (1 - np.exp(mean)))
    want = -mean[:2] - lam * np.log(_sigmoid(odds[:2] - odds[2:]))
    losses, _ = orpo_loss(mx.array(sums), mx.zeros(4), mx.array(counts), lam)
    np.testing.assert_allclose(np.array(losses), want, rtol=1e-5)


@pytest.mark.parametrize("share_prefix", [True, False])
def test_answer_logps_sum_log_softmax_over_the_answer_tokens(tiny_model, loaded, share_prefix):
    """Against the model's full logits in numpy: the sum over each answer's tokens (its
    end-of-turn included), nothing of the prompt; with and without a shared prefix."""
    from mlx_lm.utils import load

    from punie.train.dpo import body_args, pair_logps

    model, _ = load(str(tiny_model))
    _, pairs, batch = loaded
    assert body_args(model, batch.tokens, share_prefix)[0] == (
        "prefix" if share_prefix else "plain"
    )
    got = np.array(pair_logps(model, batch, share_prefix=share_prefix))
    rows = [(p.chosen, p.chosen_start) for p in pairs] + [
        (p.rejected, p.rejected_start) for p in pairs
    ]
    for j, (ids, start) in enumerate(rows):
        logits = np.array(model(batch.tokens[j : j + 1, : len(ids) - 1])[0], np.float64)
        top = logits.max(-1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
        want = sum(logp[t, ids[t + 1]] for t in range(start - 1, len(ids) - 1))
        assert got[j] == pytest.approx(want, rel=1e-4)


# The reference --------------------------------------------------------------------------


@pytest.mark.parametrize("fine_tune_type", ["lora", "dora"])
def test_reference_log_probs_are_the_base_models_exactly(
    tiny_model, pairs_dir, loaded, fine_tune_type
):
    import mlx.core as mx
    from mlx_lm.utils import load

    from punie.train.dpo import Reference, pair_logps

    model, cfg = _adapted(tiny_model, pairs_dir, fine_tune_type=fine_tune_type)
    base, _ = load(str(tiny_model))
    _, pairs, batch = loaded
    ref = Reference(model, cfg).logps(list(range(len(pairs))), batch)
    assert mx.array_equal(ref, pair_logps(base, batch)).item()
    assert not mx.allclose(pair_logps(model, batch), ref, atol=1e-2).item()  # adapter is on


def test_reference_uses_the_models_own_weights_no_second_copy(tiny_model, pairs_dir):
    from mlx.utils import tree_flatten

    from punie.train.dpo import Reference

    model, cfg = _adapted(tiny_model, pairs_dir)
    adapted = {id(v) for _, v in tree_flatten(model.parameters())}
    trainable = [k for k, _ in tree_flatten(model.trainable_parameters())]
    with Reference(model, cfg).adapter_off() as base:
        assert base is model
        off = tree_flatten(model.parameters())
        assert {id(v) for _, v in off} <= adapted  # the same arrays, none copied
        assert not any(".lora_" in k for k, _ in off)
    assert [k for k, _ in tree_flatten(model.trainable_parameters())] == trainable


def test_full_fine_tuning_reference_is_the_starting_weights(tiny_model, pairs_dir, loaded):
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_map
    from mlx_lm.utils import load

    from punie.train import engine
    from punie.train.dpo import Reference, pair_logps

    model, _ = load(str(tiny_model))
    cfg = tiny_config(tiny_model, pairs_dir, method="dpo", fine_tune_type="full", num_layers=1)
    engine.apply_adapters(model, cfg)
    reference = Reference(model, cfg)
    moved = tree_map(lambda w: w + 0.05, model.trainable_parameters())
    model.update(moved)  # what training does
    base, _ = load(str(tiny_model))
    _, pairs, batch = loaded
    assert mx.array_equal(
        reference.logps(list(range(len(pairs))), batch), pair_logps(base, batch)
    ).item()
    now = dict(tree_flatten(model.trainable_parameters()))
    assert all(mx.array_equal(now[k], v).item() for k, v in tree_flatten(moved))  # restored


# Pair validation ------------------------------------------------------------------------


def _broken(change) -> dict:
    row = _pair(1)
    change(row)
    return row


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("rejected"), "pair has no `rejected`"),
        (lambda r: r["chosen"].update(role="user"), "`chosen` role is 'user'"),
        (lambda r: r.update(rejected=r["chosen"]), "`chosen` and `rejected` are the same"),
        (
            lambda r: r["messages"].append(_call("list_dir", {})),
            "`messages` ends with a 'assistant'",
        ),
        (
            lambda r: r.update(chosen=_call("list_dir", {"path": "."})),
            "`chosen` calls undeclared tool 'list_dir'",
        ),
        (
            lambda r: r["rejected"]["tool_calls"][0]["function"].update(arguments="{oops"),
            "`rejected`.tool_calls[0] (run_command) arguments is not valid JSON",
        ),
        (lambda r: r["messages"][1].update(content=""), "messages[1] (user) content is empty"),
    ],
)
def test_bad_pair_is_named(change, message):
    problems = [what for what, _ in check_pair(_broken(change))]
    assert any(message in p for p in problems), problems


def test_rejected_call_may_break_the_tool_schema():
    """A refused call is what a pair pushes down: an undeclared tool or missing argument
    on the rejected side is fine (it only has to render)."""
    row = _broken(lambda r: r.update(rejected=_call("delete_everything", {})))
    assert check_pair(row) == []


def test_pairs_file_reports_file_and_line(tmp_path, pairs_dir):
    d = tmp_path / "bad"
    d.mkdir()
    good = (pairs_dir / "train.jsonl").read_text()
    (d / "train.jsonl").write_text(good + json.dumps(_broken(lambda r: r.pop("chosen"))) + "\n")
    (d / "valid.jsonl").write_text("not json\n")
    errors = [str(e) for e in validate_pairs(d).errors]
    assert errors[0].startswith(f"{d / 'train.jsonl'}:9: pair has no `chosen`")
    assert errors[1].startswith(f"{d / 'valid.jsonl'}:1: invalid JSON")


def test_cli_refuses_bad_pairs_with_file_line_and_exit_2(tiny_model, pairs_dir, tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "train.jsonl").write_text(
        (pairs_dir / "train.jsonl").read_text()
        + json.dumps(_broken(lambda r: r.update(rejected=r["chosen"])))
        + "\n"
    )
    (d / "valid.jsonl").write_text((pairs_dir / "valid.jsonl").read_text())
    run_dir = tmp_path / "run"
    args = ["train", "--method", "dpo", "--model", str(tiny_model), "--data", str(d)]
    r = CliRunner().invoke(app, [*args, "--run-dir", str(run_dir)])
    assert r.exit_code == 2, r.output
    assert f"{d / 'train.jsonl'}:9: `chosen` and `rejected` are the same" in r.output
    assert not run_dir.exists()


def test_sft_data_given_to_dpo_is_refused(tiny_model, chat_data):
    r = CliRunner().invoke(
        app, ["train", "--method", "dpo", "--model", str(tiny_model), "--data", str(chat_data)]
    )
    assert r.exit_code == 2 and "pair has no `chosen`, `rejected`" in r.output


def test_prompt_longer_than_max_seq_length_is_a_config_error(tiny_model, pairs_dir, tmp_path):
    from punie.errors import PunieError
    from punie.train.runner import train

    cfg = tiny_config(tiny_model, pairs_dir, method="dpo", max_seq_length=16, iters=1)
    with pytest.raises(PunieError, match=r"train.jsonl:1: the prompt is \d+ tokens"):
        train(cfg, tmp_path / "run")


# End to end -----------------------------------------------------------------------------

_RUN = [
    "--method", "dpo", "--beta", "0.1", "--rank", "8", "--lr", "5e-2", "--iters", "8",
    "--batch-size", "4", "--steps-per-report", "1", "--steps-per-eval", "4",
    "--steps-per-save", "4", "--val-batches", "1", "--json",
]  # fmt: skip


@pytest.fixture(scope="module")
def dpo_run(tiny_model, pairs_dir, tmp_path_factory):
    """`punie train --method dpo` on the pairs: LoRA, 8 updates (about 10 s here)."""
    run_dir = tmp_path_factory.mktemp("runs") / "dpo"
    args = [
        "train",
        "--model",
        str(tiny_model),
        "--data",
        str(pairs_dir),
        "--run-dir",
        str(run_dir),
    ]
    r = CliRunner().invoke(app, [*args, *_RUN])
    return r, run_dir


def test_cli_dpo_run_completes_and_records_method_and_beta(dpo_run):
    r, run_dir = dpo_run
    assert r.exit_code == 0, r.output
    result = json.loads(r.output.splitlines()[-1])
    assert (result["event"], result["outcome"], result["steps"]) == ("result", "completed", 8)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert (manifest["config"]["method"], manifest["config"]["beta"]) == ("dpo", 0.1)
    assert len(manifest["data"]["sha256"]) == 64
    adapter_config = json.loads((run_dir / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["lora_parameters"]["rank"] == 8


def test_dpo_events_report_reward_margin_and_accuracy(dpo_run):
    _, run_dir = dpo_run
    events = read_events(run_dir / "metrics.jsonl")
    trains = [e for e in events if e["event"] == "train"]
    vals = [e for e in events if e["event"] == "val"]
    assert [t["step"] for t in trains] == list(range(1, 9))
    assert all({"train_loss", "reward_margin", "accuracy"} <= set(t) for t in trains)
    # Before training the policy is the reference: loss log 2, margin 0, nothing won.
    first = vals[0]
    assert first["step"] == 0 and first["val_loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert (first["val_reward_margin"], first["val_accuracy"]) == (0.0, 0.0)
    assert vals[-1]["val_reward_margin"] > 0 and vals[-1]["val_loss"] < math.log(2)


def _margins(model, tok, pairs_dir: Path) -> np.ndarray:
    """chosen - rejected answer log-prob per pair, with Punie's code."""
    from punie.train.dpo import pair_logps
    from punie.train.pair_batches import collate_pairs, load_pairs

    pairs = load_pairs(pairs_dir / "train.jsonl", tok, 2048)
    sums = np.array(pair_logps(model, collate_pairs(pairs, 2048)))
    return sums[: len(pairs)] - sums[len(pairs) :]


def test_dpo_raises_the_chosen_calls_log_prob_over_the_rejected(tiny_model, pairs_dir, dpo_run):
    from mlx_lm.utils import load

    _, run_dir = dpo_run
    base, tok = load(str(tiny_model))
    tuned, _ = load(str(tiny_model), adapter_path=str(run_dir / "adapter"))
    before, after = _margins(base, tok, pairs_dir), _margins(tuned, tok, pairs_dir)
    assert (after > before).all(), (before, after)
    assert (after - before).mean() > 2.0  # nats; measured ~9 on this data


def test_dpo_resume_continues_the_uninterrupted_run(tiny_model, pairs_dir, dpo_run, tmp_path):
    """Stopped at step 4 (its checkpoint) and resumed to 8: the same losses as one run,
    reference log-probs recomputed from the base."""
    from punie.train.runner import resume, train

    _, whole = dpo_run
    cfg = tiny_config(
        tiny_model, pairs_dir, method="dpo", rank=8, learning_rate=5e-2, iters=4,
        steps_per_eval=4, steps_per_save=4, val_batches=1,
    )  # fmt: skip
    train(cfg, tmp_path / "part")
    resume(tmp_path / "part", iters=8)
    losses = {
        run: [
            (e["step"], e["train_loss"])
            for e in read_events(run / "metrics.jsonl")
            if e["event"] == "train"
        ]
        for run in (whole, tmp_path / "part")
    }
    assert losses[tmp_path / "part"] == losses[whole]


def test_orpo_steps_lower_the_loss_and_raise_the_margin(tiny_model, pairs_dir):
    import mlx.core as mx
    from mlx_lm.utils import load

    from punie.train import engine
    from punie.train.dpo import PreferenceObjective
    from punie.train.pair_batches import load_pairs

    model, tok = load(str(tiny_model))
    cfg = tiny_config(tiny_model, pairs_dir, method="orpo", fine_tune_type="full")
    engine.apply_adapters(model, cfg)
    train = load_pairs(pairs_dir / "train.jsonl", tok, 2048)
    objective = PreferenceObjective(model, engine.build_optimizer(cfg), cfg, train, train, None)
    before = objective.evaluate([[0, 1, 2, 3]])
    for _ in range(4):
        loss, stats, _ = objective.step([0, 1, 2, 3], None, True)
        mx.eval(objective.state, loss, stats)
    after = objective.evaluate([[0, 1, 2, 3]])
    assert objective.reference is None  # ORPO has no reference model
    assert after["val_loss"] < before["val_loss"]
    assert after["val_reward_margin"] > before["val_reward_margin"]
