"""The flywheel from use (issue 18): does an adapter trained on the sessions a user
recorded with the demo adapter do better on that user's newer sessions?

    .venv/bin/python bench/flywheel_from_use.py --adapter A1 --out DIR
        [--model smollm2-135m] [--weight 2] [--sessions N] [--skip-train] [--resume]

Five phases, each a Punie command run as a child process:

1. sessions: 40 scripted one-prompt sessions, in order, each on a fresh copy of one of
   8 small hand-written workspaces (defined below, a few of them git repositories),
   through `punie ask --model MODEL --adapter A1 --cwd WS` with recording on. The
   script is the user: it answers every permission question on stdin, approving a
   write, edit or command when it is the one the prompt asked for and rejecting any
   other. Traces go to DIR/home/traces (PUNIE_HOME=DIR/home for these children only;
   the model is resolved first, in the caller's PUNIE_HOME, and passed as a folder, so
   the converted model there is used, not converted again). Each session is checked
   against the script's own expectation (right tool succeeded, answer holds a word,
   file holds a text): that check is printed, never used to pick training data.
2. harvest: `punie data harvest --traces DIR/home/traces --out DIR/harvest --model
   MODEL`: positives, pairs and why each dropped turn was dropped; the newest 20% of the
   useful sessions are held out by the harvest's own time split (half valid, half
   test: the test half is the "newer sessions" of phase 4).
3. second adapter: `punie flywheel run DIR/flywheel.toml --run-dir DIR/flywheel`, the
   demo recipe scored on the dev draw (`demo_config(dev=True)`: `tasks-dev`, never the
   held-out `tasks`) plus `data.harvest = [DIR/harvest]` and `data.harvest_weight`.
   This runs in the caller's PUNIE_HOME, so the demo's generated data and base
   evaluation are reused from earlier runs when they are cached there.
4. compare on newer sessions: `punie eval --suite harvest:DIR/harvest` with A1 and
   with A2 (the new adapter), then `punie compare` A1 -> A2 (McNemar p, CI).
5. DIR/summary.json: everything (model and adapter hashes, config, seeds, counts,
   per-session rows, times) and a short table.

The sessions' prompts, file names, identifiers and contents are new: none is a near
copy (punie.data.near) of a built-in suite request (harvest would drop it as
`suite_leak`) or of a training-generator phrasing filled with the session's names, and
no file name or identifier appears in the generator's vocabularies (except the
mandated src/calc.py `add` workspace, which they leave out on purpose). The script
checks that before it starts (`--check-prompts` prints the closest ratios).

Numbers come from the JSON files the commands write (harvest.json, flywheel.json,
results.json, comparison.json), never from their console output. Measure on a quiet
machine: every phase is CPU-bound.

Plumbing checks (their numbers mean nothing): `--quick` shrinks the recipe (40 rows,
4 steps, 2 cases per suite) for the tiny model (`punie model tiny DIR`); `--reference`
records the sessions with a scripted fake model that makes each session's reference
calls (a `test-fake:` model, no adapter), so the harvest has positives and phases 3-4
have something to train and score on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROMPT_TAIL = "? [y]es / [n]o / [a]lways: "  # punie.agent.ask's permission question

# --- the workspaces: a few files each, some a git repository -------------------------

WORKSPACES: dict[str, dict[str, Any]] = {
    "ledger": {
        "git": ["Start the ledger helpers"],
        "files": {
            "src/calc.py": "def add(a, b):\n    return a + b\n",
            "src/rounding_rules.py": (
                "from decimal import ROUND_HALF_UP, Decimal\n\n\n"
                "def round_to_pence(amount):\n"
                '    """Round a price to whole pence, halves away from zero."""\n'
                "    return float(Decimal(str(amount)).quantize(Decimal('0.01'), "
                "rounding=ROUND_HALF_UP))\n"
            ),
            "README.md": (
                "# Allotment ledger\n\n"
                "Small arithmetic helpers for the allotment society's accounts.\n"
            ),
        },
    },
    "apiary": {
        "files": {
            "hive_log.py": (
                "def honey_yield(frames, kg_per_frame):\n"
                "    return frames * kg_per_frame\n\n\n"
                "def swarm_warning(queen_cells):\n"
                "    return queen_cells >= 3\n"
            ),
            "inspections.txt": (
                "2024-04-21 brood on six frames, calm colony\n"
                "2024-05-03 queen sighted on frame four\n"
                "2024-05-17 varroa count 9 after sugar roll\n"
                "2024-06-02 two supers added, varroa count 4\n"
            ),
            "README.md": "Notes from the hilltop apiary: two hives, Marigold and Juniper.\n",
        },
    },
    "cove": {
        "git": ["Add the pontoon depth helper"],
        "files": {
            "harbour.py": (
                "LOW_WATER_MARGIN = 0.4\n\n\n"
                "def safe_depth(chart_depth, water_height):\n"
                "    return chart_depth + water_height - LOW_WATER_MARGIN\n\n\n"
                'if __name__ == "__main__":\n'
                '    print("safe depth at the pontoon:", round(safe_depth(1.2, 2.5), 2))\n'
            ),
            "cove_tides.md": (
                "# High and low water at Pendower Cove\n\n"
                "| day | high water | low water |\n"
                "|-----|------------|-----------|\n"
                "| Mon | 06:12 | 12:30 |\n"
                "| Tue | 06:58 | 13:15 |\n"
            ),
        },
    },
    "orchard": {
        "files": {
            "orchard/pruning.py": (
                "def prune_height(age_years):\n    return 1.8 + 0.1 * age_years\n"
            ),
            "orchard/varieties.txt": "Egremont Russet\nAshmead's Kernel\nBlenheim Orange\n",
            "orchard/count_trees.py": "ROWS = [9, 8, 10]\nprint('trees:', sum(ROWS))\n",
        },
    },
    "choir": {
        "files": {
            "voices.py": (
                'SECTION_SIZES = {"soprano": 9, "alto": 7, "tenor": 4, "bass": 6}\n\n\n'
                "def total_singers():\n"
                "    return sum(SECTION_SIZES.values())\n"
            ),
            "sing.py": (
                "from voices import total_singers\n\n"
                "print('singers in the choir:', total_singers())\n"
            ),
            "rehearsal.md": (
                "# Rehearsals\n\n"
                "Next: Thursday 19:30 in the church hall.\n"
                "Bring the descant for the second carol.\n"
            ),
        },
    },
    "pottery": {
        "git": ["Add the cone table", "Add glaze notes and the firing checklist"],
        "files": {
            "kiln/firing.py": (
                "CONES = {4: 1186, 5: 1196, 6: 1222}\n\n\n"
                "def cone_temperature(cone):\n"
                "    return CONES[cone]\n"
            ),
            "glaze_notes.txt": (
                "tenmoku: glossy, broke brown on the rims\n"
                "celadon: crawled near the foot\n"
                "shino: the carbon trap worked\n"
            ),
            "checklist.md": (
                "# Before firing\n\n"
                "- vacuum the elements\n"
                "- check shelf posts\n"
                "- note the witness cones\n"
            ),
        },
        # (files of the first commit: the rest go into the second)
        "first_commit": ["kiln/firing.py"],
    },
    "crossing": {
        "files": {
            "ferry/fares.py": (
                "def return_fare(single):\n"
                "    return round(single * 1.7, 2)\n\n\n"
                'if __name__ == "__main__":\n'
                "    print('single 8.50, return', return_fare(8.50))\n"
            ),
            "ferry/timetable.txt": (
                "07:10 Quay to Skerry Island\n"
                "12:40 Quay to Skerry Island\n"
                "21:45 Skerry Island to Quay (last sailing)\n"
            ),
        },
    },
    "stargazing": {
        "git": ["Add the eyepiece helper", "Plan the Perseids night"],
        "files": {
            "eyepiece.py": (
                "def magnification(focal_mm, eyepiece_mm):\n    return focal_mm / eyepiece_mm\n"
            ),
            "observing_log.md": (
                "# Observing log\n\n"
                "- 2024-01-09 M31, faint dust lane\n"
                "- 2024-02-14 Orion Nebula, trapezium split\n"
            ),
        },
        "first_commit": ["eyepiece.py"],
    },
}

# --- the sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    ws: str
    kind: str  # read | list | search | run | write | edit | no_tool
    prompt: str
    answer: tuple[str, ...] = ()  # the answer holds one of these (case folded)
    # The tools one of which must succeed ("" none: no call expected)
    tools: tuple[str, ...] = ()
    # What the user approves: "Write PATH", "Edit PATH", "Run COMMAND-PREFIX"
    allow: tuple[str, ...] = ()
    file: tuple[str, str] | None = None  # (path, text) the file must then hold
    # The reference calls (tool, arguments): what `--reference` plays, and the names the
    # novelty check fills the generator's phrasings with.
    ref: tuple[tuple[str, dict], ...] = ()
    ref_answer: str = ""


def _s(ws, kind, prompt, answer, ref=(), ref_answer="", allow=(), file=None, tools=None):
    tools = tools if tools is not None else tuple(dict.fromkeys(t for t, _ in ref))
    return Session(
        ws,
        kind,
        prompt,
        tuple(answer),
        tools,
        tuple(allow),
        file,
        tuple(ref),
        ref_answer or answer[0],
    )


# Per workspace; run round-robin over the workspaces (SESSIONS below).
_BY_WS: dict[str, list[Session]] = {
    "ledger": [
        _s(
            "ledger",
            "read",
            "What does the add function in src/calc.py return?",
            ["a + b", "a+b", "sum"],
            [("read_file", {"path": "src/calc.py"})],
            "It returns a + b, the sum of its two arguments.",
        ),
        _s(
            "ledger",
            "search",
            "Is there a helper that rounds to pence somewhere here? Name the file it lives in.",
            ["rounding_rules"],
            [("search", {"pattern": "round_to_pence"})],
            "Yes: round_to_pence, in src/rounding_rules.py.",
        ),
        _s(
            "ledger",
            "run",
            "Run `git status --short` and tell me if there is anything uncommitted.",
            ["clean", "nothing", "no ", "none"],
            [("run_command", {"command": "git status --short"})],
            "Nothing is uncommitted: the working tree is clean.",
            allow=["Run git status"],
        ),
        _s(
            "ledger",
            "edit",
            "Add a subtract(a, b) function to src/calc.py that gives a minus b.",
            ["subtract"],
            [
                (
                    "edit_file",
                    {
                        "path": "src/calc.py",
                        "old_text": "    return a + b\n",
                        "new_text": "    return a + b\n\n\ndef subtract(a, b):\n    return a - b\n",
                    },
                )
            ],
            "Added subtract(a, b), which returns a - b, to src/calc.py.",
            allow=["Edit src/calc.py", "Write src/calc.py"],
            file=("src/calc.py", "def subtract"),
            tools=("edit_file", "write_file"),
        ),
        _s(
            "ledger",
            "no_tool",
            "In one sentence: how is a Python tuple different from a list?",
            ["immutable", "cannot be changed", "can't be changed"],
            ref_answer="A tuple is immutable: once made it cannot be changed, a list can.",
        ),
    ],
    "apiary": [
        _s(
            "apiary",
            "read",
            "Using hive_log.py, how many kilograms would honey_yield "
            "give for 12 frames at 2 kg each?",
            ["24"],
            [("read_file", {"path": "hive_log.py"})],
            "honey_yield multiplies frames by kg_per_frame, so 12 x 2 = 24 kg.",
        ),
        _s(
            "apiary",
            "list",
            "What have I got in here, file-wise?",
            ["inspections.txt"],
            [("list_dir", {"path": "."})],
            "hive_log.py, inspections.txt and README.md.",
        ),
        _s(
            "apiary",
            "read",
            "According to inspections.txt, on what date was the queen sighted?",
            ["2024-05-03", "3 may", "may 3"],
            [("read_file", {"path": "inspections.txt"})],
            "The queen was sighted on 2024-05-03, on frame four.",
        ),
        _s(
            "apiary",
            "write",
            "Start a to-do file apiary_todo.md; its one line: order two new brood boxes",
            ["apiary_todo"],
            [("write_file", {"path": "apiary_todo.md", "content": "order two new brood boxes\n"})],
            "Created apiary_todo.md with the line about the brood boxes.",
            allow=["Write apiary_todo.md"],
            file=("apiary_todo.md", "brood boxes"),
        ),
        _s(
            "apiary",
            "search",
            "Which inspections mention varroa? Give the dates.",
            ["2024-05-17", "2024-06-02"],
            [("search", {"pattern": "varroa"})],
            "Varroa is mentioned on 2024-05-17 (count 9) and 2024-06-02 (count 4).",
            tools=("search", "read_file"),
        ),
    ],
    "cove": [
        _s(
            "cove",
            "read",
            "How big is the LOW_WATER_MARGIN that harbour.py uses?",
            ["0.4"],
            [("read_file", {"path": "harbour.py"})],
            "LOW_WATER_MARGIN is 0.4.",
        ),
        _s(
            "cove",
            "read",
            "Look in cove_tides.md: when is high water on Tuesday?",
            ["06:58"],
            [("read_file", {"path": "cove_tides.md"})],
            "High water on Tuesday is at 06:58.",
        ),
        _s(
            "cove",
            "run",
            "What safe depth comes out when harbour.py is run with python?",
            ["3.3"],
            [("run_command", {"command": "python harbour.py"})],
            "It prints a safe depth at the pontoon of 3.3.",
            allow=["Run python harbour.py"],
        ),
        _s(
            "cove",
            "edit",
            "Raise LOW_WATER_MARGIN in harbour.py from 0.4 to 0.5.",
            ["0.5"],
            [
                (
                    "edit_file",
                    {
                        "path": "harbour.py",
                        "old_text": "LOW_WATER_MARGIN = 0.4",
                        "new_text": "LOW_WATER_MARGIN = 0.5",
                    },
                )
            ],
            "LOW_WATER_MARGIN is 0.5 now.",
            allow=["Edit harbour.py", "Write harbour.py"],
            file=("harbour.py", "LOW_WATER_MARGIN = 0.5"),
            tools=("edit_file", "write_file"),
        ),
        _s(
            "cove",
            "no_tool",
            "What does the abbreviation UTC stand for?",
            ["universal"],
            ref_answer="UTC stands for Coordinated Universal Time.",
        ),
    ],
    "orchard": [
        _s(
            "orchard",
            "list",
            "Show me what the orchard folder holds.",
            ["pruning.py"],
            [("list_dir", {"path": "orchard"})],
            "orchard/ holds count_trees.py, pruning.py and varieties.txt.",
        ),
        _s(
            "orchard",
            "run",
            "Count my trees: use python on orchard/count_trees.py and give me the number.",
            ["27"],
            [("run_command", {"command": "python orchard/count_trees.py"})],
            "It prints trees: 27.",
            allow=["Run python orchard/count_trees.py"],
        ),
        _s(
            "orchard",
            "read",
            "Which apple varieties does orchard/varieties.txt name?",
            ["russet"],
            [("read_file", {"path": "orchard/varieties.txt"})],
            "Egremont Russet, Ashmead's Kernel and Blenheim Orange.",
        ),
        _s(
            "orchard",
            "search",
            "prune_height: which module holds its definition?",
            ["pruning.py"],
            [("search", {"pattern": "def prune_height"})],
            "prune_height is defined in orchard/pruning.py.",
        ),
        _s(
            "orchard",
            "edit",
            "Add Discovery as a new line at the end of orchard/varieties.txt.",
            ["discovery"],
            [
                (
                    "edit_file",
                    {
                        "path": "orchard/varieties.txt",
                        "old_text": "Blenheim Orange\n",
                        "new_text": "Blenheim Orange\nDiscovery\n",
                    },
                )
            ],
            "Added Discovery to orchard/varieties.txt.",
            allow=["Edit orchard/varieties.txt", "Write orchard/varieties.txt"],
            file=("orchard/varieties.txt", "Discovery"),
            tools=("edit_file", "write_file"),
        ),
    ],
    "choir": [
        _s(
            "choir",
            "read",
            "How many tenors are in SECTION_SIZES in voices.py?",
            ["4", "four"],
            [("read_file", {"path": "voices.py"})],
            "SECTION_SIZES lists 4 tenors.",
        ),
        _s(
            "choir",
            "run",
            "Please launch python sing.py; I want the singer total it outputs.",
            ["26"],
            [("run_command", {"command": "python sing.py"})],
            "It prints singers in the choir: 26.",
            allow=["Run python sing.py"],
        ),
        _s(
            "choir",
            "read",
            "When is the next rehearsal, going by rehearsal.md?",
            ["thursday"],
            [("read_file", {"path": "rehearsal.md"})],
            "Thursday at 19:30 in the church hall.",
        ),
        _s(
            "choir",
            "search",
            "Find where the word descant appears in this project.",
            ["rehearsal.md"],
            [("search", {"pattern": "descant"})],
            "descant appears in rehearsal.md.",
        ),
        _s(
            "choir",
            "write",
            "I need a seating.txt; put 'altos sit on the left' in it.",
            ["seating.txt"],
            [("write_file", {"path": "seating.txt", "content": "altos sit on the left\n"})],
            "Wrote seating.txt.",
            allow=["Write seating.txt"],
            file=("seating.txt", "altos sit on the left"),
        ),
    ],
    "pottery": [
        _s(
            "pottery",
            "read",
            "Check kiln/firing.py: what temperature does cone_temperature give for cone 6?",
            ["1222"],
            [("read_file", {"path": "kiln/firing.py"})],
            "Cone 6 is 1222 degrees.",
        ),
        _s(
            "pottery",
            "read",
            "Read glaze_notes.txt and tell me which glaze crawled.",
            ["celadon"],
            [("read_file", {"path": "glaze_notes.txt"})],
            "The celadon crawled near the foot.",
        ),
        _s(
            "pottery",
            "edit",
            "checklist.md: the shelf posts item should cover wadding too, so "
            "make it read 'check shelf posts and wadding'.",
            ["wadding"],
            [
                (
                    "edit_file",
                    {
                        "path": "checklist.md",
                        "old_text": "- check shelf posts",
                        "new_text": "- check shelf posts and wadding",
                    },
                )
            ],
            "checklist.md now says to check shelf posts and wadding.",
            allow=["Edit checklist.md", "Write checklist.md"],
            file=("checklist.md", "shelf posts and wadding"),
            tools=("edit_file", "write_file"),
        ),
        _s(
            "pottery",
            "run",
            "Run git log --oneline and count the commits for me.",
            ["2", "two"],
            [("run_command", {"command": "git log --oneline"})],
            "There are 2 commits.",
            allow=["Run git log"],
        ),
        _s(
            "pottery",
            "no_tool",
            "Briefly: what does dict.get return for a missing key when no default is given?",
            ["none"],
            ref_answer="It returns None (or the default, when one is given).",
        ),
    ],
    "crossing": [
        _s(
            "crossing",
            "read",
            "How does return_fare in ferry/fares.py work out the fare?",
            ["1.7"],
            [("read_file", {"path": "ferry/fares.py"})],
            "It multiplies the single fare by 1.7 and rounds to 2 decimals.",
        ),
        _s(
            "crossing",
            "list",
            "Peek inside ferry/ and give me the file names.",
            ["timetable.txt"],
            [("list_dir", {"path": "ferry"})],
            "ferry/ holds fares.py and timetable.txt.",
        ),
        _s(
            "crossing",
            "read",
            "Per ferry/timetable.txt, when does the last sailing leave?",
            ["21:45"],
            [("read_file", {"path": "ferry/timetable.txt"})],
            "The last sailing leaves Skerry Island at 21:45.",
        ),
        _s(
            "crossing",
            "run",
            "Run python ferry/fares.py and tell me the return fare it shows.",
            ["14.45"],
            [("run_command", {"command": "python ferry/fares.py"})],
            "The return fare it shows is 14.45.",
            allow=["Run python ferry/fares.py"],
        ),
        _s(
            "crossing",
            "write",
            "Jot down in ferry/skipper_memo.md that the 07:10 boat skips Tuesdays.",
            ["skipper_memo"],
            [
                (
                    "write_file",
                    {"path": "ferry/skipper_memo.md", "content": "the 07:10 boat skips Tuesdays\n"},
                )
            ],
            "Made ferry/skipper_memo.md.",
            allow=["Write ferry/skipper_memo.md"],
            file=("ferry/skipper_memo.md", "skips Tuesdays"),
        ),
    ],
    "stargazing": [
        _s(
            "stargazing",
            "read",
            "Explain the formula inside magnification in eyepiece.py.",
            ["/", "divid"],
            [("read_file", {"path": "eyepiece.py"})],
            "It divides focal_mm by eyepiece_mm: focal_mm / eyepiece_mm.",
        ),
        _s(
            "stargazing",
            "read",
            "Which objects have I logged in observing_log.md?",
            ["m31", "andromeda"],
            [("read_file", {"path": "observing_log.md"})],
            "M31 and the Orion Nebula.",
        ),
        _s(
            "stargazing",
            "run",
            "Run git log -1 --format=%s and tell me the last commit's message.",
            ["perseids"],
            [("run_command", {"command": "git log -1 --format=%s"})],
            "The last commit is: Plan the Perseids night.",
            allow=["Run git log"],
        ),
        _s(
            "stargazing",
            "edit",
            "Append '- 2024-08-12 Perseids, 40 meteors an hour' to the end of observing_log.md.",
            ["perseids"],
            [
                (
                    "edit_file",
                    {
                        "path": "observing_log.md",
                        "old_text": "- 2024-02-14 Orion Nebula, trapezium split\n",
                        "new_text": "- 2024-02-14 Orion Nebula, trapezium split\n"
                        "- 2024-08-12 Perseids, 40 meteors an hour\n",
                    },
                )
            ],
            "Appended the Perseids entry to observing_log.md.",
            allow=["Edit observing_log.md", "Write observing_log.md"],
            file=("observing_log.md", "Perseids, 40 meteors"),
            tools=("edit_file", "write_file"),
        ),
        _s(
            "stargazing",
            "no_tool",
            "Hello! What sorts of things can you help me with?",
            ["file", "code", "help"],
            ref_answer="I can read, search and edit your files, run commands and help with code.",
        ),
    ],
}

# Round r takes workspace w's session (r + w) mod 5: every round mixes the kinds, so the
# newest sessions (the harvest holds out the newest 20%) are not all of one kind.
SESSIONS: list[Session] = [
    ss[(r + w) % len(ss)]
    for r in range(len(next(iter(_BY_WS.values()))))
    for w, ss in enumerate(_BY_WS.values())
]
assert len({s.prompt for s in SESSIONS}) == sum(len(v) for v in _BY_WS.values())

# --- novelty: the prompts and names are nobody's training data ----------------------

_SLOTS = re.compile(r"\{(\w+)\}")


def _fill(template: str, s: Session) -> str:
    """A generator phrasing filled with this session's own names (its reference call's
    path, command, pattern, content; the identifiers its prompt names)."""
    args: dict[str, str] = {}
    for _, a in s.ref:
        for k in ("path", "command", "pattern", "content", "old_text", "new_text"):
            if k in a:
                args.setdefault(k, str(a[k]).strip())
    idents = re.findall(r"\b[A-Za-z]+_[A-Za-z_]+\b|\b[a-z]+(?=\()", s.prompt)
    values = {
        "path": args.get("path", ""),
        "dir": args.get("path", ""),
        "func": idents[0] if idents else args.get("pattern", ""),
        "command": args.get("command", ""),
        "text": args.get("content", ""),
        "key": idents[0] if idents else "",
        "old": args.get("old_text", ""),
        "new": args.get("new_text", ""),
    }
    return _SLOTS.sub(lambda m: values.get(m.group(1), ""), template)


def _phrasings() -> list[str]:
    from dataclasses import fields

    from punie.data import gen_task_prompts as g

    out = []
    for name in dir(g):
        pool = getattr(g, name)
        if not isinstance(pool, g.Prompts):
            continue
        for f in fields(pool):
            for item in getattr(pool, f.name):
                out.append(item[0] if isinstance(item, tuple) else item)
    return out


def _names() -> set[str]:
    """Every file name (and stem) and identifier of the workspaces and of the files
    the sessions write."""
    out = set()
    for ws in WORKSPACES.values():
        for path, text in ws["files"].items():
            for part in Path(path).parts:
                out |= {part, Path(part).stem}
            if path.endswith(".py"):
                for m in re.finditer(r"^(?:def |class )(\w+)|^([A-Za-z_]\w*) =", text, re.M):
                    out.add(m.group(1) or m.group(2))
    for s in SESSIONS:  # the files the sessions write
        for _, a in s.ref:
            if "path" in a and a["path"] != ".":
                out |= {Path(a["path"]).name, Path(a["path"]).stem}
    return out - {"README", "README.md", "src"}


MANDATED = {"calc", "calc.py", "add"}  # the acceptance workspace of issue 18


def novelty_report(sessions: list[Session]) -> tuple[list[str], list[tuple[float, str, str]]]:
    """(problems, the closest prompt/other pairs measured) for these sessions."""
    from difflib import SequenceMatcher
    from importlib import resources

    from punie.data import near

    problems: list[tuple[float, str, str]] = []
    closest: list[tuple[float, str, str]] = []
    requests = json.loads(
        resources.files("punie.data").joinpath("suite_requests.json").read_text("utf-8")
    )
    normed = [near.norm(r) for r in requests]
    phrasings = _phrasings()
    for s in sessions:
        a = near.norm(s.prompt)
        best = max(
            ((SequenceMatcher(None, a, b).ratio(), "suite", b) for b in normed),
            key=lambda t: t[0],
        )
        filled = [near.norm(_fill(p, s)) for p in phrasings]
        best_gen = max(
            ((SequenceMatcher(None, a, b).ratio(), "generator", b) for b in filled),
            key=lambda t: t[0],
        )
        for r, where, b in (best, best_gen):
            closest.append((round(r, 3), f"{where}: {b}", s.prompt))
            if r >= near.NEAR:
                problems.append((round(r, 3), f"{where}: {b}", s.prompt))
    out = [f"{r:.3f} near copy of {w!r}: {p!r}" for r, w, p in problems]
    vocab = "\n".join(
        Path(__import__(f"punie.data.{m}", fromlist=["_"]).__file__).read_text("utf-8")
        for m in ("gen_vocab", "gen_workspaces", "gen_task_prompts")
    )
    for name in sorted(_names() - MANDATED):
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", vocab):
            out.append(f"name {name!r} is in the training generator's vocabulary")
    closest.sort(reverse=True)
    return out, closest


# --- phase 1: the sessions ------------------------------------------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Sam Quill",
    "GIT_AUTHOR_EMAIL": "sam@example.invalid",
    "GIT_COMMITTER_NAME": "Sam Quill",
    "GIT_COMMITTER_EMAIL": "sam@example.invalid",
}


def make_workspace(name: str, dest: Path) -> None:
    spec = WORKSPACES[name]
    for rel, text in spec["files"].items():
        p = dest / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    msgs = spec.get("git")
    if not msgs:
        return
    env = {**os.environ, **GIT_ENV}

    def git(*a: str, date: str) -> None:
        subprocess.run(
            ["git", "-c", "commit.gpgsign=false", *a],
            cwd=dest,
            check=True,
            env={**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    git("init", "-q", "-b", "main", date="2024-01-01T10:00:00")
    first = spec.get("first_commit") if len(msgs) > 1 else None
    for i, msg in enumerate(msgs):
        date = f"2024-0{i + 1}-02T10:00:00"
        if i == 0 and first:
            git("add", *first, date=date)
        else:
            git("add", "-A", date=date)
        git("commit", "-q", "-m", msg, date=date)


def _norm_path(p: str, ws: Path) -> str:
    p = p.strip()
    for pre in (str(ws) + "/", str(ws.resolve()) + "/"):
        if p.startswith(pre):
            p = p[len(pre) :]
    while p.startswith("./"):
        p = p[2:]
    return p


def approves(s: Session, title: str, ws: Path) -> bool:
    """Whether this session's user says yes to the permission question for `title`."""
    verb, _, rest = title.partition(" ")
    if verb == "Run":
        cmd = " ".join(rest.strip().strip("`").split())
        for a in s.allow:
            v, _, want = a.partition(" ")
            if v != "Run":
                continue
            variants = [want] + (
                [want.replace("python ", "python3 ", 1)] if want.startswith("python ") else []
            )
            if any(cmd == w or cmd.startswith(w + " ") for w in variants):
                return True
        return False
    path = _norm_path(rest, ws)
    return any(a == f"{verb} {path}" for a in s.allow)


def _pump_stdout(stream, sink: list[bytes]) -> None:
    for chunk in iter(lambda: stream.read1(4096), b""):
        sink.append(chunk)


def _pump_stderr(proc, s: Session, ws: Path, sink: list[str], asked: list[dict]) -> None:
    buf = ""
    pos = 0  # where the next question may start
    fd = proc.stderr.fileno()
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk.decode("utf-8", "replace")
        while True:
            end = buf.find(PROMPT_TAIL, pos)
            if end < 0:
                break
            start = buf.rfind("Allow ", pos, end)
            title = buf[start + len("Allow ") : end] if start >= 0 else "?"
            yes = approves(s, title, ws)
            asked.append({"title": title, "answer": "y" if yes else "n"})
            try:
                proc.stdin.write(b"y\n" if yes else b"n\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
            pos = end + len(PROMPT_TAIL)
    sink.append(buf)


def _trace_files(root: Path) -> set[Path]:
    return set(root.glob("*/*.jsonl")) if root.is_dir() else set()


def run_session(
    i: int,
    s: Session,
    args,
    env: dict[str, str],
    model_arg: str,
    adapter_arg: str | None,
    out: Path,
) -> dict[str, Any]:
    from punie.traces.store import read_records

    ws = out / "workspaces" / f"{i:02d}-{s.ws}"
    shutil.rmtree(ws, ignore_errors=True)
    make_workspace(s.ws, ws)
    traces = out / "home" / "traces"
    before = _trace_files(traces)
    cmd = [sys.executable, "-m", "punie", "ask", s.prompt, "--model", model_arg, "--cwd", str(ws)]
    if adapter_arg:
        cmd += ["--adapter", adapter_arg]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    stdout: list[bytes] = []
    stderr: list[str] = []
    asked: list[dict] = []
    threads = [
        threading.Thread(target=_pump_stdout, args=(proc.stdout, stdout), daemon=True),
        threading.Thread(target=_pump_stderr, args=(proc, s, ws, stderr, asked), daemon=True),
    ]
    for t in threads:
        t.start()
    timed_out = False
    try:
        rc = proc.wait(timeout=args.session_timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)  # the ask and the mlx_lm.server it started
        rc = proc.wait()
    for t in threads:
        t.join(timeout=10)
    _close_stdin(proc)
    secs = time.perf_counter() - t0
    answer = b"".join(stdout).decode("utf-8", "replace").strip()
    new = sorted(_trace_files(traces) - before)
    turn: dict[str, Any] = {}
    if len(new) == 1:
        turns = [r for r in read_records(new[0]) if r.get("type") == "turn"]
        turn = turns[0] if turns else {}
    calls = [
        {
            "tool": c.get("tool"),
            "status": c.get("status"),
            "permission": (c.get("permission") or {}).get("answer"),
        }
        for c in turn.get("calls") or []
    ]
    checks: dict[str, bool] = {}
    ok_tools = {c["tool"] for c in calls if c["status"] == "succeeded"}
    checks["tool"] = (not calls) if not s.tools else bool(ok_tools & set(s.tools))
    if s.answer:
        checks["answer"] = any(a.lower() in answer.lower() for a in s.answer)
    if s.file:
        f = ws / s.file[0]
        checks["file"] = f.is_file() and s.file[1] in f.read_text("utf-8", "replace")
    return {
        "index": i,
        "workspace": s.ws,
        "kind": s.kind,
        "prompt": s.prompt,
        "rc": rc,
        "timed_out": timed_out,
        "ended_by": turn.get("ended_by"),
        "seconds": round(secs, 1),
        "session_id": new[0].stem if len(new) == 1 else None,
        "trace": str(new[0]) if len(new) == 1 else None,
        "traces_new": len(new),
        "calls": calls,
        "asked": asked,
        "checks": checks,
        "passed": all(checks.values()),
        "answer": answer[:400],
        "stderr_tail": "".join(stderr)[-600:] if rc != 0 or not turn else "",
    }


def _close_stdin(proc) -> None:
    try:
        proc.stdin.close()
    except OSError:
        pass


# --- the reference fake (--reference): each session's reference calls, then its answer


# `test-fake:` runs a file without registering it as a module, which this one's
# dataclasses need: a shim imports it properly.
FAKE_SHIM = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("flywheel_from_use", {script!r})
mod = importlib.util.module_from_spec(spec)
sys.modules["flywheel_from_use"] = mod
spec.loader.exec_module(mod)
build_model = mod.build_model
"""


def build_model():
    """TEST FAKE (`punie ask --model test-fake:THIS_FILE`): plays the session whose
    prompt it gets: its reference calls one after another, then its reference answer."""
    from pydantic_ai.messages import ModelRequest, ToolReturnPart, UserPromptPart
    from pydantic_ai.models.function import DeltaToolCall, FunctionModel

    by_prompt = {s.prompt: s for s in SESSIONS}

    async def stream(messages, info):
        prompt, done = "", 0
        for m in messages:
            if isinstance(m, ModelRequest):
                for p in m.parts:
                    if isinstance(p, UserPromptPart) and isinstance(p.content, str):
                        prompt, done = p.content, 0
                    elif isinstance(p, ToolReturnPart):
                        done += 1
        s = by_prompt.get(prompt)
        if s is None:
            yield "I do not know this session."
            return
        if done < len(s.ref):
            name, a = s.ref[done]
            yield {0: DeltaToolCall(name=name, json_args=json.dumps(a), tool_call_id=f"c{done}")}
            return
        yield s.ref_answer

    return FunctionModel(stream_function=stream, model_name="flywheel-from-use-reference")


# --- phases 2-5 -----------------------------------------------------------------------


def punie(*a: str, env: dict[str, str] | None = None, log: Path | None = None) -> int:
    cmd = [sys.executable, "-m", "punie", *a]
    print("  $ punie " + " ".join(a), flush=True)
    if log is None:
        return subprocess.run(cmd, env=env, check=False).returncode
    with log.open("w") as f:
        return subprocess.run(
            cmd, env=env, stdout=f, stderr=subprocess.STDOUT, check=False
        ).returncode


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"{v} has no TOML form here")
        r = repr(v)
        return r if any(c in r for c in ".en") else r + ".0"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise ValueError(f"no TOML form for {type(v).__name__}")


def toml_dumps(d: dict[str, Any]) -> str:
    """Top-level keys, then one [table] per dict value (one level: a flywheel config)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in d.items() if not isinstance(v, dict)]
    for k, v in d.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"]
            for kk, vv in v.items():
                if isinstance(vv, dict):
                    raise ValueError(f"{k}.{kk}: nested tables are not written")
                lines.append(f"{kk} = {_toml_value(vv)}")
    return "\n".join(lines) + "\n"


def flywheel_config(args, model_spec: str, harvest: Path):
    """The demo recipe on the dev draw, with the harvest merged in (a FlywheelConfig)."""
    from punie.flywheel.config import FlywheelConfig
    from punie.flywheel.demo_recipe import demo_config

    d = json.loads(demo_config(dev=True).model_dump_json(exclude_none=True))
    d["name"] = "flywheel-from-use"
    d["model"] = model_spec
    d["data"]["harvest"] = [str(harvest)]
    d["data"]["harvest_weight"] = float(args.weight)
    if args.quick:  # a plumbing check: the tiny model, seconds per stage
        d["data"].update(n=40, max_example_tokens=0)
        d["train"].update(
            iters=4,
            batch_size=2,
            steps_per_report=2,
            steps_per_eval=2,
            steps_per_save=2,
            warmup_steps=0,
            num_layers=-1,
        )
        d["eval"].update(max_cases=2, max_tokens=16, decode_concurrency=2, concurrency=2)
    return FlywheelConfig.model_validate(d), d


def write_config(path: Path, cfg, d: dict[str, Any]) -> None:
    from punie.flywheel.config import load_config

    path.write_text(toml_dumps(d), encoding="utf-8")
    back = load_config(path)
    if back.model_dump() != cfg.model_dump():
        raise SystemExit(f"internal error: {path} does not read back as the intended config")


def _json(p: Path) -> dict[str, Any] | None:
    try:
        return json.loads(p.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def fail(msg: str) -> int:
    print(f"flywheel_from_use: {msg}", file=sys.stderr)
    return 2


def print_sessions(rows: list[dict], fates: dict[str, str]) -> None:
    print(
        f"\n{'#':>3} {'workspace':<10} {'kind':<8} {'rc':>3} {'ended_by':<13} {'s':>6} "
        f"{'calls':<28} {'asked':<6} {'ok':<4} harvest"
    )
    for r in rows:
        calls = ",".join(f"{c['tool']}:{(c['status'] or '?')[:4]}" for c in r["calls"]) or "-"
        asked = "".join(a["answer"] for a in r["asked"]) or "-"
        print(
            f"{r['index']:>3} {r['workspace']:<10} {r['kind']:<8} {r['rc']:>3} "
            f"{str(r['ended_by']):<13} {r['seconds']:>6.1f} {calls[:28]:<28} {asked:<6} "
            f"{'yes' if r['passed'] else 'no':<4} {fates.get(r['session_id'] or '', '-')}"
        )


def harvest_fates(rep: dict[str, Any] | None) -> dict[str, str]:
    out = {}
    for o in (rep or {}).get("outcomes", []):
        why = ",".join(x["reason"] for x in o.get("reasons", []))
        kept = o.get("kept") or ""
        out[o["session_id"]] = f"{kept} ({o.get('split')})" if kept else f"dropped: {why}"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="smollm2-135m", help="the base model (default %(default)s)")
    ap.add_argument("--adapter", help="A1: the adapter the sessions are recorded with")
    ap.add_argument("--out", type=Path, help="the folder for everything (new, or --resume)")
    ap.add_argument("--weight", type=float, default=2.0, help="data.harvest_weight (default 2)")
    ap.add_argument("--sessions", type=int, default=None, help="run the first N sessions")
    ap.add_argument("--skip-train", action="store_true", help="stop after the harvest")
    ap.add_argument("--resume", action="store_true", help="reuse finished phases in --out")
    ap.add_argument("--session-timeout", type=float, default=600.0, help="seconds per session")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="plumbing check: shrink the recipe (tiny model; numbers mean nothing)",
    )
    ap.add_argument(
        "--reference",
        action="store_true",
        help="plumbing check: record the sessions with a scripted fake that makes "
        "each session's reference calls, not with MODEL + A1",
    )
    ap.add_argument(
        "--check-prompts",
        action="store_true",
        help="print the novelty check of the sessions' prompts and names, and exit",
    )
    args = ap.parse_args()

    if args.check_prompts:
        problems, closest = novelty_report(SESSIONS)
        for r, where, p in closest[:10]:
            print(f"{r:.3f}  {p!r}\n       ~ {where!r}")
        for p in problems:
            print("PROBLEM:", p)
        return 1 if problems else 0
    if not args.adapter or not args.out:
        return fail("--adapter and --out are required (see --help)")
    n_total = len(SESSIONS)
    n = n_total if args.sessions is None else args.sessions
    if not 1 <= n <= n_total:
        return fail(f"--sessions must be 1..{n_total}, not {args.sessions}")
    if args.weight < 0:
        return fail(f"--weight must be >= 0, not {args.weight:g}")
    if args.session_timeout <= 0:
        return fail("--session-timeout must be > 0")
    out: Path = args.out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        return fail(f"--out {out} is a file")
    if out.is_dir() and any(out.iterdir()) and not args.resume:
        return fail(f"--out {out} is not empty: give --resume to continue it, or a new folder")
    sessions = SESSIONS[:n]
    problems, _ = novelty_report(SESSIONS)
    if problems:
        return fail("the scripted sessions are not new:\n  " + "\n  ".join(problems))

    from punie.agent.models import resolve_adapter
    from punie.errors import PunieError
    from punie.evaluate.resume import folder_hash
    from punie.jsonl import read_jsonl
    from punie.model.store import resolve_model

    try:
        a1 = resolve_adapter(args.adapter)
        model_path = resolve_model(args.model)  # in the caller's PUNIE_HOME: no re-conversion
    except PunieError as exc:
        return fail(str(exc))
    # Phases 3-4 run in the caller's PUNIE_HOME: a name resolves there, a folder as given.
    model_spec = (
        str(Path(args.model).expanduser().resolve())
        if Path(args.model).expanduser().exists()
        else args.model
    )
    out.mkdir(parents=True, exist_ok=True)
    # Seconds per phase; a phase --resume reused keeps the time it took when it ran.
    times: dict[str, float] = dict((_json(out / "summary.json") or {}).get("times") or {})
    summary: dict[str, Any] = {
        "issue": 18,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "argv": sys.argv[1:],
        "model": {"spec": args.model, "path": str(model_path), "hash": folder_hash(model_path)},
        "a1": {"path": str(a1), "hash": folder_hash(a1)},
        "sessions_recorded_with": "reference fake" if args.reference else "model + a1",
        "quick": args.quick,
        "weight": args.weight,
        "n_sessions": n,
    }

    # 1. sessions (one line per finished session in sessions.jsonl: --resume goes on)
    print(
        f"[1/4] {n} sessions with {'the reference fake' if args.reference else 'A1'} "
        f"(traces in {out / 'home' / 'traces'})",
        flush=True,
    )
    env = {**os.environ, "PUNIE_HOME": str(out / "home"), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    if args.reference:
        fake = out / "reference_fake.py"
        fake.write_text(FAKE_SHIM.format(script=str(Path(__file__).resolve())))
        model_arg, adapter_arg = f"test-fake:{fake}", None
    else:
        model_arg, adapter_arg = str(model_path), str(a1)
    log_file = out / "sessions.jsonl"
    rows = read_jsonl(log_file) if log_file.is_file() else []
    if rows and [r["prompt"] for r in rows] != [s.prompt for s in sessions[: len(rows)]]:
        return fail(f"{log_file} holds other sessions than this script's: use a new --out")
    t0 = time.perf_counter()
    if len(rows) > n:
        return fail(f"{log_file} holds {len(rows)} sessions, more than --sessions {n}")
    redone = len(rows) < n  # a phase is reused only when nothing before it was redone
    for i, s in enumerate(sessions[len(rows) :], start=len(rows)):
        r = run_session(i, s, args, env, model_arg, adapter_arg, out)
        rows.append(r)
        with log_file.open("a") as f:
            f.write(json.dumps(r) + "\n")
        print(
            f"  {i:>2} {s.ws:<10} {s.kind:<8} rc={r['rc']} {r['ended_by']} "
            f"{r['seconds']:.0f}s {'ok' if r['passed'] else 'not ok'}",
            flush=True,
        )
    if redone:
        times["sessions_s"] = round(time.perf_counter() - t0, 1)
    summary["sessions"] = {
        "n": len(rows),
        "passed": sum(r["passed"] for r in rows),
        "ended_by": dict(Counter(str(r["ended_by"]) for r in rows)),
        "rc": dict(Counter(str(r["rc"]) for r in rows)),
        "by_kind": {
            k: {
                "n": sum(r["kind"] == k for r in rows),
                "passed": sum(r["passed"] for r in rows if r["kind"] == k),
            }
            for k in dict.fromkeys(r["kind"] for r in rows)
        },
        "asked": sum(len(r["asked"]) for r in rows),
        "approved": sum(a["answer"] == "y" for r in rows for a in r["asked"]),
        "seconds_total": round(sum(r["seconds"] for r in rows), 1),
    }
    missing = [r["index"] for r in rows if not r["session_id"]]
    if missing:
        print(f"  warning: no trace file found for sessions {missing}", file=sys.stderr)

    # 2. harvest
    harvest = out / "harvest"
    print("[2/4] harvest", flush=True)
    t0 = time.perf_counter()
    if redone or not (harvest / "harvest.json").is_file():
        redone = True
        rc = punie(
            "data",
            "harvest",
            "--out",
            str(harvest),
            "--traces",
            str(out / "home" / "traces"),
            "--model",
            str(model_path),
            "--limit",
            "0",
            log=out / "harvest.log",
        )
        if rc != 0:
            print((out / "harvest.log").read_text()[-2000:], file=sys.stderr)
            print(
                f"punie data harvest failed (rc {rc}); see {out / 'harvest.log'}", file=sys.stderr
            )
            return 1
        times["harvest_s"] = round(time.perf_counter() - t0, 1)
    rep = _json(harvest / "harvest.json") or {}
    fates = harvest_fates(rep)
    for r in rows:
        r["harvest"] = fates.get(r["session_id"] or "")
    summary["harvest"] = {
        "path": str(harvest),
        "turns": rep.get("turns"),
        "positives": rep.get("positives"),
        "pairs": rep.get("pairs"),
        "reasons": {k: v["turns"] for k, v in (rep.get("reasons") or {}).items()},
        # what the harvest kept that the script's own check called wrong: the harvest
        # cannot tell a wrong answer from a right one
        "positives_the_script_failed": sum(
            1 for r in rows if (r["harvest"] or "").startswith("positive") and not r["passed"]
        ),
    }
    n_newer = (rep.get("positives") or {}).get("test", 0)
    summary["n_newer_cases"] = n_newer

    def finish(code: int) -> int:
        summary["times"] = times
        summary["session_rows"] = rows
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        print_sessions(rows, fates)
        h = summary["harvest"]
        print(
            f"\nsessions: {summary['sessions']['passed']}/{summary['sessions']['n']} passed the "
            f"script's check; ended_by {summary['sessions']['ended_by']}"
        )
        print(
            f"harvest: positives {h['positives']}, pairs {h['pairs']}, "
            f"dropped/kept by reason {h['reasons']}, "
            f"positives the script called wrong {h['positives_the_script_failed']}"
        )
        if "compare" in summary:
            c = summary["compare"]
            print(
                f"newer sessions ({c['n']} cases): A1 {100 * c['a1_success']:.1f}% -> "
                f"A2 {100 * c['a2_success']:.1f}% ({c['delta_points']:+.1f} points, "
                f"95% CI {c['ci_points'][0]:+.1f}..{c['ci_points'][1]:+.1f}, "
                f"McNemar p={c['p_value']:.3g})"
            )
        print(f"times {times}\nsummary: {out / 'summary.json'}")
        if summary.get("error") or summary.get("note"):
            print(f"not finished: {summary.get('error') or summary.get('note')}", file=sys.stderr)
        return code

    if args.skip_train:
        return finish(0)

    # 3. the second adapter
    print(f"[3/4] flywheel: demo recipe (dev draws) + harvest x {args.weight:g}", flush=True)
    cfg, d = flywheel_config(args, model_spec, harvest)
    cfg_file = out / "flywheel.toml"
    write_config(cfg_file, cfg, d)
    summary["config"] = json.loads(cfg.model_dump_json())
    summary["seeds"] = {"data": cfg.data.seed, "train": cfg.train.get("seed"), "eval": 0}
    run_dir = out / "flywheel"
    t0 = time.perf_counter()
    fw = _json(run_dir / "flywheel.json")
    stale = fw and fw.get("config") != summary["config"]  # e.g. another --weight
    if redone or stale or not (fw and fw.get("complete")):
        redone = True
        rc = punie("flywheel", "run", str(cfg_file), "--run-dir", str(run_dir))
        fw = _json(run_dir / "flywheel.json")
        if rc != 0 or not fw:
            summary["error"] = f"punie flywheel run failed (rc {rc})"
            return finish(1)
        times["flywheel_s"] = round(time.perf_counter() - t0, 1)
    a2 = Path(fw["adapter"])
    summary["a2"] = {
        "path": str(a2),
        "hash": folder_hash(a2),
        "train_run": fw.get("train_run"),
    }
    summary["flywheel"] = {
        "run_dir": str(run_dir),
        "complete": fw.get("complete"),
        "verdict": fw.get("verdict"),
        "harvest": fw.get("harvest"),
        "data": fw.get("data"),
        "final_val_loss": (fw.get("train_manifest") or {}).get("final_val_loss"),
        "comparisons": {
            k: {
                x: v.get(x)
                for x in (
                    "n",
                    "base_accuracy",
                    "new_accuracy",
                    "delta_points",
                    "p_value",
                    "ci_points",
                    "label",
                )
            }
            for k, v in (fw.get("comparisons") or {}).items()
        },
    }

    # 4. A1 vs A2 on the newer sessions
    if n_newer == 0:
        summary["note"] = "the harvest held out no positive: no newer-session cases to score"
        print(f"  {summary['note']}", file=sys.stderr)
        return finish(1)
    print(f"[4/4] A1 and A2 on the {n_newer} newer sessions (harvest:{harvest})", flush=True)
    t0 = time.perf_counter()
    results = {}
    evaluated = False
    for name, adapter in (("a1", a1), ("a2", a2)):
        ev = out / "eval" / name
        res = _json(ev / "results.json")
        if redone or not (res and res.get("complete")):
            evaluated = True
            rc = punie(
                "eval",
                *(["--fresh"] if redone else []),  # else an interrupted one resumes
                "--suite",
                f"harvest:{harvest}",
                "--model",
                model_spec,
                "--adapter",
                str(adapter),
                "--out",
                str(ev),
                "--seed",
                "0",
                log=out / f"eval-{name}.log",
            )
            res = _json(ev / "results.json")
            if rc != 0 or not res:
                summary["error"] = f"punie eval of {name} failed (rc {rc}); see eval-{name}.log"
                return finish(1)
        results[name] = res
    rc = punie(
        "compare",
        str(out / "eval" / "a1" / "results.json"),
        str(out / "eval" / "a2" / "results.json"),
        "--out",
        str(out / "compare"),
        log=out / "compare.log",
    )
    cmp = _json(out / "compare" / "comparison.json")
    if rc != 0 or not cmp:
        summary["error"] = f"punie compare failed (rc {rc}); see compare.log"
        return finish(1)
    if evaluated or "newer_eval_s" not in times:  # reused evaluations keep their time
        times["newer_eval_s"] = round(time.perf_counter() - t0, 1)
    summary["compare"] = {
        "n": cmp["n"],
        "a1_success": cmp["base_accuracy"],
        "a2_success": cmp["new_accuracy"],
        "delta_points": cmp["delta_points"],
        "ci_points": cmp["ci_points"],
        "p_value": cmp["p_value"],
        "verdict": cmp["label"],
        "fixed": cmp["fixed"],
        "broken": cmp["broken"],
        "task_metrics": cmp.get("task_metrics"),
        "a1_summary": results["a1"].get("summary"),
        "a2_summary": results["a2"].get("summary"),
        "results": {k: str(out / "eval" / k / "results.json") for k in results},
        "comparison": str(out / "compare" / "comparison.json"),
    }
    return finish(0)


if __name__ == "__main__":
    sys.exit(main())
