"""Lexicons: data files of terms grouped by concept, loaded and validated into a :class:`Lexicon`.

A lexicon file (TOML, in ``detection/lexicons/`` or a directory given in the configuration)
names one concept and lists entries::

    concept = "substance"            # the concept every entry of the file belongs to
    kind = "signal"                  # "signal" (raises a score) or "context" (lowers it)
    description = "Drug names and slang."
    # context files only: how much the concept lowers each category's evidence
    # penalty = { sale = 1.0, recruitment = 1.0 }

    [[entry]]
    terms = ["мефедрон", "меф", "мефедрон*"]   # words, phrases, "stem*" (word start), emoji
    lang = "ru"                                  # ru | kk | en | translit | any
    weight = 1.0                                 # 0 < weight <= 5
    note = "mephedrone"

Terms are folded by the same normaliser as the posts, so ``мефедрон`` also matches ``MEФEДPOH``
and ``м.е.ф.е.д.р.о.н``. A word term matches whole words; ``stem*`` matches words that start with
the stem; a term with no letters or digits (emoji) matches anywhere. Adding a term is an edit of a
data file; a broken file raises :class:`LexiconError` naming the file, the line and the reason.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from detection.normalize import Normalizer, default_normalizer

__all__ = ["Concept", "Lexicon", "LexiconError", "Term", "bundled_lexicon_dir"]

LANGS = frozenset({"ru", "kk", "en", "translit", "any"})
CATEGORIES = ("sale", "recruitment")
_FILE_KEYS = {"concept", "kind", "description", "penalty", "entry"}
_ENTRY_KEYS = {"terms", "lang", "weight", "note"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ENTRY_HEADER = re.compile(r"^\s*\[\[\s*entry\s*\]\]")
_TOML_LINE = re.compile(r"at line (\d+)")


class LexiconError(ValueError):
    """A lexicon file that cannot be used: ``path:line: reason``."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path, self.line, self.reason = str(path), line, reason
        super().__init__(f"{path}:{line}: {reason}")


@dataclass(frozen=True, slots=True)
class Term:
    """One lexicon term, as written and as matched."""

    text: str  # as written in the file (without the trailing "*" of a stem)
    key: str  # folded form the matcher looks for
    stem: bool  # matches words that start with it
    symbol: bool  # no letters or digits: matched anywhere (emoji, symbols)
    concept: str
    lang: str
    weight: float
    note: str
    where: str  # "file:line"


@dataclass(frozen=True, slots=True)
class Concept:
    """A group of terms; context concepts carry per-category penalties."""

    name: str
    kind: str  # "signal" | "context"
    description: str
    penalty: dict[str, float] = field(default_factory=dict)


def bundled_lexicon_dir() -> Path:
    """The directory of lexicons shipped with Kyran."""
    return Path(str(resources.files("detection") / "lexicons"))


def fold_term(norm: Normalizer, text: str) -> str:
    """The key a term is matched by: folded, separators as single spaces."""
    folded = norm.normalize(text).text
    spaced = " ".join(norm.spaced(folded).split())
    return spaced if spaced else folded.strip()


class _FileReader:
    """Reads one lexicon file, keeping its lines to point errors at them."""

    def __init__(self, path: Path, norm: Normalizer) -> None:
        self.path, self.norm = path, norm
        try:
            self.raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            raise LexiconError(path, line, "not UTF-8 text") from None
        self.lines = self.raw.splitlines()
        self.entry_lines = [i + 1 for i, ln in enumerate(self.lines) if _ENTRY_HEADER.match(ln)]

    def fail(self, line: int, reason: str) -> LexiconError:
        return LexiconError(self.path, line, reason)

    def key_line(self, key: str, start: int = 1) -> int:
        pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(max(start, 1) - 1, len(self.lines)):
            if pat.match(self.lines[i]):
                return i + 1
        return start

    def text_line(self, needle: str, start: int) -> int:
        for i in range(max(start, 1) - 1, len(self.lines)):
            if needle in self.lines[i]:
                return i + 1
        return start

    def read(self) -> tuple[Concept, list[Term]]:
        try:
            data = tomllib.loads(self.raw)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_LINE.search(str(exc))
            line = int(m.group(1)) if m else max(1, len(self.lines))  # "at end of document"
            raise self.fail(line, f"TOML syntax: {exc}") from None
        for key in data:
            if key not in _FILE_KEYS:
                raise self.fail(self.key_line(key),
                                f"unknown key {key!r} (allowed: {sorted(_FILE_KEYS)})")
        name = data.get("concept")
        if not isinstance(name, str) or not _NAME.match(name):
            raise self.fail(self.key_line("concept"),
                            "'concept' must be a lower-case name like 'substance'")
        kind = data.get("kind", "signal")
        if kind not in ("signal", "context"):
            raise self.fail(self.key_line("kind"), "'kind' must be 'signal' or 'context'")
        penalty = data.get("penalty", {})
        if kind == "context":
            if not isinstance(penalty, dict) or not penalty or any(
                k not in CATEGORIES or not isinstance(v, (int, float)) or not 0 <= v <= 5
                for k, v in penalty.items()
            ):
                raise self.fail(self.key_line("penalty" if "penalty" in data else "kind"),
                                "context files need 'penalty' = "
                                "{ sale = 0..5, recruitment = 0..5 }")
        elif "penalty" in data:
            raise self.fail(self.key_line("penalty"), "'penalty' is only for kind = 'context'")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.fail(self.key_line("description"), "'description' must be a string")
        concept = Concept(name, kind, description, {k: float(v) for k, v in penalty.items()})
        entries = data.get("entry", [])
        if not isinstance(entries, list) or len(entries) != len(self.entry_lines):
            raise self.fail(self.key_line("entry"), "entries must be written as [[entry]] tables")
        terms: list[Term] = []
        # Equal lengths: checked just above.
        for entry, line in zip(entries, self.entry_lines, strict=True):
            terms.extend(self._entry(entry, line, name))
        return concept, terms

    def _entry(self, entry: dict, line: int, concept: str) -> list[Term]:
        for key in entry:
            if key not in _ENTRY_KEYS:
                raise self.fail(self.key_line(key, line),
                                f"unknown entry key {key!r} (allowed: {sorted(_ENTRY_KEYS)})")
        terms = entry.get("terms")
        if not isinstance(terms, list) or not terms or not all(isinstance(t, str) for t in terms):
            raise self.fail(line, "entry needs 'terms', a non-empty list of strings")
        lang = entry.get("lang")
        if lang not in LANGS:
            raise self.fail(self.key_line("lang", line),
                            f"'lang' must be one of {sorted(LANGS)}, not {lang!r}")
        weight = entry.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 5:
            raise self.fail(self.key_line("weight", line),
                            f"'weight' must be a number in (0, 5], not {weight!r}")
        note = entry.get("note", "")
        if not isinstance(note, str):
            raise self.fail(self.key_line("note", line), "'note' must be a string")
        out = []
        for raw in terms:
            tline = self.text_line(raw, line) if raw else line
            text = raw.strip()
            stem = text.endswith("*")
            if stem:
                text = text[:-1].rstrip()
            if "*" in text:
                raise self.fail(tline, f"term {raw!r}: '*' is allowed only at the end (a stem)")
            key = fold_term(self.norm, text)
            if not key:
                raise self.fail(tline, f"term {raw!r} is empty once folded")
            if key.isdigit():
                raise self.fail(tline, f"term {raw!r} folds to the bare number {key!r}, which "
                                       "would match any such number: add a word to it")
            symbol = not any(c.isalnum() for c in key)
            if stem and (symbol or len(key) < 3 or " " in key and len(key.rsplit(" ", 1)[1]) < 2):
                raise self.fail(tline, f"stem {raw!r} is too short: a stem needs 3 or more letters")
            out.append(Term(text, key, stem, symbol, concept, lang, float(weight), note,
                            f"{self.path.name}:{tline}"))
        return out


class Lexicon:
    """All terms and concepts of a lexicon directory."""

    def __init__(self, concepts: dict[str, Concept], terms: list[Term], digest: str) -> None:
        self.concepts, self.terms, self.digest = concepts, terms, digest

    @classmethod
    def load(
        cls, directory: Path | str | None = None, normalizer: Normalizer | None = None
    ) -> Lexicon:
        """Load every ``*.toml`` file of ``directory`` (None: the bundled lexicons)."""
        directory = Path(directory) if directory is not None else bundled_lexicon_dir()
        norm = normalizer or default_normalizer()
        files = sorted(directory.glob("*.toml"))
        if not files:
            raise LexiconError(directory, 0, "no *.toml lexicon files in this directory")
        concepts: dict[str, Concept] = {}
        terms: list[Term] = []
        seen: dict[tuple[str, str, bool], str] = {}
        digest = hashlib.sha256()
        for path in files:
            reader = _FileReader(path, norm)
            digest.update(path.name.encode() + b"\0" + reader.raw.encode() + b"\0")
            concept, file_terms = reader.read()
            known = concepts.get(concept.name)
            if known and (known.kind != concept.kind or known.penalty != concept.penalty):
                raise reader.fail(reader.key_line("kind"),
                                  f"concept {concept.name!r} is declared differently "
                                  "in another file")
            concepts.setdefault(concept.name, concept)
            for term in file_terms:
                k = (term.concept, term.key, term.stem)
                if k in seen:
                    line = int(term.where.rsplit(":", 1)[1])
                    raise reader.fail(line, f"term {term.text!r} repeats {seen[k]} "
                                            f"(same folded form {term.key!r})")
                seen[k] = term.where
                terms.append(term)
        return cls(concepts, terms, digest.hexdigest())

    def by_concept(self, concept: str) -> list[Term]:
        return [t for t in self.terms if t.concept == concept]
