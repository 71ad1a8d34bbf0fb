"""Charts for the dashboard as SVG drawn on the server: no JavaScript, nothing from a CDN.

Each function returns `Markup` (a complete `<svg>` element, ready to put in a Jinja template
with `{{ chart }}`):
- `day_chart`: per day, a bar of candidates opened beside a stacked bar of the decisions
  (confirmed, dismissed): opened is not a share of decided, so the two are not stacked together;
- `precision_chart`: a horizontal bar per rule (or category): precision with its 95 % interval
  and the counts it rests on;
- `histogram`: a few buckets (queue age).

The SVG is built with ElementTree, so every text and attribute is escaped; labels (rule ids,
entity values: hostile text) are also cleaned of control and bidi characters and of anything
XML cannot carry, folded to one line, defanged and shortened. Each chart has `role="img"`, an
`aria-label` and a `<title>`, and each bar its own `<title>` (a tooltip, no script). Sizes are
set by `viewBox` only. Colours come from CSS classes (`chart`, `bar`, `opened`, `confirmed`,
`dismissed`, `precision`, `track`, `interval`, `axis`, `label`, `value`, `legend`) with
presentation attributes as the fallback, never a `style` attribute: the app's CSP forbids
inline style.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup

from crawler.defang import one_line

SVG_NS = "http://www.w3.org/2000/svg"
COLOURS = {"opened": "#4a6fa5", "confirmed": "#b03a2e", "dismissed": "#8c9399",
           "precision": "#2e7d5b", "track": "#e6e8ea", "bucket": "#4a6fa5", "axis": "#555b61"}
FONT = "12"
# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the document).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def label(text: object, limit: int = 48) -> str:
    """Hostile text as a chart may show it: one line, no controls, defanged, shortened."""
    cleaned = _NOT_XML.sub("", one_line(str(text) if text is not None else "")) or "—"
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _svg(width: int, height: int, title: str, kind: str) -> ET.Element:
    title = label(title, 200)
    root = ET.Element("svg", {"xmlns": SVG_NS, "viewBox": f"0 0 {width} {height}",
                              "role": "img", "aria-label": title, "class": f"chart {kind}",
                              "font-size": FONT, "font-family": "sans-serif"})
    ET.SubElement(root, "title").text = title
    return root


def _text(parent: ET.Element, x: float, y: float, text: str, cls: str,
          anchor: str = "start") -> ET.Element:
    node = ET.SubElement(parent, "text", {"x": _n(x), "y": _n(y), "class": cls,
                                          "text-anchor": anchor, "fill": COLOURS["axis"]})
    node.text = text
    return node


def _rect(parent: ET.Element, x: float, y: float, width: float, height: float, cls: str,
          colour: str, tip: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, "rect", {"x": _n(x), "y": _n(y), "width": _n(max(width, 0)),
                                          "height": _n(max(height, 0)), "class": cls,
                                          "fill": COLOURS[colour]})
    if tip:
        ET.SubElement(node, "title").text = label(tip, 300)
    return node


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _markup(root: ET.Element) -> Markup:
    return Markup(ET.tostring(root, encoding="unicode"))  # noqa: S704 - escaped by ElementTree


def _legend(parent: ET.Element, x: float, y: float, items: Sequence[tuple[str, str]]) -> None:
    group = ET.SubElement(parent, "g", {"class": "legend"})
    for cls, name in items:
        _rect(group, x, y - 9, 10, 10, f"bar {cls}", cls)
        _text(group, x + 14, y, label(name, 24), "label")
        x += 24 + 7 * len(label(name, 24))


def day_chart(days: Sequence, title: str = "Candidates per day",
              names: dict[str, str] | None = None) -> Markup:
    """`days`: objects with `day`, `opened`, `confirmed`, `dismissed` (stats.DayCounts).
    `names`: the series' names in the user's language."""
    names = {"opened": "opened", "confirmed": "confirmed", "dismissed": "dismissed",
             **(names or {})}
    left, top, bottom, plot_h = 36, 28, 22, 160
    slot = max(8.0, min(28.0, 640 / max(len(days), 1)))
    width = int(left + slot * len(days) + 10)
    root = _svg(max(width, 320), top + plot_h + bottom, title, "chart-days")
    peak = max([max(d.opened, d.confirmed + d.dismissed) for d in days] + [1])
    scale = plot_h / peak
    base = top + plot_h
    ET.SubElement(root, "line", {"x1": _n(left), "y1": _n(base), "x2": _n(width - 6),
                                 "y2": _n(base), "class": "axis", "stroke": COLOURS["axis"]})
    _text(root, left - 4, top + 4, str(peak), "axis-label", "end")
    _text(root, left - 4, base, "0", "axis-label", "end")
    _legend(root, left, 14, [(key, names[key]) for key in ("opened", "confirmed", "dismissed")])
    bar = slot * 0.4
    every = max(1, round(len(days) / 8))
    for index, d in enumerate(days):
        x = left + index * slot + slot * 0.1
        day = d.day.isoformat() if isinstance(d.day, date) else label(d.day, 12)
        _rect(root, x, base - d.opened * scale, bar, d.opened * scale, "bar opened", "opened",
              f"{day}: {names['opened']} {d.opened}")
        y = base
        for key in ("confirmed", "dismissed"):
            count = getattr(d, key)
            y -= count * scale
            _rect(root, x + bar, y, bar, count * scale, f"bar {key}", key,
                  f"{day}: {names[key]} {count}")
        if index % every == 0:
            _text(root, x + bar, base + 15, day[5:], "label", "middle")
    return _markup(root)


def precision_chart(rows: Sequence, title: str = "Precision per rule",
                    empty: str = "nothing decided yet") -> Markup:
    """`rows`: objects with `key`, `confirmed`, `dismissed`, `value` and `interval`
    (stats.Precision); one bar each, in the given order."""
    label_w, bar_w, row_h, top = 230, 260, 22, 8
    width = label_w + bar_w + 110
    root = _svg(width, top + row_h * max(len(rows), 1) + 6, title, "chart-precision")
    if not rows:
        _text(root, 8, top + 15, label(empty, 80), "label")
        return _markup(root)
    for index, row in enumerate(rows):
        y = top + index * row_h
        name = label(row.key, 34)
        _text(root, label_w - 8, y + 14, name, "label", "end")
        _rect(root, label_w, y + 3, bar_w, row_h - 8, "track", "track")
        decided = row.confirmed + row.dismissed
        if row.value is None:
            _text(root, label_w + bar_w + 8, y + 14, "—", "value")
            continue
        percent = f"{row.value * 100:.0f}%"
        _rect(root, label_w, y + 3, bar_w * row.value, row_h - 8, "bar precision", "precision",
              f"{label(row.key, 200)}: {percent} ({row.confirmed} of {decided})")
        low, high = row.interval
        ET.SubElement(root, "line", {"x1": _n(label_w + bar_w * low), "x2": _n(
            label_w + bar_w * high), "y1": _n(y + row_h / 2 - 1), "y2": _n(y + row_h / 2 - 1),
            "class": "interval", "stroke": COLOURS["axis"], "stroke-width": "1.5"})
        _text(root, label_w + bar_w + 8, y + 14, f"{percent} ({row.confirmed}/{decided})",
              "value")
    return _markup(root)


def histogram(buckets: Sequence[tuple[str, int]], title: str = "Queue age") -> Markup:
    """`buckets`: (name, count) pairs in order, e.g. the queue's age buckets."""
    left, top, plot_h, slot = 10, 20, 110, 70
    width = left * 2 + slot * max(len(buckets), 1)
    root = _svg(width, top + plot_h + 22, title, "chart-histogram")
    peak = max([count for _, count in buckets] + [1])
    base = top + plot_h
    for index, (name, count) in enumerate(buckets):
        x = left + index * slot + 8
        height = count * plot_h / peak
        _rect(root, x, base - height, slot - 16, height, "bar bucket", "bucket",
              f"{label(name, 40)}: {count}")
        _text(root, x + (slot - 16) / 2, base - height - 4, str(count), "value", "middle")
        _text(root, x + (slot - 16) / 2, base + 15, label(name, 12), "label", "middle")
    ET.SubElement(root, "line", {"x1": _n(left), "y1": _n(base), "x2": _n(width - left),
                                 "y2": _n(base), "class": "axis", "stroke": COLOURS["axis"]})
    return _markup(root)


# Interface text of the charts: keys for the app's `t()`, with the English used when a locale
# lacks them.
CHART_TEXT = {
    "dashboard.chart.days": "Candidates per day", "dashboard.opened": "opened",
    "dashboard.confirmed": "confirmed", "dashboard.dismissed": "dismissed",
    "dashboard.chart.rules": "Precision per rule", "dashboard.chart.categories":
    "Precision per category", "dashboard.chart.queue": "Queue age",
    "dashboard.nothing_decided": "nothing decided in this period",
    "dashboard.age.lt_1h": "< 1 h", "dashboard.age.lt_1d": "< 1 day",
    "dashboard.age.lt_7d": "< 7 days", "dashboard.age.older": "older",
}


def dashboard_charts(board, text: Callable[[str], str] | None = None) -> dict[str, Markup]:
    """The charts of a `stats.Dashboard`: "days", "rules", "categories" and "queue". `text` is
    the page's `t` (a key it does not know, returned as is, falls back to English)."""
    def say(key: str) -> str:
        said = text(key) if text else key
        return CHART_TEXT[key] if said == key else said

    names = {key: say(f"dashboard.{key}") for key in ("opened", "confirmed", "dismissed")}
    return {
        "days": day_chart(board.days, say("dashboard.chart.days"), names),
        "rules": precision_chart(board.by_rule, say("dashboard.chart.rules"),
                                 say("dashboard.nothing_decided")),
        "categories": precision_chart(board.by_category, say("dashboard.chart.categories"),
                                      say("dashboard.nothing_decided")),
        "queue": histogram([(say(f"dashboard.age.{name}"), count)
                            for name, count in board.queue.buckets.items()],
                           say("dashboard.chart.queue")),
    }
