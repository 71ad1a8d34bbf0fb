"""The queue's queries stay cheap as the store grows: the default page and take-next walk
ix_candidate_queue (or, for expired claims, ix_candidate_status_claimed) (checked with EXPLAIN on both backends), and a page's display rows come from
a fixed number of statements whatever the page size (no query per row)."""

from __future__ import annotations

from sqlalchemy import event, select, text

from crawler.store.models import Candidate
from review.queries import QueueFilters, filter_conditions, order_of, queue_page
from tests.review.test_decisions_support import T0, add_candidate, add_post, add_source


def plan(session, query) -> str:
    sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    if session.get_bind().dialect.name == "sqlite":
        return "\n".join(row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    # A test-sized table is read whole by the planner's choice; what matters is that the index
    # serves the query's shape once the table is large, so make a sequential scan the last resort.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(row[0] for row in session.execute(text("EXPLAIN " + sql)))


def test_the_default_page_and_take_next_walk_the_queue_index(store):
    with store.session() as session:
        for i in range(200):
            add_candidate(session, "post", i + 1, priority=i % 100,
                          status=("open", "dismissed", "in_review")[i % 3])
    with store.session() as session:
        page = (select(Candidate).where(*filter_conditions(session, QueueFilters(), None))
                .order_by(*order_of("priority")).limit(50))
        found = plan(session, page)
        assert "ix_candidate_queue" in found, found
        take = (select(Candidate).where(Candidate.status == "in_review",
                                        Candidate.claimed_at < T0)
                .order_by(*order_of("priority")).limit(1))
        found = plan(session, take)  # expired claims: in priority order, or only those
        assert "ix_candidate_queue" in found or "ix_candidate_status_claimed" in found, found


def test_a_page_is_a_fixed_number_of_statements(store):
    with store.session() as session:
        source = add_source(session, "shop")
        for i in range(60):
            post = add_post(session, source, f"text {i}", i + 1)
            add_candidate(session, "post", post.id, priority=i)
            add_source(session, f"other{i}")
            add_candidate(session, "source", source.id + i + 1, priority=i)
    counted = []
    with store.reader() as session:
        bind = store.engine

        def listener(*args):
            counted.append(1)

        event.listen(bind, "before_cursor_execute", listener)
        try:
            for size in (5, 100):
                counted.clear()
                page = queue_page(session, QueueFilters(), "priority", 1, size, now=T0)
                session.expunge_all()
                assert len(page.rows) == size and page.total == 120
                assert 3 <= len(counted) <= 7, (size, len(counted))
        finally:
            event.remove(bind, "before_cursor_execute", listener)
