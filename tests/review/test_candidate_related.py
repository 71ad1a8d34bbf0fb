"""The candidate page beside the evidence: the near-duplicate cluster ("in N sources", with a
paged list of those sources) and related candidates sharing a bot, wallet, handle, phone or
domain (most shared first, capped, each with status and category); and their queries' plans."""

from __future__ import annotations

import re

from crawler.store.models import Candidate, Post, Source
from review.related import MAX_RELATED, related_candidates
from tests.review.test_queries_plan import plan
from tests.review.test_stats_support import at, entity, post, source


def flagged(session, src: Source, cluster: int | None = None, entities=()) -> Post:
    row = post(session, src, at(days=1), entities=list(entities))
    row.text, row.cluster_id, row.posted_at = f"ad {row.id}", cluster, at(days=1)
    return row


def on_source(session, src: Source, status: str = "open", priority: int = 50) -> Candidate:
    row = Candidate(subject_type="source", subject_id=src.id, category="sale", status=status,
                    priority=priority, reasons=[])
    session.add(row)
    session.flush()
    return row


def test_cluster_spread_and_its_paged_list(client_for, users, store):
    with store.session() as session:
        home = source(session, "home_shop")
        head = flagged(session, home)
        head.cluster_id = head.id
        for number in range(55):  # 55 other channels repeat the ad, the first one three times
            other = source(session, f"copy_{number:02d}")
            other.title = "<b>copy</b>" if number == 0 else f"copy {number}"
            for _ in range(3 if number == 0 else 1):
                flagged(session, other, head.id)
        flagged(session, source(session, "unrelated"))  # its own cluster: not counted
        candidate = on_source(session, home).id
    analyst = client_for("analyst")
    page = analyst.get(f"/candidates/{candidate}").text
    section = page.split('id="cluster"')[1].split("</section>")[0]
    link = re.search(r'<a href="(/candidates/\d+/cluster)" id="cluster-link">([^<]+)</a>', section)
    assert link and link.group(1) == f"/candidates/{candidate}/cluster"
    assert "56" in link.group(2) and "58" in section  # 56 sources, 58 posts
    first = analyst.get(link.group(1))
    assert first.status_code == 200
    rows = first.text.split('id="cluster-sources"')[1].split("</table>")[0]
    assert rows.count("<tr><td><a href=\"/sources/") == 50
    assert rows.index("copy_00") < rows.index("home_shop")  # most posts first
    assert "&lt;b&gt;copy" in rows and "<b>copy" not in rows and "unrelated" not in rows
    assert 'cluster?page=2" rel="next"' in first.text
    second = analyst.get(f"/candidates/{candidate}/cluster?page=2").text
    assert second.split('id="cluster-sources"')[1].count("/sources/") == 6
    assert 'rel="next"' not in second and 'cluster?page=1" rel="prev"' in second
    assert analyst.get(f"/candidates/{candidate}/cluster?page=101").status_code == 422
    assert analyst.get("/candidates/999999/cluster").status_code == 404


def test_no_cluster_shows_a_dash(client_for, users, store):
    with store.session() as session:
        home = source(session, "lonely")
        flagged(session, home)
        candidate = on_source(session, home).id
    page = client_for("analyst").get(f"/candidates/{candidate}").text
    assert "cluster-link" not in page.split('id="cluster"')[1].split("</section>")[0]


def related_world(session) -> dict[str, int]:
    wallet = entity(session, "btc", "bc1qwallet")
    bot = entity(session, "telegram_bot", "@shopbot")
    url = entity(session, "url", "https://example.org/")  # not a kind that relates shops
    home = source(session, "home")
    flagged(session, home, entities=[wallet, bot, url])
    ids = {"self": on_source(session, home).id}
    two = source(session, "shares_two")
    flagged(session, two, entities=[wallet])
    flagged(session, two, entities=[bot])
    ids["source_two"] = on_source(session, two, status="confirmed").id
    ids["entity_wallet"] = Candidate(subject_type="entity", subject_id=wallet.id,
                                     category="sale", status="open", priority=90, reasons=[])
    session.add(ids["entity_wallet"])
    third = source(session, "third")
    head = flagged(session, third)
    head.cluster_id = head.id
    flagged(session, third, cluster=head.id, entities=[bot])  # a member of a post candidate's
    ids["post_cluster"] = Candidate(subject_type="post", subject_id=head.id, category="sale",
                                    status="escalated", reasons=[])
    session.add(ids["post_cluster"])
    only_url = source(session, "only_url")
    flagged(session, only_url, entities=[url])
    ids["url_only"] = on_source(session, only_url).id
    session.flush()
    for key in ("entity_wallet", "post_cluster"):
        ids[key] = ids[key].id
    return ids


def test_related_candidates_most_shared_first_with_status_and_category(client_for, users,
                                                                        store):
    with store.session() as session:
        ids = related_world(session)
    page = client_for("analyst").get(f"/candidates/{ids['self']}").text
    section = page.split('id="related"')[1].split("</section>")[0]
    shown = [int(i) for i in re.findall(r'<a href="/candidates/(\d+)">', section)]
    assert shown[0] == ids["source_two"]  # shares the wallet and the bot
    assert set(shown) == {ids["source_two"], ids["entity_wallet"], ids["post_cluster"]}
    assert ids["self"] not in shown and ids["url_only"] not in shown
    first = section.split("<li>")[1]
    assert "status-confirmed" in first and "2" in first.split('class="shared"')[1]
    assert "status-escalated" in section


def test_related_candidates_are_capped(store):
    with store.session() as session:
        wallet = entity(session, "tron", "TXwallet")
        home = source(session, "home")
        flagged(session, home, entities=[wallet])
        me = on_source(session, home)
        for number in range(MAX_RELATED + 5):
            other = source(session, f"other{number}")
            flagged(session, other, entities=[wallet])
            on_source(session, other)
        found = related_candidates(session, me, [wallet.id])
        assert len(found) == MAX_RELATED and all(r.shared == 1 for r in found)
        assert related_candidates(session, me, []) == []


def test_the_related_query_uses_the_indexes(store):
    """The candidate lookups go through the (subject_type, subject_id) unique index and the
    posts through post_entity's entity index: no scan of the candidate or post tables."""
    with store.session() as session:
        wallet = entity(session, "btc", "bc1qplan")
        home = source(session, "home")
        flagged(session, home, entities=[wallet])
        me = on_source(session, home)
        captured = []
        real = session.execute

        def spy(statement, *args, **kwargs):
            captured.append(statement)
            return real(statement, *args, **kwargs)

        session.execute = spy
        try:
            related_candidates(session, me, [wallet.id])
        finally:
            session.execute = real
        found = plan(session, captured[0])
    if "SCAN" in found:  # SQLite: a scan is only of the small intermediate results
        scans = re.findall(r"SCAN (\w+)", found)
        assert not {"candidate", "post"} & set(scans), found
    else:
        assert "Seq Scan on candidate" not in found and "Seq Scan on post " not in found, found
