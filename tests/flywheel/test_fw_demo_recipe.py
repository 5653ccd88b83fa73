"""The demo recipe is a valid flywheel config whose targets name its own suites."""

from __future__ import annotations

from pathlib import Path

from punie.flywheel.demo_recipe import DEMO, DEMO_ENDINGS, DEMO_TARGETS, demo_config, demo_targets
from punie.flywheel.evals import load_suites
from punie.flywheel.report import verdict


def test_demo_recipe_is_a_valid_train_config(tmp_path: Path):
    cfg = DEMO.train_config("smollm2-135m", tmp_path)
    assert cfg.mask_prompt and cfg.num_layers == DEMO.train["num_layers"]
    names = {s.name for s in load_suites(DEMO.eval.suites)}
    assert {k.split("/")[0] for k in DEMO_TARGETS} <= names


def test_the_dev_demo_scores_the_dev_draw_only():
    dev = demo_config(dev=True)
    assert dev.eval.suites == ("tasks-dev",) and dev.train == DEMO.train
    assert set(demo_targets(True)) == {"tasks-dev", "tasks-dev/no_tool"}
    assert demo_config(seed=2).train["seed"] == 2


def test_the_demo_reports_test_draws_only():
    from punie.flywheel.evals import dev_draws

    # Each suite it reports has a dev draw beside it, which is not the one reported.
    assert DEMO.eval.suites and all(dev_draws([s]) == (f"{s}-dev",) for s in DEMO.eval.suites)


class _C:
    def __init__(self, base, new, cats=None):
        self.base_accuracy, self.new_accuracy = base, new
        self.delta_points = (new - base) * 100
        self.label = "SUCCESS"
        self.per_category = {
            k: {"n": 3, "base": b, "new": n, "delta_points": (n - b) * 100}
            for k, (b, n) in (cats or {}).items()
        }


def test_verdict_is_measured_against_each_target():
    ok = verdict({"tasks": _C(0.1, 0.6, {"no_tool": (1.0, 1.0)})}, DEMO_TARGETS)
    assert ok["label"] == "TARGETS MET" and ok["met"]
    low = verdict({"tasks": _C(0.1, 0.4, {"no_tool": (1.0, 1.0)})}, DEMO_TARGETS)
    assert low["label"] == "TARGETS NOT MET"


def test_a_category_target_is_checked_on_its_own():
    dropped = verdict({"tasks": _C(0.1, 0.9, {"no_tool": (1.0, 0.667)})}, DEMO_TARGETS)
    assert not dropped["met"]
    assert [(s["suite"], s["met"]) for s in dropped["suites"]] == [
        ("tasks", True),
        ("tasks/no_tool", False),
    ]


class _R:
    def __init__(self, suite, endings):
        self.suite = suite
        self.cases = [type("Case", (), {"ended_by": e})() for e in endings]


def test_an_adapted_task_ended_by_the_repeat_guard_fails_the_verdict():
    c = {"tasks": _C(0.1, 0.9, {"no_tool": (1.0, 1.0)})}
    clean = verdict(c, DEMO_TARGETS, DEMO_ENDINGS, [_R("tasks", ["answer", "answer"])])
    assert clean["met"]
    looped = verdict(c, DEMO_TARGETS, DEMO_ENDINGS, [_R("tasks", ["answer", "repeat_guard"])])
    assert not looped["met"] and looped["limits"][0]["count"] == 1


def test_answer_turns_are_rows_ending_in_text_after_a_tool_result():
    from punie.flywheel.pipeline import is_answer_turn

    call = {"role": "assistant", "content": "", "tool_calls": [{"id": "c", "type": "function"}]}
    user = {"role": "user", "content": "read a.py"}
    result = {"role": "tool", "tool_call_id": "c", "content": "x = 1"}
    answer = {"role": "assistant", "content": "a.py sets x."}
    assert is_answer_turn({"messages": [user, call, result, answer]})
    assert not is_answer_turn({"messages": [user, call]})
    assert not is_answer_turn({"messages": [user, call, result, call]})
    assert not is_answer_turn({"messages": [user, answer]})  # a direct (no-tool) answer


def test_subset_keeps_the_category_mix_and_file_order():
    from punie.evaluate.suite import load_suite
    from punie.flywheel.evals import subset

    full = load_suite("tools")  # a single-turn suite; task suites subset the same way
    small = subset(full, 12)
    assert len(small.cases) == 12 and small.name == full.name
    assert len({c.category for c in small.cases}) == len({c.category for c in full.cases})
    ids = [c.id for c in full.cases]
    assert [ids.index(c.id) for c in small.cases] == sorted(ids.index(c.id) for c in small.cases)
    assert small.fingerprint() != full.fingerprint()


def test_bad_configs_fail_before_any_stage(tmp_path: Path):
    import pytest

    from punie.errors import PunieError
    from punie.flywheel.config import load_config
    from punie.flywheel.sweep import load_sweep

    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nrank = 0\n")
    with pytest.raises(PunieError, match="train.rank"):
        load_config(bad)
    bad.write_text("[train]\nrank = 4\n[sweep]\nwarp = [1, 2]\n")
    with pytest.raises(PunieError, match="sweep.warp is not a sweepable"):
        load_sweep(bad)
    bad.write_text("[data]\nn = -1\n")
    with pytest.raises(PunieError, match="data.n"):
        load_config(bad)


def test_report_prints_losses_to_four_significant_digits():
    from punie.flywheel.report import _loss

    assert _loss(0.04661582410335541) == "0.04662"
    assert _loss(None) == "-"
