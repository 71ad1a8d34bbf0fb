"""The store step never writes a post into a channel whose stored numeric id differs from the one
the post carries, whatever handed it the post (the spider checks pages first; this holds even
when a page slipped past, e.g. a rename by a concurrent crawl between two pages). Through the
real processing chain, on SQLite and PostgreSQL."""

from sqlalchemy import select

from crawler.config import load_config
from crawler.items import ChannelItem, CrawlCheckpoint, PostItem
from crawler.store.models import Event, Post, Source
from pipelines.chain import ProcessingChain


def post(pid: int, text: str, numeric_id: int | None) -> PostItem:
    return PostItem(source_key="victim_chan", external_id=str(pid),
                    url=f"https://t.me/victim_chan/{pid}", text=text,
                    source_numeric_id=numeric_id)


def test_posts_claiming_another_channel_id_are_quarantined_not_written(store, tmp_path, db_url):
    path = tmp_path / "kyran.toml"
    path.write_text(f'[store]\nurl = "{db_url}"\ncaptures_dir = "captures"\n', encoding="utf-8")
    chain = ProcessingChain(store, load_config(path, environ={}), "component:test",
                            scoring=False)
    chain.process([ChannelItem(username="victim_chan", numeric_id=77),
                   post(1, "настоящий пост", 77), CrawlCheckpoint("victim_chan", 1)])
    chain.process([post(1, "ПОДБРОСКА", 99), post(2, "ПОДБРОСКА", 99),
                   post(3, "новый настоящий", 77), post(4, "без id", None),
                   CrawlCheckpoint("victim_chan", 4)])
    chain.process([post(5, "ПОДБРОСКА", 98), CrawlCheckpoint("victim_chan", 5)])  # all foreign
    with store.reader() as session:
        source = session.scalars(select(Source)).one()
        texts = dict(session.execute(select(Post.external_id, Post.text)).all())
        actions = [e.action for e in session.scalars(select(Event))]
        conflicts = session.scalars(select(Event).where(
            Event.action == "source.identity_conflict")).all()
    assert texts == {"1": "настоящий пост", "3": "новый настоящий", "4": "без id"}
    assert "post.edited" not in actions
    assert source.crawl_cursor == 1  # posts 1 and 2 of this visit were refused: not complete
    assert [(c.subject_id, c.payload["claimed_ids"]) for c in conflicts] == [
        (source.id, [99]), (source.id, [98])]
