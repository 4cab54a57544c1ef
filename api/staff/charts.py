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
