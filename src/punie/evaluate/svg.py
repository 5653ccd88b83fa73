"""Inline SVG plots for the self-contained reports: no scripts, no network, all text escaped.

Each function returns an SVG string (mark it safe in jinja with `|safe` only because
every label passes through `escape` here).
"""

from __future__ import annotations

from html import escape
from math import isfinite

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#7c3aed", "#0891b2"]


def bar_chart(
    items: list[tuple[str, float]],
    *,
    max_value: float | None = None,
    width: int = 520,
    fmt: str = "{:.0%}",
    color: str = PALETTE[0],
    title: str = "",
) -> str:
    """Horizontal bars, one row per (label, value)."""
    row, label_w, pad = 24, 170, 8
    height = row * max(len(items), 1) + (28 if title else 8)
    top = 24 if title else 4
    vmax = max_value if max_value is not None else max([v for _, v in items] + [1e-9])
    bar_w = width - label_w - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title or "bar chart")}" font-family="sans-serif" font-size="12">'
    ]
    if title:
        parts.append(f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = 0 if vmax <= 0 else max(0.0, min(1.0, value / vmax)) * bar_w
        parts.append(
            f'<text x="{label_w - pad}" y="{y + 15}" text-anchor="end">{escape(str(label)[:28])}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="16" fill="#eef2f7"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" fill="{color}"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 15}">{escape(fmt.format(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def delta_chart(items: list[tuple[str, float]], *, width: int = 520, title: str = "") -> str:
    """Bars left (red) or right (green) of a zero line: per-category accuracy deltas."""
    row, label_w = 24, 170
    top = 24 if title else 4
    height = row * max(len(items), 1) + top + 4
    span = max([abs(v) for _, v in items] + [0.05])
    half = (width - label_w - 60) / 2
    zero = label_w + half
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title or "deltas")}" font-family="sans-serif" font-size="12">'
    ]
    if title:
        parts.append(f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>')
    parts.append(f'<line x1="{zero}" x2="{zero}" y1="{top}" y2="{height}" stroke="#888"/>')
    for i, (label, v) in enumerate(items):
        y = top + i * row
        w = abs(v) / span * half
        x = zero if v >= 0 else zero - w
        color = "#16a34a" if v > 0 else "#dc2626" if v < 0 else "#888"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(str(label)[:28])}</text>'
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="16" fill="{color}"/>'
            f'<text x="{width - 50}" y="{y + 15}">{v * 100:+.1f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    series: dict[str, list[tuple[float, float]]],
    *,
    width: int = 520,
    height: int = 260,
    title: str = "",
    x_label: str = "step",
    y_label: str = "loss",
) -> str:
    """Lines through (x, y) points, one per named series, with axes and a legend."""
    pts = [(x, y) for s in series.values() for x, y in s if isfinite(x) and isfinite(y)]
    left, right, top, bottom = 50, 20, 28 if title else 10, 36
    pw, ph = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title or "line chart")}" font-family="sans-serif" font-size="11">'
    ]
    if title:
        parts.append(f'<text x="0" y="14" font-weight="bold" font-size="12">{escape(title)}</text>')
    if not pts:
        parts.append(f'<text x="{left}" y="{top + 20}">no data</text></svg>')
        return "".join(parts)
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + ph - (y - y0) / (y1 - y0) * ph

    parts.append(
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>'
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{y1:.3g}</text>'
        f'<text x="{left - 4}" y="{top + ph}" text-anchor="end">{y0:.3g}</text>'
        f'<text x="{left}" y="{top + ph + 14}">{x0:.4g}</text>'
        f'<text x="{left + pw}" y="{top + ph + 14}" text-anchor="end">{x1:.4g}</text>'
        f'<text x="{left + pw / 2}" y="{top + ph + 28}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="12" y="{top + ph / 2}" transform="rotate(-90 12 {top + ph / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for i, (name, s) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        good = [(x, y) for x, y in s if isfinite(x) and isfinite(y)]
        if not good:
            continue
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        if len(good) < 30:
            parts += [
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}"/>'
                for x, y in good
            ]
        ly = top + 12 + i * 14
        parts.append(
            f'<rect x="{left + pw - 90}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + pw - 76}" y="{ly + 1}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
