"""A tiny server-side SVG bar chart: no JavaScript, no CDN, readable without colour.

``bar_chart(labels, series)`` draws grouped horizontal bars, one group per label and one bar
per series; values are printed at the end of each bar, so the chart reads in print too.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#2563eb", "#f59e0b", "#10b981", "#ef4444")
BAR, GAP, LABEL_W, WIDTH, VALUE_W = 14, 10, 150, 560, 60
# Roughly the advance of one character of the chart's 11 px label font; labels are measured
# with it so a long one ("Acknowledged within the response time") is never cut at the left.
CHAR_W, LABEL_W_MAX = 7, 330


def label_width(labels: list[str]) -> int:
    """Room for the longest label, between LABEL_W and LABEL_W_MAX (longer ones are wrapped
    by the browser's own <title> tooltip, never clipped)."""
    longest = max((len(label) for label in labels), default=0)
    return min(LABEL_W_MAX, max(LABEL_W, longest * CHAR_W + 12))


def _fmt(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"


def bar_chart(
    *, title: str, labels: list[str], series: list[tuple[str, list[float | None]]]
) -> SafeString:
    n = max(len(series), 1)
    group_h = n * BAR + GAP
    legend_h = 20 if n > 1 else 0
    height = max(len(labels), 1) * group_h + legend_h + GAP
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values, default=0) or 1
    label_w = label_width(labels)
    width = WIDTH - LABEL_W + label_w
    span = width - label_w - VALUE_W
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not labels:
        parts.append(f'<text x="0" y="{BAR}" class="chart-empty">No data in this range.</text>')
    for i, label in enumerate(labels):
        y0 = legend_h + i * group_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + n * BAR / 2 + 4:.0f}" text-anchor="end" '
            f'class="chart-label">{escape(_fit(label))}</text>'
        )
        for j, (_, vs) in enumerate(series):
            value = vs[i] if i < len(vs) else None
            y = y0 + j * BAR
            w = 0 if value is None else max(1.0, span * value / top)
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{BAR - 2}" '
                f'fill="{COLOURS[j % len(COLOURS)]}"/>'
            )
            text = "–" if value is None else _fmt(value)
            parts.append(
                f'<text x="{label_w + w + 4:.1f}" y="{y + BAR - 4}" class="chart-value">'
                f"{escape(text)}</text>"
            )
    if n > 1:
        for j, (name, _) in enumerate(series):
            x = label_w + j * 140
            parts.append(
                f'<rect x="{x}" y="2" width="10" height="10" '
                f'fill="{COLOURS[j % len(COLOURS)]}"/>'
                f'<text x="{x + 14}" y="11" class="chart-legend">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _fit(label: str) -> str:
    limit = (LABEL_W_MAX - 12) // CHAR_W
    return label if len(label) <= limit else label[: limit - 1] + "…"


def table_chart(table) -> SafeString:  # noqa: ANN001 - reports.Table
    labels = [str(r[0]) for r in table.rows]
    series = [(table.columns[c], [r[c] for r in table.rows]) for c in table.chart]
    return bar_chart(title=table.title, labels=labels, series=series)
