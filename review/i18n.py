"""Interface text in the analyst's language: `review/locales/<locale>.json` maps keys to text
(with `{name}` placeholders). A user's language comes from their settings; before login, from
the browser's Accept-Language. Kazakh falls back to Russian where a text is missing, every
language to English, and a key nobody translated shows as itself (a test keeps ru and en
complete)."""

from __future__ import annotations

import json
from pathlib import Path

LOCALES_DIR = Path(__file__).with_name("locales")
SUPPORTED = ("ru", "en", "kk")
FALLBACK = {"kk": ("kk", "ru", "en"), "ru": ("ru", "en"), "en": ("en",)}


def load_catalogs(folder: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    catalogs = {}
    for locale in SUPPORTED:
        path = folder / f"{locale}.json"
        if path.exists():
            catalogs[locale] = json.loads(path.read_text(encoding="utf-8"))
    return catalogs


class Translator:
    def __init__(self, catalogs: dict[str, dict[str, str]]) -> None:
        self.catalogs = catalogs

    def text(self, locale: str, key: str, **values) -> str:
        for candidate in FALLBACK.get(locale, ("en",)):
            found = self.catalogs.get(candidate, {}).get(key)
            if found is not None:
                break
        else:
            found = key
        if values:
            try:
                return found.format(**values)
            except (KeyError, IndexError, ValueError):
                return found
        return found

    def bound(self, locale: str):
        """t(key, **values) for one language: what templates call."""
        def t(key: str, **values) -> str:
            return self.text(locale, key, **values)
        return t


def negotiate(accept_language: str | None, default: str = "ru") -> str:
    """The best supported language of an Accept-Language header (q-values honoured)."""
    if not accept_language:
        return default
    choices = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower().split("-")[0]
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag in SUPPORTED and quality > 0:
            choices.append((-quality, position, tag))
    return min(choices)[2] if choices else default
