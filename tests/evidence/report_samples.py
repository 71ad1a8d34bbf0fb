"""Subjects and posts as the evidence report and the request texts receive them (manifest
subjects, each with its posts as posts.jsonl rows plus matched words and spans), hostile where
scraped text can be."""

from __future__ import annotations

HOSTILE_TITLE = "Шишки ⚡ <script>alert(1)</script> https://evil.kz \u202egnp.exe\u202c\nFake: line"


def subjects() -> list[dict]:
    text = "Мефедрон 1г — закладки по Алматы https://pay.shop.kz @shop_bot <img src=x onerror=alert(2)>"
    return [
        {"ref": "S1", "candidate_id": 1, "type": "source", "platform": "telegram",
         "handle": "shop_alm", "title": HOSTILE_TITLE, "url": "https://t.me/shop_alm",
         "category": "sale", "categories": ["sale"],
         "decision": {"action": "confirm", "policy": "drug-sale", "by": "analyst-7",
                      "at": "2026-11-29T10:00:00Z", "organisation": "volunteers"},
         "posts": [
             {"ref": "P1", "subject": "S1", "url": "https://t.me/shop_alm/12", "channel": "shop_alm",
              "post_id": 12, "posted_at": "2026-11-28T09:00:00Z", "text": text, "views": 1200,
              "indicators": ["telegram:@shop_bot", "url:https://pay.shop.kz"], "verdict": "sale",
              "score": 0.93, "words": ["Мефедрон", "закладки"],
              "spans": [(0, 8, "sale.substance"), (14, 22, "sale.dead_drop")], "missing": None},
             {"ref": "P2", "subject": "S1", "url": "javascript:alert(3)", "channel": "shop_alm",
              "post_id": 13, "posted_at": "2026-11-28T10:00:00Z", "text": "ещё", "views": None,
              "indicators": [], "verdict": "sale", "score": 0.7, "words": [], "spans": [],
              "missing": "dropped by retention"}]},
        {"ref": "S2", "candidate_id": 2, "type": "source", "platform": "telegram",
         "handle": "rabota_kz", "title": "Работа", "url": "https://t.me/rabota_kz",
         "category": "recruitment", "categories": ["recruitment"], "decision": {}, "posts": []},
    ]
