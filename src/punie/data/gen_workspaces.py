"""Workspace vocabularies for whole-task traces and task suites, in three disjoint pools.

`TRAIN_WS` feeds training traces, `DEV_WS` the dev suites (choosing recipes) and
`TEST_WS` the held-out suites (final numbers only). No directory, file name,
identifier, file content or command file is shared between them; `calc.py`, `add` and
`a + b` are in none of them (that workspace is the acceptance check on code no model
has seen).
tests/data/test_gen_traces.py and tests/evaluate/test_task_suites_disjoint.py check it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WsVocab:
    dirs: tuple[str, ...]
    # Function names are verb_noun: the verbs alone already keep the pools disjoint.
    verbs: tuple[str, ...]
    nouns: tuple[str, ...]
    params: tuple[tuple[str, str], ...]  # (first, second) parameter names
    # Return expressions over the two parameters {p} and {q}; all short and readable.
    exprs: tuple[str, ...]
    # (file name, lines) of small text files to list, read and edit
    texts: tuple[tuple[str, tuple[str, ...]], ...]
    # (key, old value, new value) for settings files edited in place
    settings: tuple[tuple[str, str, str], ...]
    settings_files: tuple[str, ...]
    # (label, a python expression) printed by generated scripts
    prints: tuple[tuple[str, str], ...]
    # (file to create, exact one-line content) for write requests
    writes: tuple[tuple[str, str], ...]
    # commit messages for git workspaces
    commits: tuple[str, ...]
    # git commands ({dir}: the folder) played on a committed workspace. A task suite
    # commits the workspace itself (unknown author and date), so DEV and TEST check only
    # the file list; training also shows log and status.
    git_commands: tuple[str, ...] = ("git ls-files {dir}",)
    # words for a wrong guess at a file name (recovery traces)
    wrong_suffix: tuple[str, ...] = (".txt", ".md")


TRAIN_WS = WsVocab(
    dirs=(
        "shop",
        "billing",
        "inventory",
        "geo",
        "reports",
        "media",
        "chat",
        "orders",
        "weather",
        "library",
        "fleet",
        "garden",
        "kitchen",
        "music",
        "photos",
        "payroll",
        "school",
        "travel",
        "games",
        "metrics",
        "src/shop",
        "src/fleet",
        "app/billing",
        "app/chat",
        "pkg/geo",
        "lib/music",
        "core/orders",
        "svc/payroll",
    ),
    verbs=(
        "scale",
        "merge",
        "clamp",
        "shift",
        "blend",
        "split_off",
        "mix",
        "pad",
        "trim",
        "boost",
        "cap",
        "offset",
        "weigh",
        "round_up",
        "price",
        "tally",
        "rank",
        "grow",
        "shrink",
        "bump",
        "lerp",
        "wrap",
        "fold",
        "spread",
        "tax",
        "discount",
        "tip",
        "ratio",
        "average",
        "span",
    ),
    nouns=(
        "price",
        "stock",
        "score",
        "volume",
        "speed",
        "width",
        "height",
        "budget",
        "rent",
        "salary",
        "length",
        "weight",
        "level",
        "count",
        "margin",
        "distance",
        "tempo",
        "total",
        "fare",
        "dose",
    ),
    params=(
        ("x", "y"),
        ("n", "m"),
        ("value", "factor"),
        ("amount", "rate"),
        ("base", "extra"),
        ("low", "high"),
        ("left", "right"),
        ("qty", "unit"),
        ("cost", "fee"),
        ("p", "q"),
        ("start", "step"),
        ("first", "second"),
        ("price", "pct"),
        ("w", "h"),
    ),
    exprs=(
        "{p} * {q}",
        "{p} - {q}",
        "max({p}, {q})",
        "min({p}, {q})",
        "{p} // {q}",
        "{p} * 2 + {q}",
        "({p} + {q}) / 2",
        "{p} ** {q}",
        "{p} % {q}",
        "abs({p} - {q})",
        "{p} * {q} / 100",
        "round({p} / {q}, 2)",
        "{q} - {p}",
        "{p} + {q} * 3",
    ),
    texts=(
        ("notes.txt", ("call the vendor", "ship on friday")),
        ("todo.md", ("- fix login", "- update docs", "- tag release")),
        ("README.md", ("# Fleet", "Tracks delivery vans.")),
        ("CHANGES.md", ("v2: faster sync", "v1: first cut")),
        ("owners.txt", ("maria", "kenji", "li")),
        ("hosts.txt", ("alpha.local", "beta.local")),
        ("menu.txt", ("soup", "bread", "pie")),
        ("ideas.md", ("dark mode", "export to csv")),
        ("plan.txt", ("week 1: design", "week 2: build", "week 3: test")),
        ("colors.txt", ("teal", "amber", "plum")),
        ("team.md", ("lead: ana", "dev: omar")),
        ("faq.md", ("Q: refunds?", "A: within 30 days")),
    ),
    settings=(
        ("level", "info", "debug"),
        ("workers", "2", "4"),
        ("mode", "dev", "prod"),
        ("retries", "3", "5"),
        ("port", "8000", "9000"),
        ("theme", "light", "dark"),
        ("region", "eu", "us"),
        ("cache", "off", "on"),
        ("limit", "10", "50"),
        ("timeout", "30", "60"),
    ),
    settings_files=("app.ini", "service.cfg", "settings.conf", "env.cfg", "tool.ini"),
    prints=(
        ("total", "3 * 14"),
        ("sum", "sum(range(6))"),
        ("max", "max(7, 19, 4)"),
        ("len", "len('fleet')"),
        ("avg", "(8 + 12) // 2"),
        ("pow", "2 ** 7"),
        ("upper", "'vans'.upper()"),
        ("joined", "'-'.join(['a', 'b', 'c'])"),
        ("count", "[1, 2, 2, 3].count(2)"),
        ("rev", "'stock'[::-1]"),
        ("sorted", "sorted([3, 1, 2])"),
        ("abs", "abs(-42)"),
    ),
    writes=(
        ("notes/todo.txt", "buy milk"),
        ("hello.txt", "hi there"),
        ("docs/intro.md", "# Intro"),
        ("out/result.txt", "done"),
        ("VERSION", "1.4.2"),
        ("data/names.txt", "ana, omar, li"),
        ("greeting.txt", "good morning"),
        ("config/flags.txt", "beta=on"),
        ("logs/run.txt", "run 7 ok"),
        ("motto.txt", "ship small, ship often"),
        ("tags.txt", "alpha beta gamma"),
        ("reports/summary.txt", "all green"),
    ),
    commits=("first commit", "add fleet module", "initial import", "start project"),
    git_commands=("git ls-files {dir}", "git status --short {dir}", "git log --oneline"),
)

DEV_WS = WsVocab(
    dirs=("zoo", "harbor", "bakery", "atlas", "ledger", "studio"),
    verbs=("stretch", "halve", "combine", "limit", "nudge", "measure"),
    nouns=("dough", "cargo", "tickets", "frames"),
    params=(("r", "s"), ("load", "cap"), ("days", "hours"), ("old", "new")),
    exprs=("{p} * {q} + 1", "{p} - {q} * 2", "max({p}, {q}) - 1", "{p} * 3"),
    texts=(
        ("visitors.txt", ("monday 40", "tuesday 55")),
        ("recipes.md", ("rye loaf", "seed bun")),
        ("crew.txt", ("jonas", "priya", "teo")),
        ("routes.md", ("north pier", "south dock")),
        ("animals.txt", ("otter", "heron")),
        ("shelves.md", ("A: maps", "B: charts")),
    ),
    settings=(
        ("oven", "cold", "hot"),
        ("shift", "day", "night"),
        ("tide", "low", "high"),
        ("lanes", "2", "3"),
        ("alerts", "no", "yes"),
        ("batch", "8", "16"),
    ),
    settings_files=("bakery.ini", "harbor.cfg", "zoo.conf"),
    prints=(
        ("loaves", "6 * 7"),
        ("boats", "sum([4, 5, 6])"),
        ("crates", "max(11, 31)"),
        ("name", "'harbor'.title()"),
        ("cells", "len([1, 2, 3, 4, 5])"),
        ("half", "90 // 2"),
    ),
    writes=(
        ("orders/today.txt", "rye x4"),
        ("shift.txt", "night crew"),
        ("atlas/legend.md", "## Legend"),
        ("ledger/close.txt", "balanced"),
        ("studio/take.txt", "take 3 is best"),
        ("zoo/feed.txt", "otters at noon"),
        ("harbor/ships.txt", "two tugs"),
    ),
    commits=("open the bakery", "add harbor charts"),
)

TEST_WS = WsVocab(
    dirs=("observatory", "quarry", "vineyard", "circus", "forge", "mill"),
    verbs=("amplify", "dampen", "tilt", "fuse", "quarter", "stack"),
    nouns=("grapes", "anvil", "lens", "grain"),
    params=(("u", "v"), ("depth", "angle"), ("heat", "mass"), ("top", "bottom")),
    exprs=("{p} * {q} - 5", "{q} // {p}", "min({p}, {q}) + 10", "{p} * {p} + {q}"),
    texts=(
        ("stars.txt", ("vega", "altair", "deneb")),
        ("barrels.md", ("merlot 12", "syrah 8")),
        ("acts.txt", ("juggler", "clown")),
        ("ores.md", ("iron", "copper", "tin")),
        ("flour.txt", ("spelt", "rye")),
        ("tools.md", ("hammer", "tongs")),
    ),
    settings=(
        ("telescope", "closed", "open"),
        ("press", "slow", "fast"),
        ("bellows", "idle", "busy"),
        ("harvest", "early", "late"),
        ("stones", "4", "6"),
        ("tent", "down", "up"),
    ),
    settings_files=("forge.ini", "mill.cfg", "circus.conf"),
    prints=(
        ("ingots", "9 * 8"),
        ("casks", "sum([10, 20, 5])"),
        ("sacks", "min(27, 13)"),
        ("star", "'vega'.upper()"),
        ("tents", "len('circus')"),
        ("rows", "81 // 3"),
    ),
    writes=(
        ("observatory/log.txt", "clear skies"),
        ("quarry/blast.txt", "at dawn"),
        ("vineyard/notes.md", "## Harvest"),
        ("circus/ring.txt", "lions out"),
        ("forge/orders.txt", "three blades"),
        ("mill/stock.txt", "40 sacks"),
        ("banner.txt", "grand opening"),
    ),
    commits=("light the forge", "plant the vineyard"),
)

WS_POOLS = {"train": TRAIN_WS, "dev": DEV_WS, "test": TEST_WS}
