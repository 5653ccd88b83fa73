"""The question bank behind the `python` dataset and the no-tool examples:
(category, request, answer), each request distinct."""

from __future__ import annotations

# (category, request, answer)
ITEMS: tuple[tuple[str, str, str], ...] = (
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
    ("general", "How do I make a dict from two lists?", "Use `dict(zip(keys, values))`."),
    (
        "general",
        "What does `str.split()` return?",
        "A list of the words, split on whitespace by default.",
    ),
    ("general", "How do I check a string starts with a prefix?", "Use `text.startswith('pre')`."),
    ("general", "What is `pip`?", "Python's package installer: `python -m pip install name`."),
    (
        "general",
        "How do I round to two decimals?",
        "Use `round(x, 2)` or format it with `f'{x:.2f}'`.",
    ),
    ("general", "What is a module?", "A `.py` file whose names you can `import`."),
    ("general", "How do I exit a script with an error code?", "Call `sys.exit(1)`."),
    ("general", "What does `break` do?", "It leaves the innermost loop at once."),
    ("general", "What does `continue` do?", "It skips to the next iteration of the loop."),
    (
        "general",
        "How do I get command-line arguments?",
        "Use `sys.argv`, or `argparse` for real options.",
    ),
    (
        "general",
        "What is a docstring?",
        "The string literal first in a function, class or module that documents it.",
    ),
    ("general", "How do I make a copy of a list?", "Use `items.copy()` or `list(items)`."),
    (
        "general",
        "What does `isinstance` do?",
        "It tests if an object is an instance of a class or its subclasses.",
    ),
    (
        "general",
        "How do I count items in a list?",
        "Use `collections.Counter(items)`, or `items.count(x)` for one value.",
    ),
    (
        "general",
        "What is `self`?",
        "The instance a method was called on, passed as the first argument.",
    ),
    (
        "general",
        "How do I write to a file?",
        "Use `Path('out.txt').write_text(text)` or `open(path, 'w')`.",
    ),
    ("general", "What does `pass` do?", "Nothing: it fills a block that must not be empty."),
    (
        "general",
        "How do I lowercase a string?",
        "Call `text.lower()`; strings are immutable, so keep the result.",
    ),
    (
        "general",
        "What is a generator expression?",
        "A lazy comprehension in parentheses: `(x * 2 for x in nums)`.",
    ),
    ("general", "How do I get today's date?", "Use `datetime.date.today()`."),
    (
        "general",
        "What is the difference between `==` and `is`?",
        "`==` compares values; `is` checks they are the same object.",
    ),
    ("general", "How do I sleep for a second?", "Call `time.sleep(1)`."),
    ("general", "What is a KeyError?", "The error raised when a dict has no such key."),
    ("general", "How do I flatten a list of lists?", "Use `[x for row in rows for x in row]`."),
    ("general", "What does `sorted` return?", "A new sorted list; the input is unchanged."),
    (
        "general",
        "How do I strip spaces from a string?",
        "Use `text.strip()`, or `lstrip`/`rstrip` for one side.",
    ),
    (
        "general",
        "What is `__repr__` for?",
        "It gives an unambiguous text form of an object, used in the REPL.",
    ),
    ("general", "How do I raise an exception?", "Use `raise ValueError('bad input')`."),
    ("general", "Good morning!", "Good morning! What shall we work on?"),
    ("general", "Can you help me with Python?", "Yes. What are you trying to do?"),
    ("general", "What is 2 + 2?", "4."),
    ("general", "Who created Python?", "Guido van Rossum; Python was first released in 1991."),
)
