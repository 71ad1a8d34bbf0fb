"""Migrations: they reach the models' schema, an upgrade keeps the data already stored, and 0009
(the model's reasons on verdicts) goes down and up again."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from crawler.items import ChannelItem, PostItem
from crawler.store.db import Store
from crawler.store.ingest import upsert_channel, upsert_posts
from crawler.store.models import Base, Post, Verdict


def _fk_shape(constraint):
    return (constraint.table.name, tuple(c.name for c in constraint.columns),
            constraint.elements[0].column.table.name)


def test_head_schema_matches_the_models(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    if store.dialect == "sqlite":
        # SQLite does not keep the name of a foreign key added with ALTER TABLE ADD COLUMN:
        # a removed unnamed key and an added named one on the same columns are the same key.
        removed = {_fk_shape(d[1]) for d in differences if d[0] == "remove_fk" and not d[1].name}
        differences = [d for d in differences if not (
            d[0] in ("remove_fk", "add_fk") and _fk_shape(d[1]) in removed)]
    assert differences == []


def test_upgrade_from_the_first_revision_keeps_posts(db_url):
    store = Store(db_url)
    store.upgrade("0001")
    with store.engine.begin() as conn:  # rows as revision 0001 knew them
        conn.execute(text("INSERT INTO source (id, platform, kind, external_id, handle, verified,"
                          " status, watched, watch_priority, discovered_via, discovery_depth,"
                          " first_seen) VALUES (1, 'telegram', 'channel', '5', 'old_shop', false,"
                          " 'active', true, 50, 'seed', 0, CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO post (source_id, external_id, url, text, links, mentions,"
                          " content_hash, first_seen, last_seen, edited) VALUES (1, '1', 'u', 't',"
                          " '[]', '[]', 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false)"))
    store.upgrade()
    assert store.current_revision() == store.head_revision()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 1
        source = upsert_channel(session, ChannelItem(username="old_shop", numeric_id=5), "t")
        upsert_posts(session, source, [(PostItem(source_key="old_shop", external_id="2",
                                                 url="u2", text="second"), None)])
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 2
    store.dispose()


def _downgrade(store: Store, revision: str) -> None:
    from alembic import command

    from crawler.store.db import alembic_config

    cfg = alembic_config(store.url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _verdict_columns(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("verdict")}


def test_0009_adds_contributions_and_downgrades_keeping_verdicts(db_url):
    store = Store(db_url)
    store.upgrade("0008")
    with store.engine.begin() as conn:  # a verdict as revision 0008 knew it
        conn.execute(text("INSERT INTO verdict (subject_type, subject_id, category, score, hits,"
                          " indicators, scores, model_version, scored_at) VALUES ('post', 1,"
                          " 'sale', 0.9, '[]', '[]', '{}', 'old', CURRENT_TIMESTAMP)"))
    assert "contributions" not in _verdict_columns(store)
    store.upgrade()
    assert "contributions" in _verdict_columns(store)
    with store.session() as session:
        old = session.scalars(select(Verdict)).one()
        assert old.contributions is None  # scored before 0009: read as no reasons
        session.add(Verdict(subject_type="post", subject_id=2, category="sale", score=0.8,
                            model_version="new"))
    with store.session() as session:
        fresh = session.scalars(select(Verdict).where(Verdict.subject_id == 2)).one()
        assert fresh.contributions == []  # the model's default
        fresh.contributions = [{"feature": "n-gram «клад»", "weight": 0.8}]
    with store.session() as session:
        assert session.scalars(select(Verdict.contributions).where(
            Verdict.subject_id == 2)).one() == [{"feature": "n-gram «клад»", "weight": 0.8}]

    _downgrade(store, "0008")
    assert store.current_revision() == "0008"
    assert "contributions" not in _verdict_columns(store)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM verdict")).scalar() == 2
    store.upgrade()
    assert store.current_revision() == store.head_revision()
    store.dispose()
