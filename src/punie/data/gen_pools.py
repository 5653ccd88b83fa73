"""Phrasings and argument values for the tool-calling generator, in two disjoint pools.

`TRAIN` feeds train.jsonl; `HELDOUT` feeds valid/test.jsonl and the evaluation cases.
No phrasing template and no argument value appears in both, so a model that scores
on held-out data has generalised instead of remembering strings. Everything is kept
short: the demo trains a 135M model on two CPU cores.
"""

from __future__ import annotations

from dataclasses import dataclass

from punie.data.gen_python import qa_pairs


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


TRAIN = Pool(
    dirs=("src/app", "src/utils", "lib", "tests", "docs", "scripts", "src/api", "app/models"),
    roots=(".", "./"),
    files=(
        "main.py",
        "config.py",
        "models.py",
        "utils.py",
        "README.md",
        "setup.cfg",
        "requirements.txt",
        "test_models.py",
        "views.py",
        "db.py",
    ),
    contents=(
        ("greet.py", "a greet function", "def greet(name):\n    return f'Hi {name}'\n"),
        ("notes.txt", "a shopping note", "buy milk and eggs\n"),
        ("add.py", "an add function", "def add(a, b):\n    return a + b\n"),
        ("version.py", "the version string", "__version__ = '1.2.0'\n"),
        ("todo.md", "a todo list", "- write tests\n- fix login bug\n"),
        ("settings.ini", "debug settings", "[app]\ndebug = true\n"),
    ),
    patterns=(
        "TODO",
        "parse_config",
        "import requests",
        "def main",
        "FIXME",
        "logger.warning",
        "SECRET_KEY",
        "class User",
    ),
    commands=(
        ("pytest -q", "12 passed in 0.8s", "All 12 tests pass."),
        ("git status", "nothing to commit, working tree clean", "The working tree is clean."),
        ("ruff check .", "All checks passed!", "Ruff finds no problems."),
        ("python --version", "Python 3.11.7", "It is Python 3.11.7."),
        ("ls -la", "total 8\nmain.py\nREADME.md", "The folder holds main.py and README.md."),
        ("pip list", "requests 2.31.0\nrich 13.7.0", "requests and rich are installed."),
        (
            "git diff --stat",
            "2 files changed, 9 insertions(+)",
            "Two files changed, 9 lines added.",
        ),
        (
            "python main.py --help",
            "usage: main.py [-h] [--port PORT]",
            "It takes an optional --port.",
        ),
        ("pytest -q tests/test_db.py", "3 passed in 0.2s", "The 3 database tests pass."),
        ("git branch", "* main\n  feature/login", "You are on main; feature/login also exists."),
        ("wc -l main.py", "42 main.py", "main.py has 42 lines."),
        ("black --check .", "All done! 14 files would be left unchanged.", "Formatting is clean."),
    ),
    read=(
        "Show me {path}.",
        "What's in {path}?",
        "Open {path} please.",
        "Can you read {path}?",
        "Print the contents of {path}.",
        "Let me see {path}.",
        "read {path}",
        "What does the file {path} say?",
    ),
    write=(
        "Create {path} with {desc}.",
        "Write {desc} to {path}.",
        "Make a file {path} holding {desc}.",
        "Save {desc} into {path}.",
        "Please add {path} containing {desc}.",
    ),
    list_dir=(
        "What files are in {path}?",
        "List {path}.",
        "Show me the contents of the {path} folder.",
        "ls {path}",
        "What's inside {path}?",
    ),
    search=(
        "Find {pattern} in the code.",
        "Where is {pattern} used?",
        "Search for {pattern}.",
        "grep for {pattern}",
        "Which files mention {pattern}?",
    ),
    search_in=(
        "Search {path} for {pattern}.",
        "Look for {pattern} inside {path}.",
        "Find {pattern} under {path}.",
    ),
    run=(
        "Run {command}.",
        "Please execute {command}.",
        "Can you run `{command}`?",
        "Execute {command} and tell me the result.",
        "run {command}",
        "What does `{command}` say?",
        "Try {command}.",
    ),
    find_then_read=(
        "Find where {pattern} is defined and show me that file.",
        "Locate {pattern} and open the file it is in.",
    ),
    list_then_read=(
        "Look in {path} and open the first file.",
        "Check what is in {path}, then read the first file.",
    ),
    test_then_read=(
        "Run the tests and show me the failing file.",
        "Run pytest and open the file that fails.",
    ),
    qa=qa_pairs(heldout=False),
)

HELDOUT = Pool(
    dirs=("pkg/core", "tools", "src/server", "examples", "bench", "src/cli"),
    roots=("src", "pkg"),
    files=(
        "handlers.py",
        "cli.py",
        "schema.py",
        "pyproject.toml",
        "CHANGELOG.md",
        "conftest.py",
        "routes.py",
        "cache.py",
    ),
    contents=(
        ("hello.py", "a hello world script", "print('hello world')\n"),
        ("motd.txt", "a welcome message", "Welcome back!\n"),
        ("square.py", "a square function", "def square(x):\n    return x * x\n"),
        (".env.example", "an example env file", "PORT=8080\n"),
    ),
    patterns=("XXX", "load_settings", "async def", "deprecated", "HTTPError", "retry"),
    commands=(
        ("pytest tests/test_cli.py -x", "1 failed, 3 passed", "One of the four CLI tests fails."),
        (
            "git log --oneline -3",
            "a1b2c3 fix cache\nd4e5f6 add cli",
            "The last commits fix the cache and add the CLI.",
        ),
        ("mypy src", "Success: no issues found", "mypy reports no type errors."),
        ("make lint", "lint ok", "The lint target passes."),
        ("du -sh .", "4.2M\t.", "The project takes 4.2 MB."),
        ("uv run pytest", "8 passed, 1 skipped", "8 tests pass and 1 is skipped."),
        ("git stash list", "stash@{0}: WIP on main", "There is one stash on main."),
    ),
    read=(
        "Display the file {path}.",
        "I need to look at {path}.",
        "Read {path} for me.",
        "What does {path} contain?",
        "Pull up {path}.",
    ),
    write=(
        "Put {desc} in a new file {path}.",
        "Generate {path} that contains {desc}.",
        "I want {path} to hold {desc}.",
    ),
    list_dir=(
        "Which files does {path} have?",
        "Give me a listing of {path}.",
        "Browse the {path} directory.",
    ),
    search=(
        "Look up every use of {pattern}.",
        "Where does {pattern} appear?",
        "Hunt for {pattern} in the repo.",
    ),
    search_in=("Check {path} for occurrences of {pattern}.", "Is {pattern} anywhere in {path}?"),
    run=(
        "Could you execute `{command}`?",
        "Start {command} for me.",
        "Kick off {command}.",
        "Show me the output of {command}.",
    ),
    find_then_read=("Track down {pattern} and display the file that has it.",),
    list_then_read=("See what {path} holds and read its first file.",),
    test_then_read=("Execute the test suite and show the broken file.",),
    qa=qa_pairs(heldout=True),
)
