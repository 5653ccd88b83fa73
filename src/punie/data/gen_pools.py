"""Phrasings and argument values of the single-turn tool-calling generator
(`gen_tools.tool_example`), one training pool.

The trace generator (`gen_traces`) draws its no-tool question bank (`TRAIN.qa`) and
system turns from it too. The evaluation suites come from the DEV and TEST pools of
the task plans instead (`gen_task_prompts`, `gen_workspaces`), which share no value
with this one. Everything is kept short: the demo trains a 135M model on two CPU cores.
"""

from __future__ import annotations

from dataclasses import dataclass

from punie.data.gen_python import qa_pairs, suite_requests
from punie.data.gen_vocab import (
    OTHER_SYSTEM_PROMPTS,
    SMALL_TALK,
    SNIPPET_QA,
    TECH_QA,
    TRAIN_COMMANDS,
    TRAIN_CONTENTS,
    TRAIN_DIRS,
    TRAIN_FILES,
    TRAIN_PATTERNS,
)
from punie.toolspec import SYSTEM_PROMPT


@dataclass(frozen=True)
class Pool:
    dirs: tuple[str, ...]
    roots: tuple[str, ...]  # folders listed as a whole ("." in train)
    files: tuple[str, ...]
    # (relative file name, what it holds, its content) for read results and writes
    contents: tuple[tuple[str, str, str], ...]
    patterns: tuple[str, ...]
    commands: tuple[tuple[str, str, str], ...]  # (command, output, summary)
    read: tuple[str, ...]
    write: tuple[str, ...]
    list_dir: tuple[str, ...]
    search: tuple[str, ...]
    search_in: tuple[str, ...]
    run: tuple[str, ...]
    find_then_read: tuple[str, ...]
    list_then_read: tuple[str, ...]
    test_then_read: tuple[str, ...]
    qa: tuple[tuple[str, str], ...]  # questions answered without tools (from gen_python)
    # The system turns drawn per row: mostly the agent's own prompt (punie.agent sends
    # the same words, so the tuned model sees at serve time what it trained on), None
    # for clients that send none.
    system_prompts: tuple[str | None, ...] = (SYSTEM_PROMPT, SYSTEM_PROMPT, None)


TRAIN = Pool(
    dirs=TRAIN_DIRS,
    roots=(".", "./"),
    files=TRAIN_FILES,
    contents=TRAIN_CONTENTS,
    patterns=TRAIN_PATTERNS,
    commands=TRAIN_COMMANDS,
    read=(
        "Show me {path}.",
        "What's in {path}?",
        "Open {path} please.",
        "Can you read {path}?",
        "Print the contents of {path}.",
        "Let me see {path}.",
        "read {path}",
        "What does the file {path} say?",
        "cat {path}",
        "Open up {path}.",
        "Show {path}.",
        "I'd like to see {path}.",
        "Read the file {path}.",
        "View {path}.",
        "Check the contents of {path}.",
        "Give me the text of {path}.",
        "Could you open {path}?",
        "Show me what {path} says.",
        "Open the file {path}.",
        "What is written in {path}?",
    ),
    write=(
        "Create {path} with {desc}.",
        "Write {desc} to {path}.",
        "Make a file {path} holding {desc}.",
        "Save {desc} into {path}.",
        "Please add {path} containing {desc}.",
        "Add a new file {path} with {desc}.",
        "Create a file called {path} containing {desc}.",
        "Write a file {path} that has {desc}.",
        "Store {desc} in {path}.",
        "Can you create {path} holding {desc}?",
        "Set up {path} with {desc} in it.",
        "Overwrite {path} with {desc}.",
        "Write {path}: {desc}.",
        "Make {path} and put {desc} in it.",
        "Save a file {path} with {desc}.",
    ),
    list_dir=(
        "What files are in {path}?",
        "List {path}.",
        "Show me the contents of the {path} folder.",
        "ls {path}",
        "What's inside {path}?",
        "List the files in {path}.",
        "What's in the {path} directory?",
        "Show the folder {path}.",
        "Which files live in {path}?",
        "Give me the file list for {path}.",
        "Can you list the directory {path}?",
        "List everything under {path}.",
        "What is in folder {path}?",
        "Show me the files of {path}.",
    ),
    search=(
        "Find {pattern} in the code.",
        "Where is {pattern} used?",
        "Search for {pattern}.",
        "grep for {pattern}",
        "Which files mention {pattern}?",
        "Search the codebase for {pattern}.",
        "Find all occurrences of {pattern}.",
        "Where do we use {pattern}?",
        "grep {pattern}",
        "Look for {pattern} across the project.",
        "Find every place that has {pattern}.",
        "Is {pattern} used anywhere?",
        "Show me where {pattern} shows up.",
        "Search the project for {pattern}.",
    ),
    search_in=(
        "Search {path} for {pattern}.",
        "Look for {pattern} inside {path}.",
        "Find {pattern} under {path}.",
        "grep {pattern} in {path}",
        "Search for {pattern} in {path}.",
        "Find uses of {pattern} in {path}.",
        "Does {path} mention {pattern}?",
        "Which files in {path} contain {pattern}?",
    ),
    run=(
        "Run {command}.",
        "Please execute {command}.",
        "Can you run `{command}`?",
        "Execute {command} and tell me the result.",
        "run {command}",
        "What does `{command}` say?",
        "Try {command}.",
        "Run `{command}`.",
        "Execute `{command}`.",
        "Please run {command} for me.",
        "Can you execute {command}?",
        "Run this: {command}",
        "Go ahead and run {command}.",
        "Launch {command}.",
        "Run the command {command}.",
        "Fire off `{command}`.",
    ),
    find_then_read=(
        "Find where {pattern} is defined and show me that file.",
        "Locate {pattern} and open the file it is in.",
        "Search for {pattern}, then show me the file that has it.",
        "Which file has {pattern}? Open it.",
        "Find the file that defines {pattern} and open it.",
        "Search the code for {pattern} and read the file you find.",
        "Where is {pattern}? Show me the whole file.",
        "Look for {pattern}, then open the matching file.",
        "grep for {pattern} and open the file it's in",
        "Get me the file containing {pattern}.",
        "Open whichever file contains {pattern}.",
        "I need the file with {pattern} in it; find it and read it.",
        "Find {pattern} and print that file.",
        "Locate the definition of {pattern} and read it to me.",
    ),
    list_then_read=(
        "Look in {path} and open the first file.",
        "Check what is in {path}, then read the first file.",
        "List {path} and show me the first file in it.",
        "Open the first file you find in {path}.",
        "What's in {path}? Open the first file there.",
        "List the files in {path} and read the first one.",
        "Go into {path} and show me its first file.",
        "ls {path}, then cat the first file",
        "Show the contents of the {path} folder, then open the first file.",
        "Peek into {path} and read the first file it has.",
        "Read the first file in {path}; list the folder first.",
        "Check the {path} directory and open its first entry.",
        "Which files are in {path}? Read the first one.",
    ),
    test_then_read=(
        "Run the tests and show me the failing file.",
        "Run pytest and open the file that fails.",
        "Run the tests, then open whatever fails.",
        "Test the project and show me the file with the failure.",
        "Run the test suite and open the file that failed.",
        "Run my tests and show the file with the failing test.",
        "Check whether the tests pass and open the failing test file.",
        "Run pytest, then read the test file that fails.",
        "Can you run the tests and show me what's failing?",
        "Run the tests; if one fails, open its file.",
        "Test everything and open the file of the first failure.",
        "Launch the tests and read the failing file.",
    ),
    qa=tuple(
        qa
        for qa in qa_pairs(heldout=False) + SMALL_TALK + TECH_QA + SNIPPET_QA
        if qa[0].strip() not in suite_requests()
    ),
    system_prompts=(SYSTEM_PROMPT, SYSTEM_PROMPT, SYSTEM_PROMPT, None, *OTHER_SYSTEM_PROMPTS),
)
