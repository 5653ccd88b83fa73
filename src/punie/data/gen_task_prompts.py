"""Request phrasings for whole-task traces and task suites, one disjoint set per pool.

A phrasing in TRAIN never appears in DEV or TEST (nor a near copy of one: the
leakage tests compare normalised prompts with difflib), so a suite score measures
whether the agent does the task, not whether it remembers the words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompts:
    read_code: tuple[str, ...]  # {func} {path}
    read_text: tuple[str, ...]  # {path}
    list_dir: tuple[str, ...]  # {dir}
    search_def: tuple[str, ...]  # {func}: which file defines it
    search_then_read: tuple[str, ...]  # {func}: find it, say what it returns
    run: tuple[str, ...]  # {command}
    write: tuple[str, ...]  # {path} {text}
    edit: tuple[str, ...]  # {path} {key} {old} {new}
    list_then_read: tuple[str, ...]  # {dir}: list, read the python file, say what it returns
    read_then_run: tuple[str, ...]  # {path}: read the script, run it, report
    write_then_run: tuple[str, ...]  # {path} {text}: write a file, then cat it
    # (question, answer, key word the answer must hold) answered without a tool
    direct: tuple[tuple[str, str, str], ...]
    # (request, kind) answered without a tool, kind "small_talk" or "coding" (a coding
    # question offered the tools, some worded like a request to act). Only the
    # single-turn no-tool suites ask these: kept apart from `direct`, whose draws the
    # task suites and the valid/test rows are made of, so those keep their cases.
    chat: tuple[tuple[str, str], ...] = ()


TRAIN_PROMPTS = Prompts(
    read_code=(
        "What does {func} in {path} return?",
        "Read {path} and tell me what {func} returns.",
        "What is the return value of {func} in {path}?",
        "Open {path}: what does {func} give back?",
        "In {path}, what expression does {func} return?",
        "Check {path} and say what {func} computes.",
        "What value does {func} return? It is in {path}.",
        "{path}: what does {func} return?",
        "Tell me what the function {func} in {path} returns.",
        "Can you read {path} and tell me the return value of {func}?",
        "I need to know what {func} returns; the code is in {path}.",
        "What does the function {func} (in {path}) give back?",
        "Quick question about {path}: what is returned by {func}?",
        "Look at {func} in {path}. What does it return?",
        "Please check what {func} returns in {path}.",
        "How does {func} in {path} compute its return value?",
        "What's the return expression of {func}, defined in {path}?",
        "Open {path} and show me what {func} returns.",
    ),
    read_text=(
        "What does {path} say?",
        "Read {path} for me and sum it up.",
        "What is written in {path}?",
        "Show me what {path} contains.",
        "Open {path} and tell me its contents.",
    ),
    list_dir=(
        "What files are in {dir}?",
        "List the files in {dir}.",
        "Which files live in the {dir} folder?",
        "ls {dir}",
        "What's inside {dir}?",
        "Show me the files in {dir}.",
        "List {dir} for me.",
        "What is in the {dir} directory?",
        "Which files does {dir} contain?",
        "Can you list what's in {dir}?",
        "Tell me the files inside {dir}.",
        "What files does the folder {dir} have?",
        "I want to see what {dir} holds.",
        "Show the contents of the {dir} folder.",
        "Please list the directory {dir}.",
    ),
    search_def=(
        "Which file defines {func}?",
        "Where is {func} defined?",
        "Find the file that has the function {func}.",
        "In which file is def {func}?",
        "Which file has the definition of {func}?",
        "Find where {func} is defined.",
        "Search the code for {func} and tell me which file defines it.",
        "Where does the function {func} come from?",
        "In what file can I find {func}?",
        "Look for def {func} and tell me the file.",
        "What file is {func} written in?",
        "Can you find the file defining {func}?",
    ),
    search_then_read=(
        "Find {func} and tell me what it returns.",
        "Locate the function {func} and say what it computes.",
        "Search for {func}, then tell me its return value.",
    ),
    run=(
        "Run {command} and tell me what it prints.",
        "Execute `{command}` and report the output.",
        "What does `{command}` output?",
        "Please run {command}.",
        "Run `{command}` for me.",
        "Try {command} and tell me the result.",
        "Run this: {command}",
        "Can you run {command} and tell me the output?",
        "Execute {command}.",
        "Run {command} and show me the result.",
        "What is the output of `{command}`?",
        "Please execute {command} and tell me what it printed.",
        "Run the command {command}.",
        "Use the shell to run {command} and report back.",
        "What happens when you run {command}?",
    ),
    write=(
        "Create {path} containing exactly: {text}",
        "Write a file {path} with exactly this text: {text}",
        "Make {path} and put exactly this in it: {text}",
        "Save exactly '{text}' to {path}.",
        "Create a file {path} with the content: {text}",
        "Write exactly this to {path}: {text}",
        "Make a new file {path}. Its content should be exactly: {text}",
        "Create {path}. Put exactly this line in it: {text}",
        "Please write the text '{text}' into {path}.",
        "Save this text as {path}: {text}",
        "Write {path} containing only: {text}",
    ),
    edit=(
        "In {path}, change {key} from {old} to {new}.",
        "Set {key} to {new} in {path} (it is {old} now).",
        "Edit {path}: {key} should be {new} instead of {old}.",
        "Update {path} so that {key} = {new}.",
        "Change {key} to {new} in {path}.",
        "In {path}, set {key} = {new} instead of {old}.",
        "Please update {key} in {path} from {old} to {new}.",
        "{path} has {key} = {old}; make it {new}.",
        "Edit {path} and change the {key} setting to {new}.",
        "Could you change {key} in {path}? It should be {new}, not {old}.",
    ),
    list_then_read=(
        "Look in {dir}, open the Python file there and tell me what its function returns.",
        "List {dir}, then read its .py file and say what the function returns.",
        "What does the function in the {dir} folder return? List it first, then read the .py file.",
        "Check which Python file is in {dir}, read it, and tell me what its function returns.",
        "Find the .py file in {dir} and tell me what the function in it returns.",
    ),
    read_then_run=(
        "Read {path}, then run it.",
        "Show me {path} and then run it with python3.",
        "Read {path} and then run it with python3.",
        "First show me {path}, then execute it.",
        "Open {path}, then run it and tell me the output.",
    ),
    write_then_run=(
        "Write exactly '{text}' to {path}, then cat it to check.",
        "Create {path} containing exactly: {text} -- then cat it.",
    ),
    direct=(
        ("What is 17 * 3?", "17 * 3 is 51.", "51"),
        ("Translate 'thank you' into French.", "In French, 'thank you' is 'merci'.", "merci"),
        ("How many days are in a leap year?", "A leap year has 366 days.", "366"),
        ("What is the capital of Japan?", "The capital of Japan is Tokyo.", "Tokyo"),
        ("Spell 'python' backwards.", "'python' backwards is 'nohtyp'.", "nohtyp"),
        ("Convert 2 hours to minutes.", "2 hours is 120 minutes.", "120"),
        ("Translate 'cat' to Spanish.", "In Spanish, 'cat' is 'gato'.", "gato"),
        ("What is the square root of 81?", "The square root of 81 is 9.", "9"),
        ("Which is larger, 0.7 or 0.65?", "0.7 is larger than 0.65.", "0.7"),
        (
            "Write a haiku about rain.",
            "Soft rain on the roof, / gutters hum a quiet song, / streets shine.",
            "rain",
        ),
        ("What is 100 divided by 8?", "100 divided by 8 is 12.5.", "12.5"),
        (
            "Name the primary colors of light.",
            "The primary colors of light are red, green and blue.",
            "green",
        ),
        ("What is 25 + 17?", "25 + 17 is 42.", "42"),
        ("How many minutes are in an hour?", "An hour has 60 minutes.", "60"),
        ("What is the capital of Canada?", "The capital of Canada is Ottawa.", "Ottawa"),
        ("Translate 'dog' into German.", "In German, 'dog' is 'Hund'.", "Hund"),
        ("How many continents are there?", "There are seven continents.", "seven"),
        (
            "What color do you get by mixing blue and yellow?",
            "Blue and yellow make green.",
            "green",
        ),
        ("What is 7 squared?", "7 squared is 49.", "49"),
        ("Who painted the Mona Lisa?", "Leonardo da Vinci painted the Mona Lisa.", "Leonardo"),
        (
            "What is the freezing point of water in Fahrenheit?",
            "Water freezes at 32 degrees Fahrenheit.",
            "32",
        ),
        ("How many weeks are in a year?", "A year has 52 weeks.", "52"),
        ("Translate 'hello' into Spanish.", "In Spanish, 'hello' is 'hola'.", "hola"),
        ("What is half of 90?", "Half of 90 is 45.", "45"),
        (
            "Which animal is known as the king of the jungle?",
            "The lion is called the king of the jungle.",
            "lion",
        ),
        ("How many hours are in two days?", "Two days have 48 hours.", "48"),
        (
            "What is the largest planet in the solar system?",
            "Jupiter is the largest planet.",
            "Jupiter",
        ),
        ("Give me a synonym of 'happy'.", "A synonym of 'happy' is 'glad'.", "glad"),
    ),
)

DEV_PROMPTS = Prompts(
    read_code=(
        "Tell me the result expression of {func} in the file {path}.",
        "Have a look at {path} -- what comes back from {func}?",
        "Which value is returned by {func} (see {path})?",
    ),
    read_text=("Give me the text stored in {path}.",),
    list_dir=(
        "Name every file inside the directory {dir}.",
        "I need the file names under {dir}.",
        "Tell me which files the {dir} directory holds.",
    ),
    search_def=(
        "I can't remember which file has {func}; track it down.",
        "Somewhere in the project {func} is defined. Which file is it in?",
    ),
    search_then_read=(),
    run=(
        "Go ahead and execute {command}; what was printed?",
        "Kindly run the command {command} and summarise its output.",
        "I'd like the output of {command}.",
    ),
    write=(
        "Put exactly the following text into a new file {path}: {text}",
        "I need a file at {path} whose whole content is: {text}",
    ),
    edit=(
        "Please switch {key} to {new} inside {path}; right now it says {old}.",
        "The setting {key} in {path} is {old}; flip it to {new}.",
    ),
    list_then_read=(
        "Peek into {dir}, pick the .py module there, and report what its function hands back.",
    ),
    read_then_run=("Look over {path} first, then execute it with python3 and report.",),
    write_then_run=(),
    direct=(
        ("How much is 12 times 12?", "12 times 12 is 144.", "144"),
        ("Say 'good night' in German.", "'Good night' in German is 'gute Nacht'.", "Nacht"),
        ("Which ocean is the largest?", "The Pacific is the largest ocean.", "Pacific"),
        ("How many legs does a spider have?", "A spider has eight legs.", ["eight", "8"]),
        (
            "What gas do plants absorb from the air?",
            "Plants absorb carbon dioxide.",
            ["carbon dioxide", "CO2"],
        ),
        ("Give me an antonym of 'ancient'.", "An antonym of 'ancient' is 'modern'.", "modern"),
        (
            "In which year did the first Moon landing happen?",
            "The first Moon landing was in 1969.",
            "1969",
        ),
    ),
    chat=(
        ("Morning! Ready when you are.", "small_talk"),
        ("You've been really useful today.", "small_talk"),
        ("Great job on that fix, I appreciate it.", "small_talk"),
        ("What does git rebase -i let me do?", "coding"),
        ("Should an update endpoint use PUT or PATCH?", "coding"),
        ("How do I read a text file one line at a time in Python?", "coding"),
        ("In Python, how can I run a shell command and capture its output?", "coding"),
    ),
)

TEST_PROMPTS = Prompts(
    read_code=(
        "Looking at {path}, what does the function {func} evaluate to?",
        "From {path}: report the expression that {func} returns.",
        "{path} holds {func}. What does it produce?",
    ),
    read_text=("Recite the lines of {path}.",),
    list_dir=(
        "Enumerate the contents of the {dir} directory.",
        "Could you tell me what is stored in {dir}?",
        "Give me an inventory of {dir}.",
    ),
    search_def=(
        "Hunt down the source file where {func} lives.",
        "Tell me the module that declares {func}.",
    ),
    search_then_read=(),
    run=(
        "Launch {command} and describe the result.",
        "Could you kick off {command} and relay what it says?",
        "Report back what {command} produces.",
    ),
    write=(
        "Produce a file named {path} holding precisely: {text}",
        "Place this exact line in {path}, nothing else: {text}",
    ),
    edit=(
        "Modify {path} so {key} reads {new} rather than {old}.",
        "Over in {path}, replace the {key} value {old} with {new}.",
    ),
    list_then_read=(
        "Browse {dir}, open its Python source, and explain what the function there yields.",
    ),
    read_then_run=("Inspect {path}, then launch it using python3 and relay the printout.",),
    write_then_run=(),
    direct=(
        ("What do you get when you multiply 9 by 6?", "9 multiplied by 6 is 54.", "54"),
        ("Render 'see you tomorrow' in Italian.", "In Italian: 'a domani'.", "domani"),
        (
            "Which planet sits closest to the Sun?",
            "Mercury is the closest planet to the Sun.",
            "Mercury",
        ),
        ("How many sides does a hexagon have?", "A hexagon has six sides.", ["six", "6"]),
        ("Who wrote the play Hamlet?", "Hamlet was written by William Shakespeare.", "Shakespeare"),
        ("Name the chemical symbol for gold.", "The chemical symbol for gold is Au.", "Au"),
        (
            "Boiling point of water at sea level in Celsius?",
            "Water boils at 100 degrees Celsius at sea level.",
            "100",
        ),
    ),
    # Four of these (thanks, list/tuple, list/set, reversing a string) were the
    # hand-written part of the no-tool suite before 2026-12-03.
    chat=(
        ("Thanks, that's all for now.", "small_talk"),
        ("Hi there, how's it going?", "small_talk"),
        ("Sorry, I have to run. Talk later!", "small_talk"),
        ("What is the difference between a list and a tuple in Python?", "coding"),
        ("Which is faster for membership tests, a list or a set?", "coding"),
        ("Show me a one-line Python expression that reverses a string s.", "coding"),
        ("How would I list the files of a folder from a Python script?", "coding"),
    ),
)

PROMPT_POOLS = {"train": TRAIN_PROMPTS, "dev": DEV_PROMPTS, "test": TEST_PROMPTS}
