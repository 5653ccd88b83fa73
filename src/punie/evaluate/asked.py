"""What the built-in suites ask, handed to the data generator as a committed file.

The generator must never train on a question a suite asks, but `punie.data` does not
import `punie.evaluate` (evaluation depends on data, not the other way round). So
the list lives beside the generator, `punie/data/suite_requests.json`, written from
the suites here; a test fails when the file and the suites disagree.

    python -m punie.evaluate.asked      # rewrite the file after changing a suite
"""

from __future__ import annotations

import json

from punie import atomic
from punie.data.gen_python import SUITE_REQUESTS_FILE
from punie.evaluate.suite import builtin_suites, load_any_suite


def asked_requests() -> list[str]:
    """Every user turn and task prompt of the built-in suites, sorted."""
    asked: set[str] = set()
    for name in builtin_suites():
        for case in load_any_suite(name).cases:
            asked.update(
                m["content"].strip()
                for m in case.messages
                if m["role"] == "user" and isinstance(m.get("content"), str)
            )
            if getattr(case, "prompt", None):  # a task suite's case
                asked.add(case.prompt.strip())
    return sorted(asked)


def requests_file_text() -> str:
    return json.dumps(asked_requests(), indent=0, ensure_ascii=False) + "\n"


def write_requests_file() -> None:
    atomic.write_text(SUITE_REQUESTS_FILE, requests_file_text())


if __name__ == "__main__":
    write_requests_file()
