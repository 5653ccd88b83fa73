"""The data generator's list of what the suites ask is the suites' own, and
punie.data reads it without importing punie.evaluate."""

from __future__ import annotations

import subprocess
import sys

from punie.data.gen_python import SUITE_REQUESTS_FILE
from punie.evaluate.asked import requests_file_text


def test_the_committed_requests_file_equals_the_suites():
    assert SUITE_REQUESTS_FILE.read_text(encoding="utf-8") == requests_file_text(), (
        "run `python -m punie.evaluate.asked`"
    )


def test_punie_data_does_not_import_punie_evaluate():
    code = (
        "import pkgutil, importlib, sys, punie.data as d\n"
        "for m in pkgutil.iter_modules(d.__path__):\n"
        "    importlib.import_module(f'punie.data.{m.name}')\n"
        "bad = sorted(k for k in sys.modules if k.startswith('punie.evaluate'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
