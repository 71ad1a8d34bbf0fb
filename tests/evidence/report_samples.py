"""Subjects as the package builder hands them to its extras (evidence/context.py: manifest
subjects each with its full `items`), hostile where scraped text can be."""

from __future__ import annotations

HOSTILE_TITLE = "Шишки ⚡ <script>alert(1)</script> https://evil.kz \u202egnp.exe\u202c\nFake: line"
TEXT = "Мефедрон 1г — закладки по Алматы https://pay.shop.kz @shop_bot <img src=x onerror=alert(2)>"


def item(ref: str, subject: str, url: str, text: str, **fields) -> dict:
    return {"ref": ref, "subject": subject, "url": url, "channel": "shop_alm", "post_id": 12,
            "posted_at": "2026-11-28T09:00:00Z", "text": text, "views": 1200,
            "indicators": [], "spans": [], "verdict": "sale", "score": 0.93,
            "capture": None, "missing": None, **fields}


def subjects() -> list[dict]:
    return [
        {"ref": "S1", "candidate_id": 1, "type": "source", "platform": "telegram",
         "handle": "shop_alm", "title": HOSTILE_TITLE, "url": "https://t.me/shop_alm",
         "category": "sale", "categories": ["sale"],
         "decision": {"action": "confirm", "policy": "drug-sale", "by": "analyst-7",
                      "at": "2026-11-29T10:00:00Z", "organisation": "volunteers"},
         "items": [
             item("P1", "S1", "https://t.me/shop_alm/12", TEXT,
                  indicators=[{"kind": "telegram", "value": "@shop_bot"},
                              {"kind": "url", "value": "https://pay.shop.kz"}],
                  spans=[[0, 8, "sale.substance"], [14, 22, "sale.dead_drop"],
                         [TEXT.index("@shop_bot"), TEXT.index("@shop_bot") + 9, "telegram"]],
                  capture={"file": "captures/web.warc.gz", "record_id": "<urn:uuid:1>",
                           "sha256": "ab" * 32, "url": "https://t.me/s/shop_alm/12"}),
             item("P2", "S1", "javascript:alert(3)", "ещё", views=None, score=0.7,
                  missing="dropped by retention")]},
        {"ref": "S2", "candidate_id": 2, "type": "source", "platform": "telegram",
         "handle": "rabota_kz", "title": "Работа", "url": "https://t.me/rabota_kz",
         "category": "recruitment", "categories": ["recruitment"], "decision": {}, "items": []},
    ]
