"""Reading a harvest folder into the `harvest-newer` task suite (`punie.evaluate.harvested`
builds it): `punie eval --suite harvest:DIR`, `punie data harvest-suite DIR` and
`punie flywheel run` with `data.harvest` all come here. A folder that is not a
harvest is a PunieError (exit 2); a malformed row names its `file:line`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from punie.errors import PunieError
from punie.evaluate.harvested import SUITE_NAME, suite_from_rows


def held_out_rows(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file:line, row) of a harvest folder's `test.jsonl` (validated; none when the
    harvest held out no test session); PunieError for a folder that is no harvest."""
    from punie.data.files import raise_for_errors
    from punie.data.harvest_io import REPORT
    from punie.data.validate import read_file

    folder = Path(folder)
    hint = "give a folder `punie data harvest --out DIR` wrote"
    if not folder.is_dir():
        raise PunieError("harvest folder not found", where=str(folder), hint=hint)
    if not (folder / REPORT).is_file():
        raise PunieError(f"not a harvest folder: it has no {REPORT}", where=str(folder), hint=hint)
    test = folder / "test.jsonl"
    if not test.is_file():
        return []
    parsed = read_file(test)
    raise_for_errors(parsed.issues)
    return [(f"{test}:{line}", row) for line, row in parsed.rows]


def build_harvest_suite(folders: list[Path], name: str = SUITE_NAME):
    """(TaskSuite or None, what was built and skipped) from harvest folders' held-out
    sessions."""
    from punie.evaluate.tasks import TaskSuite

    rows = [r for f in folders for r in held_out_rows(Path(f))]
    where = ", ".join(str(f) for f in folders)
    desc = f"Turns that worked in the newest held-out sessions of {where}, rerun as tasks."
    suite, skipped = suite_from_rows(rows, name, desc)
    counts: dict[str, int] = {}
    for s in skipped:
        counts[s["reason"]] = counts.get(s["reason"], 0) + 1
    info = {
        "name": name,
        "folders": [str(f) for f in folders],
        "held_out_rows": len(rows),
        "cases": len(suite["cases"]) if suite else 0,
        "skipped": dict(sorted(counts.items())),
        "skipped_rows": skipped,
    }
    if suite is None:
        return None, info
    return TaskSuite.model_validate({**suite, "source": where}), info


def load_harvest_suite(folder: Path, name: str = SUITE_NAME):
    """The suite of one harvest folder (`harvest:DIR`); PunieError when no case."""
    suite, info = build_harvest_suite([Path(folder)], name)
    if suite is None:
        raise PunieError(no_cases_reason(info), where=str(folder), hint=NO_CASES_HINT)
    return suite


NO_CASES_HINT = (
    "the newest ~10% of sessions that gave rows are the test split: harvest more "
    "sessions (about 8 or more), see docs/data.md"
)


def no_cases_reason(info: dict[str, Any]) -> str:
    if not info["held_out_rows"]:
        return "the harvest has no test.jsonl: it held out no test session"
    why = ", ".join(f"{k} {n}" for k, n in info["skipped"].items())
    return f"none of its {info['held_out_rows']} held-out turns could be a task ({why})"


def suite_yaml(suite) -> str:
    """A TaskSuite as YAML `punie eval --suite FILE` reads back."""
    import yaml

    data = suite.model_dump(mode="json", exclude={"source"}, exclude_defaults=True)
    data = {"kind": "tasks", "name": suite.name, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
