"""`report.html` of an evidence package: one self-contained page a person at a platform or an
authority can read without any tool.

Per subject: what it is (exact URL as text, name, category, the analyst's decision), its
indicators, its evidence posts with the matched words highlighted (crawler/highlight.py: every
scraped piece escaped, defanged, stripped of control characters) and a screenshot rendered from
the stored capture when there is one (`screenshots/<ref>.png`, by relative path); then the
request texts. The page carries a Content-Security-Policy that allows no script, no remote
resource and no connection (images only from the package or data: URLs); it has no script and
nothing scraped is ever a link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from crawler.defang import one_line
from crawler.highlight import highlight
from evidence.requests import exact_url, indicator_strings

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
MAX_POSTS = 20  # evidence posts shown per subject; all of them are in posts.csv
MAX_TEXT = 5_000  # characters of a post shown
LABELS = TEMPLATES / "report_labels.json"  # the page's own words, per language (en, ru, kk)


def labels(lang: str) -> tuple[str, dict[str, str]]:
    """(language, its labels): English when `lang` has none."""
    known = json.loads(LABELS.read_text(encoding="utf-8"))
    lang = lang if lang in known else "en"
    return lang, known[lang]


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                       autoescape=select_autoescape(default=True), trim_blocks=True,
                       lstrip_blocks=True)


def _spans(post: Mapping) -> list[tuple[int, int, str]]:
    return [(int(s), int(e), one_line(str(label))) for s, e, label in post.get("spans") or []]


def _post(item: Mapping, screenshots: Mapping[str, str]) -> dict:
    ref = str(item.get("ref", ""))
    capture = item.get("capture") or {}
    return {"ref": ref, "url": exact_url(item.get("url")),
            "posted_at": one_line(str(item.get("posted_at") or "")),
            "views": item.get("views"), "score": item.get("score"),
            "capture_sha256": one_line(capture.get("sha256")),
            "missing": one_line(item.get("missing")) if item.get("missing") else "",
            "html": highlight(item.get("text"), _spans(item), MAX_TEXT),
            "screenshot": screenshots.get(ref, "")}


def _subject(subject: Mapping, screenshots: Mapping[str, str]) -> dict:
    items = list(subject.get("items") or [])
    decision = subject.get("decision") or {}
    return {"ref": str(subject.get("ref", "")), "url": exact_url(subject.get("url")),
            "handle": one_line(subject.get("handle")), "title": one_line(subject.get("title")),
            "platform": one_line(subject.get("platform")),
            "category": one_line(subject.get("category")),
            "categories": [one_line(c) for c in subject.get("categories") or []],
            "policy": one_line(decision.get("policy")),
            "decided_at": one_line(str(decision.get("at") or "")),
            "decided_by": one_line(decision.get("by")),
            "decided_by_org": one_line(decision.get("organisation")),
            "indicators": sorted({i for item in items for i in indicator_strings(item)}),
            "posts": [_post(item, screenshots) for item in items[:MAX_POSTS]],
            "posts_count": len(items), "screenshot": screenshots.get(str(subject.get("ref")), ""),
            "more_posts": max(0, len(items) - MAX_POSTS)}


def report_html(*, package: Mapping, subjects: Iterable[Mapping],
                requests: Mapping[str, str] | None = None,
                screenshots: Mapping[str, str] | None = None,
                screenshots_note: str | None = None, lang: str = "en") -> str:
    """The report page. `package`: package_id, created_at, organisation, recipient and
    optionally fingerprint; `subjects`: the builder's subjects each with its `items`
    (evidence/context.py); `screenshots`: item or subject ref → entry name of its PNG;
    `screenshots_note`: why there are none (shown), or None."""
    shots = dict(screenshots or {})
    lang, words = labels(lang)
    shown = [_subject(s, shots) for s in subjects]
    values = {"package": {"package_id": one_line(package.get("package_id")),
                          "created_at": one_line(str(package.get("created_at") or "")),
                          "organisation": one_line(package.get("organisation")),
                          "recipient": one_line(package.get("recipient")),
                          "fingerprint": one_line(package.get("fingerprint"))},
              "subjects": shown, "total_posts": sum(s["posts_count"] for s in shown),
              "requests": sorted((requests or {}).items()), "csp": Markup(CSP),
              "screenshots_note": one_line(screenshots_note) if screenshots_note else "",
              "lang": lang, "t": words}
    return environment().get_template("report.html.j2").render(**values)
