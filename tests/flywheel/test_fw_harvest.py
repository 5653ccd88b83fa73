"""Harvested sessions in `punie flywheel run`: the config keys, the weighted merge
(counts, determinism, the cache key following the harvested rows), the harvest-newer
suite beside the built-in ones, and bad input (PunieError, exit 2)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from punie.cli import app
from punie.data.schema import tool_call
from punie.errors import PunieError
from punie.flywheel import harvested
from punie.flywheel.config import FlywheelConfig, load_config
from punie.toolspec import AGENT_TOOLS
from punie.train.rundir import data_hash


def chat_row(i: int) -> dict:
    """A turn that read notes{i}.txt and answered with what it says."""
    cid = f"call_{i}"
    return {
        "messages": [
            {"role": "user", "content": f"what does notes{i}.txt say?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [tool_call(cid, "read_file", {"path": f"notes{i}.txt"})],
            },
            {"role": "tool", "tool_call_id": cid, "content": f"note number {i}\n"},
            {"role": "assistant", "content": f"It says note number {i}."},
        ],
        "tools": AGENT_TOOLS,
        "meta": {"source": "trace", "session_id": f"{i:03d}" + "s" * 29, "turn_id": f"{i:03d}turn"},
    }


def write_harvest(folder: Path, **splits: list[dict]) -> Path:
    """A harvest folder as `punie data harvest` writes one (non-empty splits only)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "harvest.json").write_text(json.dumps({"format": 1}))
    for name, rows in splits.items():
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def write_base(folder: Path, n: int = 6) -> Path:
    return write_harvest(folder, train=[chat_row(100 + i) for i in range(n)], valid=[chat_row(200)])


def config(tmp_path: Path, data: str, eval_: str = "") -> FlywheelConfig:
    p = tmp_path / "fw.toml"
    p.write_text(f'model = "smollm2-135m"\n[data]\n{data}\n[eval]\nsuites = ["no-tool"]\n{eval_}')
    return load_config(p)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


# --- config --------------------------------------------------------------------------


def test_one_harvest_path_is_a_list_of_one_relative_to_the_config_file(tmp_path):
    cfg = config(tmp_path, 'harvest = "data/harvest"')
    assert cfg.data.harvest == ((tmp_path / "data" / "harvest").resolve(),)
    assert cfg.data.harvest_weight == 1.0 and cfg.eval.harvest_suite is True


def test_several_harvest_paths_and_a_weight_are_read(tmp_path):
    cfg = config(tmp_path, 'harvest = ["a", "/abs/b"]\nharvest_weight = 2.5')
    assert cfg.data.harvest == ((tmp_path / "a").resolve(), Path("/abs/b"))
    assert cfg.data.harvest_weight == 2.5


def test_a_negative_weight_names_the_key_and_the_file(tmp_path):
    with pytest.raises(PunieError) as err:
        config(tmp_path, 'harvest = "h"\nharvest_weight = -1')
    assert err.value.where == str(tmp_path / "fw.toml")
    assert "data.harvest_weight" in str(err.value)


# --- the weighted merge --------------------------------------------------------------


@pytest.mark.parametrize(("weight", "total"), [(2.0, 20), (1.0, 10), (0.5, 5), (1.5, 15), (0, 0)])
def test_round_weight_times_n_harvested_rows_are_trained_on(weight, total):
    rows = [chat_row(i) for i in range(10)]
    out = harvested.weighted(rows, weight, seed=0)
    assert len(out) == total
    copies = Counter(r["meta"]["turn_id"] for r in out)
    assert set(copies.values()) <= {int(weight), int(weight) + 1}


def test_the_weighted_sample_is_the_same_for_the_same_seed_and_follows_it():
    rows = [chat_row(i) for i in range(10)]
    assert harvested.weighted(rows, 0.5, 3) == harvested.weighted(rows, 0.5, 3)
    draws = {
        tuple(r["meta"]["turn_id"] for r in harvested.weighted(rows, 0.5, s)) for s in range(4)
    }
    assert len(draws) > 1


def test_harvested_train_rows_join_train_and_valid_rows_join_valid_unweighted():
    base = {"train": [chat_row(1)], "valid": [chat_row(2)], "test": [chat_row(3)]}
    harvest = {"train": [chat_row(4)], "valid": [chat_row(5)]}
    splits, stats = harvested.merge(base, harvest, 3.0, 0)
    assert splits["train"] == [chat_row(1)] + [chat_row(4)] * 3
    assert splits["valid"] == [chat_row(2), chat_row(5)] and splits["test"] == [chat_row(3)]
    assert (stats["harvested_train"], stats["harvested_train_rows"]) == (1, 3)


def test_the_merged_folder_holds_the_weighted_rows_and_is_reused(tmp_path):
    h = write_harvest(tmp_path / "h", train=[chat_row(1), chat_row(2)], valid=[chat_row(3)])
    cfg = config(tmp_path, f'harvest = "{h}"\nharvest_weight = 2')
    base = write_base(tmp_path / "base", n=6)
    assert harvested.cached_merged(cfg, base, "m") is None
    out = harvested.make_merged(cfg, base, Path("unused"), "m")
    lines = {s: len((out / f"{s}.jsonl").read_text().splitlines()) for s in ("train", "valid")}
    assert lines == {"train": 6 + 2 * 2, "valid": 1 + 1}
    assert harvested.cached_merged(cfg, base, "m") == out
    assert harvested.merge_stats(out)["harvested_train_rows"] == 4


def test_a_changed_harvested_row_changes_the_cache_key_and_the_data_hash(tmp_path):
    h = write_harvest(tmp_path / "h", train=[chat_row(1)])
    cfg = config(tmp_path, f'harvest = "{h}"')
    base = write_base(tmp_path / "base")
    first = harvested.make_merged(cfg, base, Path("unused"), "m")
    before = data_hash(first)
    write_harvest(h, train=[chat_row(7)])
    assert harvested.cached_merged(cfg, base, "m") is None
    second = harvested.make_merged(cfg, base, Path("unused"), "m")
    assert second != first and data_hash(second) != before


def test_the_weight_is_part_of_the_cache_key(tmp_path):
    h = write_harvest(tmp_path / "h", train=[chat_row(1)])
    base = write_base(tmp_path / "base")
    one = config(tmp_path, f'harvest = "{h}"\nharvest_weight = 1')
    two = config(tmp_path, f'harvest = "{h}"\nharvest_weight = 2')
    assert harvested.merged_dir(one, base, "m") != harvested.merged_dir(two, base, "m")


# --- bad input -----------------------------------------------------------------------


def test_a_missing_harvest_folder_is_a_punie_error_with_the_fix(tmp_path):
    with pytest.raises(PunieError, match="harvest folder not found.*punie data harvest"):
        harvested.harvested_rows((tmp_path / "nope",))


def test_a_malformed_harvested_row_names_its_file_and_line(tmp_path):
    h = write_harvest(tmp_path / "h", train=[chat_row(1)])
    with open(h / "train.jsonl", "a") as f:
        f.write('{"messages": [{"role": "user"}]}\n')
    with pytest.raises(PunieError) as err:
        harvested.harvested_rows((h,))
    assert err.value.where == f"{h / 'train.jsonl'}:2"


def test_flywheel_run_with_a_missing_harvest_folder_exits_2_before_any_stage(tmp_path):
    p = tmp_path / "fw.toml"
    p.write_text('[data]\nharvest = "nope"\n[eval]\nsuites = ["no-tool"]\n')
    result = CliRunner().invoke(app, ["flywheel", "run", str(p), "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert f"{(tmp_path / 'nope').resolve()}: harvest folder not found" in result.output
    assert not (tmp_path / "r" / "stages.json").exists()


# --- the harvest-newer suite ---------------------------------------------------------


def test_the_held_out_sessions_become_a_suite_beside_the_configured_ones(tmp_path):
    h = write_harvest(tmp_path / "h", train=[chat_row(1)], test=[chat_row(2), chat_row(3)])
    suites, info = harvested.newer_suites(config(tmp_path, f'harvest = "{h}"'), ["no-tool"])
    assert [s.name for s in suites] == ["harvest-newer"] and len(suites[0].cases) == 2
    assert suites[0].cases[0].workspace == {"notes2.txt": "note number 2\n"}
    assert info["suite"]["cases"] == 2


def test_a_harvest_with_no_test_split_runs_without_the_suite_and_says_why(tmp_path):
    h = write_harvest(tmp_path / "h", train=[chat_row(1)])
    suites, info = harvested.newer_suites(config(tmp_path, f'harvest = "{h}"'), ["no-tool"])
    assert suites == [] and "held out no test session" in info["suite"]["note"]


def test_harvest_suite_false_trains_on_the_harvest_without_scoring_it(tmp_path):
    h = write_harvest(tmp_path / "h", train=[chat_row(1)], test=[chat_row(2)])
    cfg = config(tmp_path, f'harvest = "{h}"', "harvest_suite = false")
    assert harvested.newer_suites(cfg, ["no-tool"]) == ([], {"suite": None})


def test_a_configured_suite_of_the_same_name_is_refused(tmp_path):
    h = write_harvest(tmp_path / "h", test=[chat_row(2)])
    with pytest.raises(PunieError, match="already has a suite named 'harvest-newer'"):
        harvested.newer_suites(config(tmp_path, f'harvest = "{h}"'), ["harvest-newer"])


def test_the_run_says_what_the_harvest_added(tmp_path):
    from io import StringIO

    from rich.console import Console

    from punie.flywheel.cli import _harvest_lines

    h = write_harvest(tmp_path / "h", train=[chat_row(1)], test=[chat_row(2)])
    cfg = config(tmp_path, f'harvest = "{h}"\nharvest_weight = 2')
    _, info = harvested.newer_suites(cfg, ["no-tool"])
    info["merge"] = harvested.merge(
        {"train": [], "valid": []}, harvested.harvested_rows(cfg.data.harvest), 2.0, 0
    )[1]
    out = StringIO()
    _harvest_lines(info, Console(file=out, width=200))
    assert out.getvalue().splitlines() == [
        "harvest: 1 train rows x 2 -> 2 in train, 0 in valid",
        "harvest-newer: 1 of 1 held-out turns as tasks (skipped: none)",
    ]


# --- end to end ----------------------------------------------------------------------


def test_flywheel_run_trains_on_the_harvest_and_scores_harvest_newer(
    tmp_path: Path, tiny_model: Path, small_suite: Path, tiny_toml
):
    from punie.flywheel.pipeline import run_flywheel

    h = write_harvest(
        tmp_path / "h",
        train=[chat_row(i) for i in range(1, 5)],
        valid=[chat_row(5)],
        test=[chat_row(6), chat_row(7)],
    )
    text = tiny_toml(tiny_model, small_suite).replace(
        "check_format = true\n", f'check_format = true\nharvest = "{h}"\nharvest_weight = 2\n'
    )
    (tmp_path / "fw.toml").write_text(text)

    res = run_flywheel(load_config(tmp_path / "fw.toml"), tmp_path / "run", progress=False)

    assert res.complete
    summary = json.loads((tmp_path / "run" / "flywheel.json").read_text())
    assert set(summary["comparisons"]) == {"small-tools", "harvest-newer"}
    assert summary["comparisons"]["harvest-newer"]["n"] == 2
    assert summary["harvest"]["merge"]["harvested_train_rows"] == 8
    assert Path(summary["data"]["path"]).name.startswith("merged-")
    stages = {s["name"]: s["status"] for s in summary["stages"]}
    assert stages["merge harvested data"] == "ran"
    html = res.report.read_text()
    assert "harvest-newer" in html and "Harvested sessions" in html
