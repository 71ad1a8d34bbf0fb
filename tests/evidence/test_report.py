"""report.html: self-contained (a CSP that allows no script and no remote resource, no script,
no link out of the page), every scraped text escaped and defanged with the matched words marked,
screenshots by relative path or a note saying why there are none, and the request texts."""

from __future__ import annotations

from lxml import html as lxml_html

from evidence.report import CSP, MAX_POSTS, report_html
from tests.evidence.report_samples import HOSTILE_TITLE, subjects

PACKAGE = {"package_id": "7d3e5c1a", "created_at": "2026-11-30T07:00:00Z",
           "organisation": "Org <b>", "recipient": "telegram", "fingerprint": "sha256:ab"}


def render(**kwargs) -> str:
    arguments = {"package": PACKAGE, "subjects": subjects(),
                 "requests": {"requests/telegram.en.txt": "Dear team <script>x</script>"}}
    return report_html(**{**arguments, **kwargs})


def test_the_page_allows_no_script_and_no_remote_resource():
    page = render(screenshots={"P1": "screenshots/P1.png"})
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//script") == [] and tree.xpath("//iframe|//object|//embed") == []
    assert tree.xpath("//*[@src and not(self::img)]") == []
    assert [img.get("src") for img in tree.xpath("//img")] == ["screenshots/P1.png"]
    assert all(a.get("href").startswith("#") for a in tree.xpath("//a"))  # only in-page
    assert not [name for el in tree.iter() for name in el.attrib if name.startswith("on")]
    assert tree.xpath("//link") == []


def test_scraped_text_is_escaped_defanged_and_marked():
    page = render()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "https://evil.kz" not in page and "hxxps://evil[.]kz" in page
    assert "\u202e" not in page
    assert '<mark title="sale.substance">Мефедрон</mark>' in page
    assert '<mark title="sale.dead_drop">закладки</mark>' in page
    tree = lxml_html.fromstring(page)
    assert tree.get_element_by_id("S1").xpath("string(.//dd[2])").startswith("Шишки ⚡ <script>")
    assert HOSTILE_TITLE.split("\n")[0] not in page  # the line break is folded, the link defanged


def test_subjects_posts_indicators_and_missing_capture_are_shown():
    tree = lxml_html.fromstring(render())
    s1, s2 = tree.get_element_by_id("S1"), tree.get_element_by_id("S2")
    assert "https://t.me/shop_alm" in s1.text_content()
    assert "telegram:@shop_bot" in s1.text_content()
    assert "Capture missing: dropped by retention" in tree.get_element_by_id("P2").text_content()
    assert "javascript:alert(3)" in tree.get_element_by_id("P2").text_content()
    assert "https://t.me/rabota_kz" in s2.text_content()
    requests = tree.get_element_by_id("requests").text_content()
    assert "Dear team <script>x</script>" in requests  # text, escaped


def test_no_screenshots_says_why_and_shows_no_image():
    tree = lxml_html.fromstring(render(screenshots_note="Chromium is not installed"))
    assert tree.xpath("//img") == []
    note = tree.get_element_by_id("screenshots-note").text_content()
    assert note == "Screenshots were not made: Chromium is not installed"


def test_long_batches_are_cut_per_subject_with_the_count():
    rows = subjects()
    post = rows[0]["items"][0]
    rows[0]["items"] = [{**post, "ref": f"P{n}"} for n in range(MAX_POSTS + 5)]
    tree = lxml_html.fromstring(render(subjects=rows))
    assert len(tree.get_element_by_id("S1").xpath(".//article")) == MAX_POSTS
    assert "More posts not shown here: 5" in tree.get_element_by_id("S1").text_content()


def test_labels_follow_the_language():
    assert "Пакет доказательств" in render(lang="ru")
    assert "Дәлелдер пакеті" in render(lang="kk")


def test_every_language_has_every_label():
    import json

    from evidence.report import LABELS

    known = json.loads(LABELS.read_text(encoding="utf-8"))
    assert sorted(known) == ["en", "kk", "ru"]
    assert known["ru"].keys() == known["en"].keys() == known["kk"].keys()
    assert "Evidence package" in render(lang="xx")  # an unknown language falls back to English
