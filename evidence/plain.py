"""The plain request texts and report a package carries when no `extras` are given, so a
package is always complete: a short request per language listing each resource, and a
self-contained report.html (escaped and defanged, no script, no remote resource)."""

from __future__ import annotations

from html import escape

from crawler.defang import printable, safe
from evidence import names
from evidence.context import PackageContext

INTRO = {
    "ru": "Просим заблокировать следующие ресурсы, распространяющие рекламу наркотиков или "
          "вербующие курьеров. Доказательства приложены (пакет {id}).",
    "kk": "Есірткі жарнамасын таратып немесе курьер жалдап жүрген келесі ресурстарды бұғаттауды "
          "сұраймыз. Дәлелдер қоса берілді (пакет {id}).",
    "en": "Please block the following resources advertising drugs or recruiting couriers. The "
          "evidence is attached (package {id}).",
}
CATEGORY = {
    "ru": {"sale": "продажа наркотиков", "recruitment": "вербовка курьеров"},
    "kk": {"sale": "есірткі сату", "recruitment": "курьер жалдау"},
    "en": {"sale": "drug sale", "recruitment": "courier recruitment"},
}
SIGNED = {"ru": "Заявитель", "kk": "Өтініш беруші", "en": "Notifier"}


def request_texts(context: PackageContext) -> dict[str, str]:
    """One plain request text per configured language (entry name -> text)."""
    texts = {}
    for lang in context.languages:
        lines = [INTRO[lang].format(id=context.package_id), ""]
        for subject in context.subjects():
            category = CATEGORY[lang].get(subject.get("category") or "", subject.get("category"))
            lines.append(f"- {subject.get('url') or subject.get('handle')} ({category}; "
                         f"{len(subject['items'])} posts)")
        notifier = context.notifier
        lines += ["", f"{SIGNED[lang]}: {context.organisation}"
                  + "".join(f", {v}" for v in (notifier.get("name"), notifier.get("email"))
                            if v)]
        texts[names.request_name(context.recipient, lang)] = \
            "\n".join(printable(line) for line in lines) + "\n"
    return texts


def _text(value) -> str:
    return escape(safe(str(value if value is not None else "")))


def report_html(context: PackageContext) -> str:
    """A readable summary per subject with its evidence posts."""
    parts = ["<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">",
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "img-src 'self' data:; style-src 'unsafe-inline'\">",
             f"<title>Kyran evidence package {_text(context.package_id)}</title></head><body>",
             f"<h1>Evidence package {_text(context.package_id)}</h1>",
             f"<p>{_text(context.organisation)}, {_text(context.created_at)}, for "
             f"{_text(context.recipient)}: {context.subject_count} subjects, "
             f"{context.item_count} posts, {context.missing_count} captures missing.</p>"]
    for subject in context.subjects():
        parts.append(f"<h2>{_text(subject['ref'])}: {_text(subject.get('url'))} "
                     f"({_text(subject.get('category'))})</h2>")
        parts.append(f"<p>{_text(subject.get('title'))}</p><ol>")
        for item in subject["items"]:
            missing = f" <b>capture missing: {_text(item['missing'])}</b>" \
                if item.get("missing") else ""
            parts.append(f"<li id=\"{_text(item['ref'])}\"><p>{_text(item['ref'])} "
                         f"{_text(item.get('url'))} {_text(item.get('posted_at'))}{missing}</p>"
                         f"<pre>{_text(item.get('text'))}</pre></li>")
        parts.append("</ol>")
    for name, text in context.requests.items():
        parts.append(f"<h2>{_text(name)}</h2><pre>{_text(text)}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
