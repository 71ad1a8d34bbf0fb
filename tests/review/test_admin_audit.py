"""The admin's audit page and exports (on review/audit.py from the stats part): filters,
pages, display names beside actors, CSV and JSON Lines, and bad filters as one 422 line."""

from __future__ import annotations

import csv
import io
import json

from crawler.store.ingest import add_event


def seed(store, count: int = 7) -> None:
    with store.session() as session:
        for number in range(count):
            add_event(session, "user:anna", "decision.confirm", "candidate", number + 1,
                      policy="drug-sale", note=f"=HYPERLINK(\"x\") <script>{number}</script>",
                      link="https://shop.example/buy", text="Закладки \u202eevil")
        add_event(session, "component:queue", "candidate.open", "candidate", 1)


def test_audit_page_filters_and_shows_display_names(client_for, users, store):
    seed(store)
    admin = client_for("admin")
    page = admin.get("/admin/audit", params={"actor": "user:anna"})
    assert page.status_code == 200
    assert page.text.count("decision.confirm") == 7
    assert "candidate.open" not in page.text
    assert "Pseudonym A" in page.text  # the display name beside the actor
    assert "<script>" not in page.text and "&lt;script&gt;0&lt;/script&gt;" in page.text
    assert "hxxps://shop[.]example/buy" in page.text and "Закладки" in page.text
    assert "\u202e" not in page.text
    only = admin.get("/admin/audit", params={"action": "candidate.", "subject_id": "1"})
    assert "candidate.open" in only.text and "decision.confirm" not in only.text


def test_audit_pages(client_for, users, store, review_config):
    review_config.review.page_size = 5
    seed(store, 9)
    admin = client_for("admin")
    first = admin.get("/admin/audit", params={"action": "decision."})
    assert first.text.count("decision.confirm") == 5 and "page=2" in first.text
    second = admin.get("/admin/audit", params={"action": "decision.", "page": "2"})
    assert second.text.count("decision.confirm") == 4 and "page=3" not in second.text


def test_exports_csv_and_jsonl(client_for, users, store):
    seed(store, 3)
    admin = client_for("admin")
    exported = admin.get("/admin/audit.csv", params={"action": "decision."})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["action"] for row in rows] == ["decision.confirm"] * 3
    lines = admin.get("/admin/audit.jsonl", params={"actor": "component:queue"}).text
    records = [json.loads(line) for line in lines.splitlines()]
    assert [r["action"] for r in records] == ["candidate.open"]


def test_bad_filters_are_one_422_line(client_for, users):
    admin = client_for("admin")
    for path in ("/admin/audit", "/admin/audit.csv", "/admin/audit.jsonl"):
        for params in ({"from": "yesterday"}, {"subject_id": "x"},
                       {"from": "2026-02-01", "to": "2026-01-01"}, {"actor": "a" * 500}):
            response = admin.get(path, params=params)
            assert response.status_code == 422, (path, params)
            assert "\n" not in response.json()["detail"]
