"""Request texts of an evidence package: what the recipient is asked to do, per language.

One Jinja2 template per recipient and language, `<recipient>.<lang>.txt.j2` (recipients
`telegram`, `regulator`, `generic`; languages `ru`, `kk`, `en`), bundled in
evidence/templates/requests/; a template of the same name in the organisation's
`[evidence] templates_dir` replaces the bundled one. Templates run in Jinja2's sandbox with
StrictUndefined: a placeholder with nothing to fill it (a misspelt name, or a setting left empty
such as `contact_email`) stops the export with one line naming the template, its line and the
setting to fill.

What a template sees (every scraped text in it already folded to one line and defanged):
  organisation, organisation_id, package_id, created_at, recipient, lang, total_posts,
  notifier.name (the organisation), notifier.email, notifier.contact  (empty ones undefined),
  legal_basis  (undefined when empty; test with `legal_basis is defined`),
  subjects: ref, url, handle, title, platform, type, category, categories, policy, decided_at,
            decided_by_org, posts_count, words (matched), indicators ("kind:value"), more_posts,
            posts: ref, url, posted_at, excerpt, indicators, missing.
The subjects given are the builder's (evidence/context.py): manifest subjects with their `items`.
Resource URLs are kept exact when they are plain http(s) addresses (a notice under the EU DSA
must name the exact URLs); any other URL is defanged like the rest of the scraped text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from jinja2 import (ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError,
                    TemplateNotFound, TemplateSyntaxError, UndefinedError)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from crawler.config_evidence import EvidenceConfig
from crawler.defang import one_line, printable

BUNDLED = Path(__file__).resolve().parent / "templates" / "requests"
MAX_POSTS = 20  # evidence posts listed per subject; the rest are in urls.txt and posts.csv
MAX_EXCERPT = 300  # characters of a post quoted in a request
MAX_WORDS = 12
# Settings whose emptiness a template may trip over: the hint names what to fill.
SETTINGS = {"email": "contact_email", "contact": "contact_name", "legal_basis": "legal_basis"}
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/?#-]*)?")


class RequestError(Exception):
    """A request text cannot be rendered (one line: the template, where, and what to do)."""


def exact_url(url: str | None) -> str:
    """The URL as it is when it is a plain http(s) address, else defanged on one line."""
    url = (url or "").strip()
    return url if _PLAIN_URL.fullmatch(url) else one_line(url)


def _setting(text: str) -> str:
    """A configured value (the organisation's own, not scraped): on one line, not defanged."""
    return " ".join(printable(text).split())


def environment(templates_dir: Path | None) -> ImmutableSandboxedEnvironment:
    """The sandbox the request templates run in: the organisation's directory first."""
    paths = [FileSystemLoader(str(templates_dir))] if templates_dir else []
    return ImmutableSandboxedEnvironment(
        loader=ChoiceLoader([*paths, FileSystemLoader(str(BUNDLED))]),
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)


def _short(text: str | None, limit: int) -> str:
    line = one_line(text)
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def indicator_strings(item: Mapping) -> list[str]:
    """An item's indicators as `kind:value`, safe to show."""
    return [one_line(f"{i.get('kind', '')}:{i.get('value', '')}") if isinstance(i, Mapping)
            else one_line(str(i)) for i in item.get("indicators") or []]


def matched_words(item: Mapping) -> list[str]:
    """The words the verdict matched in an item's text (spans labelled with a rule, not with an
    indicator kind), safe to show."""
    text = item.get("text") or ""
    kinds = {i.get("kind") for i in item.get("indicators") or [] if isinstance(i, Mapping)}
    return [one_line(text[int(start):int(end)]) for start, end, label in item.get("spans") or []
            if label not in kinds and 0 <= int(start) < int(end) <= len(text)]


def _post_values(item: Mapping) -> dict:
    return {"ref": item.get("ref", ""), "url": exact_url(item.get("url")),
            "posted_at": str(item.get("posted_at") or ""),
            "excerpt": _short(item.get("text"), MAX_EXCERPT),
            "indicators": indicator_strings(item),
            "missing": one_line(item.get("missing")) if item.get("missing") else ""}


def subject_values(subject: Mapping) -> dict:
    """What a template sees of one subject (scraped text made safe)."""
    items = list(subject.get("items") or [])
    decision = subject.get("decision") or {}
    indicators = sorted({i for item in items for i in indicator_strings(item)})
    words = sorted({w.lower() for item in items for w in matched_words(item) if w})
    return {"ref": subject.get("ref", ""), "url": exact_url(subject.get("url")),
            "handle": one_line(subject.get("handle")), "title": _short(subject.get("title"), 200),
            "platform": one_line(subject.get("platform")), "type": one_line(subject.get("type")),
            "category": one_line(subject.get("category")),
            "categories": [one_line(c) for c in subject.get("categories") or []],
            "policy": one_line(decision.get("policy")), "decided_at": str(decision.get("at") or ""),
            "decided_by_org": one_line(decision.get("organisation")),
            "posts_count": len(items), "words": words[:MAX_WORDS], "indicators": indicators,
            "posts": [_post_values(item) for item in items[:MAX_POSTS]],
            "more_posts": max(0, len(items) - MAX_POSTS)}


def template_values(config: EvidenceConfig, *, package_id: str, created_at: str,
                    recipient: str, subjects: Iterable[Mapping]) -> dict:
    """The variables every request template gets; empty settings are left undefined."""
    notifier = {"name": _setting(config.organisation)}
    if _setting(config.contact_email):
        notifier["email"] = _setting(config.contact_email)
    if _setting(config.contact_name):
        notifier["contact"] = _setting(config.contact_name)
    shown = [subject_values(s) for s in subjects]
    values = {"organisation": notifier["name"], "organisation_id": config.organisation_id,
              "package_id": package_id, "created_at": created_at, "recipient": recipient,
              "notifier": notifier, "subjects": shown,
              "total_posts": sum(s["posts_count"] for s in shown)}
    if config.legal_basis.strip():
        values["legal_basis"] = printable(config.legal_basis).strip()
    return values


def _where(exc: BaseException, name: str, label: str) -> str:
    """`label line N` from the template frame of a rendering error's traceback."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"{label} line {line}" if line else label


def _hint(message: str) -> str:
    for word, setting in SETTINGS.items():
        if f"'{word}'" in message:
            return f"set [evidence] {setting} in kyran.toml, or edit the template"
    return "fix the template (see the variables in evidence/requests.py)"


def render_request(config: EvidenceConfig, recipient: str, lang: str, values: Mapping) -> str:
    """One request text; RequestError (one line) when the template cannot be filled."""
    name = f"{recipient}.{lang}.txt.j2"
    env = environment(config.templates_dir)
    own = config.templates_dir and (config.templates_dir / name).is_file()
    label = str(config.templates_dir / name) if own else name
    try:
        template = env.get_template(name)
        return template.render(**values, lang=lang)
    except TemplateNotFound:
        raise RequestError(f"request template {name} not found (bundled or in "
                           f"[evidence] templates_dir)") from None
    except TemplateSyntaxError as exc:
        raise RequestError(f"request template {label} line {exc.lineno}: {exc.message}; "
                           "fix the template") from None
    except UndefinedError as exc:
        raise RequestError(f"request template {_where(exc, name, label)}: unfilled placeholder "
                           f"({exc.message}); {_hint(str(exc.message))}") from None
    except TemplateError as exc:  # the sandbox refusing an unsafe operation, among others
        raise RequestError(f"request template {_where(exc, name, label)}: {one_line(str(exc))}; "
                           "fix the template") from None


def request_texts(config: EvidenceConfig, *, package_id: str, created_at: str, recipient: str,
                  subjects: Iterable[Mapping]) -> dict[str, str]:
    """`{"requests/<recipient>.<lang>.txt": text}` for every configured language."""
    values = template_values(config, package_id=package_id, created_at=created_at,
                             recipient=recipient, subjects=subjects)
    return {f"requests/{recipient}.{lang}.txt": render_request(config, recipient, lang, values)
            for lang in config.languages}
