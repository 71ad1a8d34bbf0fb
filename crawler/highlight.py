"""Matched words highlighted in a scraped text, as HTML that is safe to show.

Post text is hostile: `highlight` cuts it at the verdict's spans (offsets into the original
text), strips control and bidi characters and defangs links piece by piece, escapes every piece
and wraps the matched ones in `<mark>`; nothing scraped is ever a link. Shared by the review
app's candidate page and the evidence package's report (a lower layer, so both may use it).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from crawler.defang import safe

MAX_TEXT = 20_000  # characters of a post shown; the rest is cut with a marker


def highlight(text: str | None, spans: list[tuple[int, int, str]],
              max_text: int = MAX_TEXT) -> Markup:
    """`text` escaped, with `<mark title=rule>` around each span (overlaps merged)."""
    text = text or ""
    cut = len(text) > max_text
    text = text[:max_text]
    bounds = {0, len(text)}
    for start, end, _label in spans:
        if 0 <= start < end <= len(text):
            bounds.update((start, end))
    points = sorted(bounds)
    out = []
    for start, end in zip(points, points[1:], strict=False):
        labels = sorted({label for s, e, label in spans if s <= start and end <= e and s < e})
        piece = escape(safe(text[start:end]))
        if labels:
            out.append(Markup('<mark title="{}">{}</mark>').format(", ".join(labels), piece))
        else:
            out.append(piece)
    if cut:
        out.append(Markup(" <span class=\"cut\">[…]</span>"))
    return Markup("").join(out)
