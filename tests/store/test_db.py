"""Opening the store: readers never queue behind a writer."""

from sqlalchemy import func, select

from crawler.items import ChannelItem
from crawler.store.ingest import upsert_channel
from crawler.store.models import Source


def test_a_reader_is_not_blocked_by_a_long_write(store):
    with store.session() as session:
        upsert_channel(session, ChannelItem(username="some_chan", numeric_id=1), "t")
    with store.session() as writer:  # a crawl in the middle of a batch
        upsert_channel(writer, ChannelItem(username="other_chan", numeric_id=2), "t")
        writer.flush()
        with store.reader() as reader:  # a blocked reader fails with "database is locked"
            assert reader.scalar(select(func.count()).select_from(Source)) == 1
