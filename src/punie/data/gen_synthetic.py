"""Rows that offer tools other than Punie's five, with synthetic results.

They teach the model to read the offered schema (names, parameters, enums) rather
than to emit Punie's tool names from habit. Their results are invented text, which
is fine: these are not Punie tools, so no serve-time output exists to match.
"""

from __future__ import annotations

import random
from typing import Any

from punie.data.schema import tool_call
from punie.toolspec import AGENT_TOOLS


def _spec(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
            },
        },
    }


_S = {"type": "string"}
WEATHER = _spec("get_weather", "Current weather for a city.", {"city": _S})
TICKET = _spec(
    "create_ticket",
    "Open a ticket in the issue tracker.",
    {"title": _S, "priority": {"type": "string", "enum": ["low", "medium", "high"]}},
)
CURRENCY = _spec(
    "convert_currency",
    "Convert an amount between currencies.",
    {"amount": {"type": "number"}, "source": _S, "target": _S},
)
SYNTHETIC_TOOLS = (WEATHER, TICKET, CURRENCY)

_CITIES = ("Oslo", "Lima", "Nairobi", "Hanoi", "Porto", "Quebec", "Perth", "Riga")
_SKIES = ("light rain", "sunny", "cloudy", "snow", "windy")
_TITLES = ("Login page is slow", "Fix typo in footer", "Export fails on Safari", "Add dark mode")
_RATES = {("USD", "EUR"): 0.9, ("EUR", "GBP"): 0.85, ("GBP", "JPY"): 190.0, ("CAD", "USD"): 0.73}


def _weather(rng: random.Random) -> tuple[str, str, dict, str, str]:
    city, sky, temp = rng.choice(_CITIES), rng.choice(_SKIES), rng.randint(-5, 31)
    prompt = rng.choice(
        ("What's the weather in {c}?", "Is it raining in {c}?", "Weather for {c} please.")
    )
    return (
        prompt.format(c=city),
        "get_weather",
        {"city": city},
        f"{city}: {temp}C, {sky}",
        (f"It is {temp}C and {sky} in {city}."),
    )


def _ticket(rng: random.Random) -> tuple[str, str, dict, str, str]:
    title, prio, num = (
        rng.choice(_TITLES),
        rng.choice(("low", "medium", "high")),
        rng.randint(100, 999),
    )
    prompt = rng.choice(
        ("Open a {p} priority ticket: {t}", "File a ticket '{t}' with {p} priority.")
    )
    args = {"title": title, "priority": prio}
    return (
        prompt.format(p=prio, t=title),
        "create_ticket",
        args,
        f"created ticket #{num}",
        (f"Opened ticket #{num} ({prio} priority)."),
    )


def _currency(rng: random.Random) -> tuple[str, str, dict, str, str]:
    (src, dst), rate = rng.choice(sorted(_RATES.items()))
    amount = rng.choice((10, 25, 40, 120, 300))
    value = round(amount * rate, 2)
    prompt = rng.choice(("Convert {a} {s} to {d}.", "How much is {a} {s} in {d}?"))
    args = {"amount": amount, "source": src, "target": dst}
    return (
        prompt.format(a=amount, s=src, d=dst),
        "convert_currency",
        args,
        (f"{amount} {src} = {value} {dst}"),
        f"{amount} {src} is {value} {dst}.",
    )


def synthetic_row(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(messages, tools): one call to an offered synthetic tool, its result, an answer.
    Offers one to three synthetic tools, half the time beside Punie's own."""
    make = rng.choice((_weather, _ticket, _currency))
    prompt, name, args, result, answer = make(rng)
    used = next(t for t in SYNTHETIC_TOOLS if t["function"]["name"] == name)
    others = [t for t in SYNTHETIC_TOOLS if t is not used]
    tools = [used, *rng.sample(others, rng.randint(0, 2))]
    rng.shuffle(tools)
    if rng.random() < 0.5:
        tools = [*AGENT_TOOLS, *tools]
    msgs = [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": "", "tool_calls": [tool_call("call_1", name, args)]},
        {"role": "tool", "tool_call_id": "call_1", "content": result},
        {"role": "assistant", "content": answer},
    ]
    return msgs, tools
