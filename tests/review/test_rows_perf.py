"""The queue's batched subject lines (crawler/store/views.py subject_lines, used by
review/queries.py rows_for) read the same as one candidate's `subject_line`, for every kind of
subject and for subjects that are gone, on SQLite and PostgreSQL."""

from __future__ import annotations

from crawler.store.models import Candidate, Entity
from crawler.store.views import subject_line, subject_lines
from tests.review.test_decisions_support import add_candidate, add_post, add_source


def test_batched_subject_lines_match_the_single_ones(store):
    with store.session() as session:
        channel = add_source(session, "kladmen", title="Клад 24/7")
        channel.subscribers = 1200
        shop = add_source(session, "shop.example", platform="web", title=None)
        post = add_post(session, channel, "пиши в бот")
        entity = Entity(kind="telegram_bot", value="@kladbot")
        session.add(entity)
        session.flush()
        candidates = [add_candidate(session, "source", channel.id),
                      add_candidate(session, "source", shop.id),
                      add_candidate(session, "post", post.id),
                      add_candidate(session, "entity", entity.id),
                      add_candidate(session, "source", 999_999),
                      add_candidate(session, "post", 999_999),
                      add_candidate(session, "entity", 999_999)]
        ids = [c.id for c in candidates]
    with store.reader() as session:
        loaded = [session.get(Candidate, i) for i in ids]
        lines = subject_lines(session, loaded)
        assert [lines[c.id] for c in loaded] == [subject_line(session, c) for c in loaded]
        assert lines[ids[0]] == "telegram channel @kladmen «Клад 24/7», 1200 subscribers"
        assert lines[ids[4]] == "source 999999 (gone)"
        assert subject_lines(session, []) == {}
