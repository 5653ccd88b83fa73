"""The `python` dataset: code explanation, debugging and best practices, answered
directly (no tools). Each item is a distinct request: no prompt is a template filled
with different values, so the model cannot score by remembering a template.

Items are split in two fixed halves by position (`TRAIN_ITEMS`, `HELDOUT_ITEMS`) so
the held-out rows of `generate python` and the no-tool evaluation cases never share
a question with training.
"""

from __future__ import annotations

import random
from typing import Any

# (category, request, answer)
_ITEMS: tuple[tuple[str, str, str], ...] = (
    # --- explain
    (
        "explain",
        "What does this do?\n```python\nsquares = [n * n for n in range(5)]\n```",
        "It builds the list `[0, 1, 4, 9, 16]`: the square of each number from 0 to 4.",
    ),
    (
        "explain",
        "Explain `with open('a.txt') as f:`.",
        "It opens the file and closes it when the block ends, even if an exception is raised.",
    ),
    (
        "explain",
        "What is `*args` in `def f(*args):`?",
        "It collects any extra positional arguments into a tuple named `args`.",
    ),
    (
        "explain",
        "Explain this line: `name = user.get('name', 'anonymous')`.",
        "It reads the `name` key from the dict and falls back to `'anonymous'` if it is missing.",
    ),
    (
        "explain",
        "What does `if __name__ == '__main__':` mean?",
        "The block runs only when the file is executed as a script, not when it is imported.",
    ),
    (
        "explain",
        "What does `@staticmethod` change?",
        "The method gets no `self` or `cls`; it is a plain function living in the class namespace.",
    ),
    (
        "explain",
        "Explain `lambda x: x + 1`.",
        "An anonymous function that takes `x` and returns `x + 1`.",
    ),
    (
        "explain",
        "What does `yield` do in a function?",
        "It turns the function into a generator that produces values one at a time, lazily.",
    ),
    (
        "explain",
        "What does this print?\n```python\nprint(', '.join(['a', 'b']))\n```",
        "It prints `a, b`.",
    ),
    (
        "explain",
        "What is `__init__` for?",
        "It initialises a new instance: it sets the attributes an object starts with.",
    ),
    (
        "explain",
        "Explain `any(x > 3 for x in nums)`.",
        "It is True if at least one number is greater than 3; it stops at the first match.",
    ),
    (
        "explain",
        "What does `dict.items()` return?",
        "A view of `(key, value)` pairs, handy in `for key, value in d.items():`.",
    ),
    (
        "explain",
        "What does `assert x > 0` do?",
        "It raises AssertionError if `x > 0` is false; `python -O` skips asserts.",
    ),
    (
        "explain",
        "What is `@dataclass` for?",
        "It writes `__init__`, `__repr__` and `__eq__` for a class from its annotated fields.",
    ),
    (
        "explain",
        "What does `x or default` evaluate to?",
        "`x` if it is truthy, otherwise `default`.",
    ),
    (
        "explain",
        "What does `from pathlib import Path` give me?",
        "Path objects: `Path('a') / 'b.txt'` joins paths and `.read_text()` reads files.",
    ),
    # --- debug
    (
        "debug",
        "Why does `int('3.5')` fail?",
        "`int` only parses whole numbers; use `int(float('3.5'))` or `round(float(...))`.",
    ),
    (
        "debug",
        'I get `TypeError: can only concatenate str (not "int") to str`. Why?',
        "You add a number to a string; convert it first: `'age: ' + str(age)` or use an f-string.",
    ),
    (
        "debug",
        "Why does my default list keep growing?\n```python\ndef add(x, items=[]):\n    items.append(x)\n    return items\n```",
        "The default list is created once and shared; use `items=None` and create a new list inside.",
    ),
    (
        "debug",
        "Fix this: `for i in range(len(xs)): print(xs[i+1])`.",
        "`xs[i+1]` runs past the end on the last step; loop over `xs` directly: `for x in xs: print(x)`.",
    ),
    (
        "debug",
        "Why `KeyError: 'port'`?",
        "The dict has no `port` key; use `config.get('port', 8080)` or check `'port' in config`.",
    ),
    (
        "debug",
        "My `if x = 5:` line is a syntax error. Why?",
        "`=` assigns; compare with `==`: `if x == 5:`.",
    ),
    (
        "debug",
        "`IndentationError: expected an indented block`: what now?",
        "The line after a `:` must be indented; indent the body by four spaces.",
    ),
    (
        "debug",
        "Why is `0.1 + 0.2 == 0.3` False?",
        "Floats are binary approximations; compare with `math.isclose(0.1 + 0.2, 0.3)`.",
    ),
    (
        "debug",
        "`AttributeError: 'NoneType' object has no attribute 'strip'`. What happened?",
        "A value you expected to be a string is None, often a function that forgot to `return`.",
    ),
    (
        "debug",
        "Why does modifying a list while looping over it skip items?",
        "Removing shifts the items under the loop; loop over a copy or build a new list.",
    ),
    (
        "debug",
        "`ModuleNotFoundError: No module named 'requests'`. Fix?",
        "Install it into the active environment: `python -m pip install requests`.",
    ),
    (
        "debug",
        "Why does `print(a is b)` say False for two equal lists?",
        "`is` tests identity, not equality; use `a == b`.",
    ),
    (
        "debug",
        "My recursion raises RecursionError. Why?",
        "It never reaches a base case, or recurses too deep; add a stopping condition or loop.",
    ),
    (
        "debug",
        "Why does `json.dumps` fail on a set?",
        "JSON has no set type; convert it first: `json.dumps(sorted(my_set))`.",
    ),
    # --- best practice
    (
        "practice",
        "Should I use `except:` with no type?",
        "No: it also catches KeyboardInterrupt; catch the specific exceptions you expect.",
    ),
    (
        "practice",
        "How should I build file paths?",
        "Use `pathlib.Path` and the `/` operator instead of string concatenation.",
    ),
    ("practice", "How do I format strings nicely?", "Prefer f-strings: `f'{name} is {age}'`."),
    (
        "practice",
        "Is `type(x) == int` a good check?",
        "Use `isinstance(x, int)`: it also accepts subclasses.",
    ),
    (
        "practice",
        "How should I name constants?",
        "In UPPER_CASE at module level, e.g. `MAX_RETRIES = 3`.",
    ),
    (
        "practice",
        "What is a good way to log instead of print?",
        "Use `logging.getLogger(__name__)` and call `logger.info(...)`.",
    ),
    (
        "practice",
        "How do I keep dependencies per project?",
        "Use a virtual environment and pin versions in `pyproject.toml`.",
    ),
    (
        "practice",
        "Should functions have type hints?",
        "Yes for public code: `def area(r: float) -> float:` documents and lets tools check it.",
    ),
    (
        "practice",
        "How do I test a function in Python?",
        "Write `test_*.py` files with plain `assert`s and run `pytest`.",
    ),
    (
        "practice",
        "When should I use a generator instead of a list?",
        "When the data is large or streamed and you only need to iterate once.",
    ),
    (
        "practice",
        "How long should a function be?",
        "Short enough to do one thing you can name; split it when it needs comments per section.",
    ),
    (
        "practice",
        "Should I compare to None with `==`?",
        "Use `is None` / `is not None`: None is a singleton.",
    ),
    (
        "practice",
        "How do I avoid a hard-coded password in code?",
        "Read it from an environment variable or a secrets manager, never commit it.",
    ),
    (
        "practice",
        "Is it fine to use `from module import *`?",
        "Avoid it: it hides where names come from and can shadow your own.",
    ),
    # --- short general questions (used for no-tool examples too)
    (
        "general",
        "What does `len()` return?",
        "The number of items in a container, e.g. `len([1, 2])` is 2.",
    ),
    (
        "general",
        "How do I reverse a list?",
        "Use `items[::-1]` for a copy or `items.reverse()` in place.",
    ),
    (
        "general",
        "What is a list comprehension?",
        "A compact loop that builds a list: `[x * 2 for x in nums]`.",
    ),
    (
        "general",
        "How do I read a file line by line?",
        "Use `with open(path) as f:` and loop `for line in f:`.",
    ),
    ("general", "Tuple or list?", "A tuple is immutable; a list can change."),
    (
        "general",
        "How do I check if a key is in a dict?",
        "Use `key in d`; it returns True or False.",
    ),
    ("general", "What does `enumerate` do?", "It yields `(index, item)` pairs while you loop."),
    (
        "general",
        "How do I convert a string to an int?",
        "Call `int(text)`; it raises ValueError on bad input.",
    ),
    (
        "general",
        "How do I join a list of strings?",
        "Use `', '.join(words)`; every item must be a string.",
    ),
    (
        "general",
        "What is a virtual environment?",
        "An isolated Python install per project: `python -m venv .venv`.",
    ),
    ("general", "When should I use a set?", "When you need fast membership tests or unique items."),
    ("general", "What is the capital of France?", "Paris."),
    ("general", "Say hello.", "Hello! How can I help with your code?"),
    (
        "general",
        "What does `zip` do?",
        "It pairs items from several iterables: `zip([1, 2], 'ab')`.",
    ),
    ("general", "How do I sort dicts by a key?", "Use `sorted(rows, key=lambda r: r['age'])`."),
    (
        "general",
        "What is a Python decorator?",
        "A function that wraps another to add behaviour, used as `@name`.",
    ),
    (
        "general",
        "How do I copy a dict?",
        "`d.copy()` for a shallow copy, `copy.deepcopy(d)` for nested data.",
    ),
    ("general", "What does `range(3)` produce?", "The numbers 0, 1 and 2, lazily."),
    (
        "general",
        "How do I remove duplicates from a list?",
        "Use `list(dict.fromkeys(items))` to keep the order.",
    ),
    (
        "general",
        "What is an f-string?",
        "A string with an `f` prefix whose `{expr}` parts are filled in.",
    ),
    ("general", "How do I get the current directory?", "Call `os.getcwd()` or `Path.cwd()`."),
    (
        "general",
        "What is the GIL?",
        "CPython's global lock: one thread runs Python bytecode at a time.",
    ),
    ("general", "Hi there!", "Hi! What are you working on?"),
    ("general", "Thanks, that helped.", "Glad it helped! Anything else?"),
    (
        "general",
        "How do I find the largest number in a list?",
        "Use `max(nums)`; it raises ValueError on an empty list.",
    ),
    (
        "general",
        "How do I measure how long code takes?",
        "Use `time.perf_counter()` before and after, or `python -m timeit`.",
    ),
    (
        "general",
        "What is PEP 8?",
        "Python's style guide: 4-space indents, snake_case names, 79-100 char lines.",
    ),
    (
        "general",
        "How do I parse JSON?",
        "Use `json.loads(text)` for a string or `json.load(f)` for a file.",
    ),
)

# Every fourth item is held out, so each kind of request is on both sides.
TRAIN_ITEMS = tuple(item for i, item in enumerate(_ITEMS) if i % 4 != 3)
HELDOUT_ITEMS = tuple(item for i, item in enumerate(_ITEMS) if i % 4 == 3)

SYSTEM_PROMPT = "You are a Python expert. Answer concisely."


def qa_pairs(heldout: bool) -> tuple[tuple[str, str], ...]:
    """(question, answer) pairs without tools, for no-tool examples."""
    items = HELDOUT_ITEMS if heldout else TRAIN_ITEMS
    return tuple((q, a) for _, q, a in items)


def _row(item: tuple[str, str, str], system: bool) -> dict[str, Any]:
    category, request, answer = item
    messages = [{"role": "user", "content": request}, {"role": "assistant", "content": answer}]
    if system:
        messages.insert(0, {"role": "system", "content": SYSTEM_PROMPT})
    return {"messages": messages, "category": category}


def generate_python(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Up to n rows, each request used once: train from TRAIN_ITEMS, valid/test split
    from HELDOUT_ITEMS. Asking for more than the bank holds gives the whole bank."""
    rng = random.Random(seed)
    n_eval = min(len(HELDOUT_ITEMS), max(2, n // 5))
    train = rng.sample(TRAIN_ITEMS, min(len(TRAIN_ITEMS), n - n_eval))
    heldout = rng.sample(HELDOUT_ITEMS, n_eval)
    half = n_eval // 2
    return {
        "train": [_row(it, rng.random() < 0.5) for it in train],
        "valid": [_row(it, rng.random() < 0.5) for it in heldout[:half]],
        "test": [_row(it, rng.random() < 0.5) for it in heldout[half:]],
    }


def bank_size() -> int:
    return len(_ITEMS)
