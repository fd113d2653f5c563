"""Server-rendered SVG bar charts for the accountability dashboard (no script, no chart library; no Flask here).

Bars are placed in percentages of the chart's width and text in pixels, so a chart fills a 360 px phone or a wide
screen with text of the same size; right to left, bars grow from the right. Colours come from CSS classes (the
page's stylesheet), so the charts print and follow the content security policy. Every chart is followed on the page
by a table of the same figures, which is what screen readers read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

LINE_HEIGHT = 20
BAR_HEIGHT = 18
ROW_GAP = 12
# Labels sit above their bars and are broken into lines of about this many characters, which fit a 360 px phone.
LABEL_CHARACTERS = 30
# The longest bar takes this share of the width; the rest is room for its value.
BAR_SPACE = 72.0


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str


@dataclass(frozen=True)
class Row:
    label: str
    values: Sequence[float | None]
    # What is written after the bar (the total, or a median with its unit); None: the sum of the values.
    text: str | None = None


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _lines(label: str, limit: int = LABEL_CHARACTERS) -> list[str]:
    """A label broken between words into lines of about `limit` characters (SVG text does not wrap)."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def bar_chart(chart_id: str, title: str, rows: Sequence[Row], series: Sequence[Series], *, rtl: bool,
              empty_text: str) -> Markup:
    """A horizontal stacked bar chart: one row per group (its label above its bar), one segment per series."""
    width_of = max((sum(v or 0 for v in row.values) for row in rows), default=0)
    labels = [_lines(row.label) for row in rows]
    height = sum(LINE_HEIGHT * len(lines) + BAR_HEIGHT + ROW_GAP for lines in labels) if width_of else ROW_GAP * 2
    direction = "rtl" if rtl else "ltr"
    parts = [f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-title" '
             f'width="100%" height="{height}" direction="{direction}">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>']
    if not rows or width_of == 0:
        parts.append(_text(empty_text, x=0.0, y=ROW_GAP + 8, rtl=rtl, css="chart-empty"))
    else:
        top = 0
        for row, lines in zip(rows, labels, strict=True):
            for line in lines:
                top += LINE_HEIGHT
                parts.append(_text(line, x=0.0, y=top - 5, rtl=rtl, css="chart-label"))
            start = 0.0
            for value, one in zip(row.values, series, strict=True):
                if not value:
                    continue
                share = BAR_SPACE * value / width_of
                x = 100.0 - start - share if rtl else start
                parts.append(f'<rect class="{escape(one.css_class)}" x="{x:.3f}%" y="{top + 2}" '
                             f'width="{share:.3f}%" height="{BAR_HEIGHT}"></rect>')
                start += share
            total = row.text if row.text is not None else _number(sum(v or 0 for v in row.values))
            parts.append(_text(total, x=start, y=top + BAR_HEIGHT - 2, rtl=rtl, css="chart-value", offset=6))
            top += BAR_HEIGHT + ROW_GAP
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute in it went through escape()


def _text(text: str, *, x: float, y: int, rtl: bool, css: str, offset: int = 0) -> str:
    # Right to left, the text starts at the right and runs leftwards from x (the start of an RTL line).
    position = 100.0 - x if rtl else x
    dx = -offset if rtl else offset
    return (f'<text class="{css}" x="{position:.3f}%" dx="{dx}" y="{y}" text-anchor="start">'
            f"{escape(text)}</text>")
