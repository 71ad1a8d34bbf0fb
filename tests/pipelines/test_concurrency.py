"""Two crawls writing at once, on SQLite and PostgreSQL: unique keys and upserts mean no post,
entity, verdict, candidate or watchlist entry is ever stored twice."""

from sqlalchemy import func, select

from crawler.store.db import Store
from crawler.store.models import Candidate, Entity, Post, PostEntity, Source, Verdict
from pipelines.chain import ProcessingChain
from tests.conftest import run_concurrently
from tests.pipelines.test_chain import NEWS, SHOP_AD, channel, post


def items_for(writer: int) -> list:
    """Overlapping work: both writers see the same shop channels, bots and discovered names."""
    items = []
    for n in range(4):
        name = f"shared_shop_{n}"
        items.append(channel(name, 500 + n, "Shop", "Бот: @shared_kz_bot", 3000))
        items += [post(name, i, SHOP_AD.format(price=1000 * i + writer, bot="shared_kz_bot")
                       + f"\nРезерв: @reserve_shop_{i % 3}") for i in range(1, 8)]
        items += [post(name, 100 + i, text) for i, text in enumerate(NEWS)]
    return items


def test_concurrent_chains_never_duplicate(store, db_url, config):
    stores = [Store(db_url) for _ in range(3)]
    chains = [ProcessingChain(s, config, f"component:writer{i}") for i, s in enumerate(stores)]
    for chain in chains:
        chain.detectors.get()
    def run(index):
        for start in range(0, len(items_for(index)), 9):  # many small batches interleave
            chains[index].process(items_for(index)[start:start + 9])

    assert run_concurrently(run, len(chains)) == []
    assert not any(key.startswith("errors/") for chain in chains for key in chain.stats)
    with stores[0].session() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Post) == 4 * (7 + len(NEWS))
        assert session.scalar(select(func.count()).select_from(Verdict).where(
            Verdict.subject_type == "post")) == count(Post)  # every post scored exactly once
        handles = session.scalars(select(Source.handle)).all()
        assert len(handles) == len(set(handles))
        assert {"reserve_shop_0", "reserve_shop_1", "reserve_shop_2"} <= set(handles)
        values = session.execute(select(Entity.kind, Entity.value)).all()
        assert len(values) == len(set(values))
        assert count(PostEntity) == session.scalar(select(func.count()).select_from(
            select(PostEntity.post_id, PostEntity.entity_id).distinct().subquery()))
        subjects = session.execute(select(Candidate.subject_type, Candidate.subject_id)).all()
        assert len(subjects) == len(set(subjects)) > 0
    for store in stores:
        store.dispose()
