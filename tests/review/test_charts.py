"""Server-side SVG charts: valid, accessible, escaped, styled without inline style."""

from __future__ import annotations

from datetime import date, timedelta

import jinja2
import pytest
from lxml import etree

from review import charts
from review.stats import DayCounts, Precision

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ['<script>alert("x")</script>', "\"' onload='alert(1)", "a & b &amp; c",
           "]]><svg onload=alert(1)>", "javascript:alert(1)", "\u202eevil\u202c gnp.exe",
           "nul\x00 bell\x07 esc\x1b[31m line\nbreak", "\ufffe\uffff", "https://shop.kz/buy",
           "x" * 500]


def parse(markup) -> etree._Element:
    root = etree.fromstring(str(markup).encode("utf-8"))  # raises on invalid XML
    assert root.tag == f"{SVG}svg"
    return root


def check_safe_and_accessible(root: etree._Element, title: str) -> None:
    assert root.get("role") == "img"
    assert root.get("aria-label") == title
    assert root[0].tag == f"{SVG}title" and root[0].text == title
    assert root.get("viewBox").startswith("0 0 ")
    assert root.get("width") is None and root.get("height") is None
    for node in root.iter():
        assert node.tag not in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}a",
                                f"{SVG}style", f"{SVG}image", f"{SVG}use")
        for name in node.attrib:
            assert name != "style" and not name.lower().startswith("on"), (node.tag, name)
            assert "href" not in name
    for node in root.iter(f"{SVG}rect"):
        assert node.get("class") and node.get("fill", "").startswith("#")
        assert float(node.get("width")) >= 0 and float(node.get("height")) >= 0


def days(count: int = 30) -> list[DayCounts]:
    start = date(2026, 11, 1)
    return [DayCounts(start + timedelta(days=n), n % 5, n % 3, n % 4) for n in range(count)]


def test_day_chart():
    root = parse(charts.day_chart(days(), title="Кандидаты по дням",
                                  names={"opened": "открыто"}))
    check_safe_and_accessible(root, "Кандидаты по дням")
    bars = list(root.iter(f"{SVG}rect"))
    assert len([b for b in bars if "opened" in b.get("class")]) == 30 + 1  # and the legend's
    tips = [t.text for t in root.iter(f"{SVG}title")]
    assert "2026-11-04: открыто 3" in tips and "2026-11-04: dismissed 3" in tips
    plotted = [b for b in bars if float(b.get("height")) > 0 and b.get("y") != "5"]
    assert min(float(b.get("y")) for b in plotted) == pytest.approx(28)  # the peak fills it


def test_day_chart_with_nothing():
    root = parse(charts.day_chart([DayCounts(date(2026, 11, 1))]))
    check_safe_and_accessible(root, "Candidates per day")
    parse(charts.day_chart([]))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_rule_names_are_text(hostile):
    title = f"Precision {hostile}"
    root = parse(charts.precision_chart([Precision(hostile, 3, 1), Precision("ok", 0, 0)],
                                        title=title))
    expected = charts.label(title, 200)
    check_safe_and_accessible(root, expected)
    texts = " ".join(node.text or "" for node in root.iter())
    assert "\u202e" not in texts and "\x00" not in texts and "\x1b" not in texts
    assert "https://" not in texts and "shop.kz" not in texts  # defanged
    shown = root.findall(f"{SVG}text")[0].text
    assert shown == charts.label(hostile, 34)
    assert len(shown) <= 34
    raw = str(charts.precision_chart([Precision(hostile, 3, 1)]))
    assert "<script" not in raw and "<svg onload" not in raw  # "<" is always escaped in text


def test_precision_bars_and_intervals():
    rows = [Precision("sale.price", 9, 1), Precision("context.news", 0, 4),
            Precision("rare", 1, 0), Precision("undecided", 0, 0)]
    root = parse(charts.precision_chart(rows))
    check_safe_and_accessible(root, "Precision per rule")
    fills = [float(r.get("width")) for r in root.findall(f"{SVG}rect")
             if r.get("class") == "bar precision"]
    assert fills == [pytest.approx(260 * 0.9), 0, pytest.approx(260)]
    values = [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["90% (9/10)", "0% (0/4)", "100% (1/1)", "—"]
    lines = root.findall(f"{SVG}line")
    assert len(lines) == 3
    low, high = (float(lines[2].get(k)) - 230 for k in ("x1", "x2"))
    assert 0 < low < high == pytest.approx(260)  # one of one: a wide interval


def test_precision_chart_empty():
    root = parse(charts.precision_chart([], title="Rules", empty="ничего"))
    assert [t.text for t in root.findall(f"{SVG}text")] == ["ничего"]


def test_histogram():
    buckets = [("< 1 h", 3), ("< 1 d", 12), ("<7d & more", 0), ("older", 1)]
    root = parse(charts.histogram(buckets, title="Queue <age>"))
    check_safe_and_accessible(root, "Queue <age>")
    heights = [float(r.get("height")) for r in root.findall(f"{SVG}rect")]
    assert heights[1] == pytest.approx(110) and heights[2] == 0
    labels = [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "label"]
    assert labels == ["< 1 h", "< 1 d", "<7d & more", "older"]
    parse(charts.histogram([]))


def test_markup_is_not_escaped_again_by_jinja():
    env = jinja2.Environment(autoescape=True)
    chart = charts.histogram([("<b>", 1)])
    page = env.from_string("<div>{{ chart }}</div><p>{{ text }}</p>").render(
        chart=chart, text="<svg onload=alert(1)>")
    assert "<svg xmlns" in page and "&lt;b&gt;" in page
    assert "&lt;svg onload" in page


def test_dashboard_charts_from_a_dashboard(store):
    from review import stats
    from tests.review.test_stats_support import NOW, at, candidate

    with store.session() as session:
        candidate(session, created=at(days=2), status="confirmed", decided=at(days=1),
                  rules=["sale.price"])
        candidate(session, created=at(hours=3))
        board = stats.dashboard(session, stats.Period.last(7, NOW.date()), now=NOW)
    russian = {"dashboard.chart.queue": "Возраст очереди", "dashboard.opened": "открыто"}
    made = charts.dashboard_charts(board, lambda key: russian.get(key, key))
    assert set(made) == {"days", "rules", "categories", "queue"}
    for chart in made.values():
        check_safe_and_accessible(parse(chart), parse(chart).get("aria-label"))
    assert parse(made["queue"]).get("aria-label") == "Возраст очереди"
    queue_labels = [t.text for t in parse(made["queue"]).iter(f"{SVG}text")
                    if t.get("class") == "label"]
    assert queue_labels == ["< 1 h", "< 1 day", "< 7 days", "older"]
    assert "открыто" in str(made["days"]) and "Candidates per day" in str(made["days"])
    assert "100% (1/1)" in str(made["rules"])
    english = charts.dashboard_charts(board)
    assert "Queue age" in str(english["queue"])
