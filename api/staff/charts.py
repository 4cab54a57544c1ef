"""Server-rendered SVG bar charts: no JavaScript, no chart library, readable on a phone."""

from html import escape

from markupsafe import Markup

ROW = 22
LABEL_WIDTH = 190
BAR_WIDTH = 260


def bar_chart(rows: list[tuple[str, int]], *, limit: int = 12) -> Markup:
    rows = rows[:limit]
    if not rows:
        return Markup("<p class='muted'>No data for this period.</p>")
    top = max(value for _, value in rows) or 1
    height = ROW * len(rows) + 4
    parts = [f'<svg class="chart" role="img" width="{LABEL_WIDTH + BAR_WIDTH + 60}" '
             f'height="{height}" viewBox="0 0 {LABEL_WIDTH + BAR_WIDTH + 60} {height}">']
    for index, (label, value) in enumerate(rows):
        y = index * ROW + 2
        width = max(1, round(BAR_WIDTH * value / top))
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width}" height="{ROW - 6}" rx="2"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 15}">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


COLUMN_WIDTH = 52  # room for a "2026-11" under each column
COLUMN_HEIGHT = 120


def column_chart(rows: list[tuple[str, int]]) -> Markup:
    """A series over time (months, in order) as columns: each labelled under, its value above.
    An empty month keeps its place, so a gap shows as a gap."""
    if not any(value for _, value in rows):
        return Markup("<p class='muted'>No data for this period.</p>")
    top = max(value for _, value in rows) or 1
    width, height = COLUMN_WIDTH * len(rows) + 8, COLUMN_HEIGHT + 40
    parts = [f'<svg class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">']
    for index, (label, value) in enumerate(rows):
        x = index * COLUMN_WIDTH + 4
        bar = round(COLUMN_HEIGHT * value / top)
        middle = x + COLUMN_WIDTH // 2
        parts.append(
            f'<rect x="{x + 4}" y="{COLUMN_HEIGHT + 16 - bar}" width="{COLUMN_WIDTH - 8}" '
            f'height="{bar}" rx="2"/>'
            f'<text x="{middle}" y="{COLUMN_HEIGHT + 12 - bar}" text-anchor="middle">{value}</text>'
            f'<text x="{middle}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
