"""Turning scraped HTML into clean text, and decoding pages whose charset lies.

BeautifulSoup with the lxml parser does the HTML; scripts, styles and templates are dropped,
block elements and `<br>` become line breaks, runs of blank lines are squeezed.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
          "article", "section", "header", "footer", "dd", "dt", "table", "ul", "ol", "td"}
FALLBACK_ENCODINGS = ("utf-8", "cp1251", "koi8-r")


def html_to_text(html: str) -> str:
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "template", "noscript", "iframe", "object"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def decode_page(body: bytes, declared: str | None) -> tuple[str, str]:
    """Decode a page: the declared charset when the bytes really are in it, else the first of
    UTF-8, windows-1251 and KOI8-R that decodes cleanly and reads as text. Returns
    (text, encoding used)."""
    candidates = [declared] if declared else []
    candidates += [enc for enc in FALLBACK_ENCODINGS if enc != declared]
    for encoding in candidates:
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding in ("cp1251", "koi8-r") and not _reads_as_cyrillic(text):
            continue
        return text, encoding
    return body.decode("utf-8", errors="replace"), "utf-8 (with replacements)"


def _reads_as_cyrillic(text: str) -> bool:
    """KOI8-R bytes decoded as windows-1251 (and back) give mostly upper-case Cyrillic; real
    text is mostly lower case."""
    cyrillic = [ch for ch in text if "\u0400" <= ch <= "\u04ff"]
    if not cyrillic:
        return True
    lower = sum(1 for ch in cyrillic if ch.islower())
    return lower / len(cyrillic) > 0.5
