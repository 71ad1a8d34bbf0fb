"""Tree adapters for the preview parser: the four things its walk needs from a parsed page,
over lxml (fast; reports when libxml2 gave up on part of a page) and over BeautifulSoup's
``html.parser`` (the baseline and a cross-check)."""

from __future__ import annotations

import threading
import warnings

from lxml import etree


class _Tree:
    """What the walk needs from a tree: parse, elements (self and descendants in document
    order), classes, tag, get (an attribute), and text (shown text plus hrefs, ``<br>`` as a
    newline, unsupported-media notices left out)."""

    @classmethod
    def text(cls, el) -> tuple[str, list[str]]:
        parts: list[str] = []
        hrefs: list[str] = []
        cls._walk(el, parts, hrefs)
        return "".join(parts).strip(), hrefs


class LxmlTree(_Tree):
    """Adapter over lxml elements."""

    _local = threading.local()

    @classmethod
    def parse(cls, text: str):
        """(root or None, problem or None): libxml2 recovers from a resource limit (nesting
        deeper than 256) by silently dropping the rest of the document; its error log tells."""
        parser = getattr(cls._local, "parser", None)
        if parser is None:
            parser = cls._local.parser = etree.HTMLParser(encoding="utf-8", recover=True)
        try:
            root = etree.fromstring(text.encode("utf-8", "surrogatepass"), parser)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None, None
        limit = next((e.message for e in parser.error_log
                      if e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT), None)
        return root, (f"the parser gave up on part of the page ({limit})" if limit else None)

    @staticmethod
    def elements(el):
        return el.iter(etree.Element)

    @staticmethod
    def classes(el) -> list[str]:
        c = el.get("class")
        return c.split() if c else ()

    @staticmethod
    def tag(el) -> str:
        return el.tag

    @staticmethod
    def get(el, name: str) -> str | None:
        return el.get(name)

    @classmethod
    def _walk(cls, el, parts: list[str], hrefs: list[str]) -> None:
        if el.text:
            parts.append(el.text)
        for ch in el:
            tag = ch.tag
            if tag == "br":
                parts.append("\n")
            elif isinstance(tag, str) and "media_not_supported" not in (ch.get("class") or ""):
                if tag == "a" and (href := ch.get("href")):
                    hrefs.append(href)
                cls._walk(ch, parts, hrefs)
            if ch.tail:
                parts.append(ch.tail)


class SoupTree(_Tree):
    """Adapter over BeautifulSoup tags (``html.parser``), mirroring ``LxmlTree``."""

    @staticmethod
    def parse(text: str):
        from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

        with warnings.catch_warnings():  # junk that looks like XML is still parsed as HTML
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            return BeautifulSoup(text, "html.parser"), None

    @staticmethod
    def elements(el):
        yield el
        yield from el.find_all(True)

    @staticmethod
    def classes(el) -> list[str]:
        return el.get("class") or ()

    @staticmethod
    def tag(el) -> str:
        return el.name

    @staticmethod
    def get(el, name: str) -> str | None:
        v = el.get(name)
        return " ".join(v) if isinstance(v, list) else v

    @classmethod
    def _walk(cls, el, parts: list[str], hrefs: list[str]) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        for ch in el.children:
            if isinstance(ch, Tag):
                if ch.name == "br":
                    parts.append("\n")
                elif "media_not_supported" not in " ".join(ch.get("class") or ()):
                    if ch.name == "a" and (href := ch.get("href")):
                        hrefs.append(href)
                    cls._walk(ch, parts, hrefs)
            elif isinstance(ch, NavigableString) and not isinstance(ch, PreformattedString):
                parts.append(str(ch))
