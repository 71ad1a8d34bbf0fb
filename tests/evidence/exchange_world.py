"""Two organisations' Kyran instances for the exchange tests: each its own store (SQLite file,
or its own PostgreSQL schema), capture directory, signing key and configuration. `seed_confirmed`
puts a confirmed shop (a channel with captured posts, one of them captured by the monitor as
MTProto JSON) into one, the way the crawler, the detector and an analyst would; `export` builds
its package with the real builder."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.config import KyranConfig, load_config
from crawler.items import ChannelItem, PostItem
from crawler.store.captures import CaptureWriter
from crawler.store.db import Store, open_store
from crawler.store.ingest import add_event, record_capture, upsert_channel, upsert_posts
from crawler.store.models import Candidate, Entity, PostEntity, User, Verdict
from evidence import keys
from tests.conftest import POSTGRES, postgres_schema, write_config


@dataclass
class Instance:
    org: str
    home: Path
    config_file: Path
    config: KyranConfig
    store: Store

    @property
    def trusted(self) -> keys.TrustedKeys:
        return keys.TrustedKeys(self.config.resolve(self.config.evidence.trusted_keys_dir))

    @property
    def public_key(self):
        return keys.load_private_key(self.config.resolve(
            self.config.evidence.signing_key_file)).public_key()

    def trust(self, other: Instance) -> None:
        self.trusted.add(other.org, other.public_key)


@contextmanager
def instance(tmp_path: Path, backend: str, org: str, url: str | None = None):
    """One organisation's Kyran: config, store (at `url`, or a new one on `backend`), key, and
    a lead user `lead_<org>`."""
    home = tmp_path / org
    home.mkdir()
    with (_given(url) if url else _postgres_url() if backend == "postgresql"
          else _sqlite_url(home)) as url:
        config_file = write_config(home / "kyran.toml", url, (
            f'\n[review]\nsecret_key_file = "{home}/secret.key"\n'
            f'\n[evidence]\norganisation = "Org {org}"\norganisation_id = "{org}"\n'
            f'signing_key_file = "{home}/keys/signing.key"\n'
            f'trusted_keys_dir = "{home}/keys/trusted"\nout_dir = "{home}/packages"\n'))
        config = load_config(str(config_file))
        keys.generate(home / "keys" / "signing.key")
        store = open_store(url)
        with store.session() as session:
            session.add(User(username=f"lead_{org}", password_hash="x", role="lead",
                             display_name=f"Lead of {org}"))
        try:
            yield Instance(org, home, config_file, config, store)
        finally:
            store.dispose()


@pytest.fixture
def pair(tmp_path, db_url, backend):
    """Organisations a (on the test's store) and b (a store of its own), b trusting a."""
    with instance(tmp_path, backend, "a", db_url) as a, instance(tmp_path, backend, "b") as b:
        b.trust(a)
        yield a, b


@contextmanager
def _given(url: str):
    yield url


@contextmanager
def _sqlite_url(home: Path):
    yield f"sqlite:///{home}/kyran.sqlite"


@contextmanager
def _postgres_url():
    with postgres_schema() as schema:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"


def seed_confirmed(side: Instance, channel: str = "shop_kz", numeric_id: int = 1234567,
                   posts: int = 3, subject: str = "source") -> int:
    """A channel with `posts` captured posts (the last one from the monitor, as MTProto JSON),
    flagged as sale with a bot indicator, the candidate on the channel (or on the bot, when
    `subject` is "entity") confirmed by the lead; its id."""
    writer = CaptureWriter(side.config.captures_path, fsync=False)
    at = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
    with side.store.session() as session:
        source = upsert_channel(session, ChannelItem(username=channel, numeric_id=numeric_id,
                                                     title="Магазин «Снег»"), "component:test")
        entries = []
        for number in range(1, posts + 1):
            text = f"Закладки {number} =SUM(A1) пиши @{channel}_bot"
            url = f"https://t.me/{channel}/{number}"
            if number == posts:
                ref = writer.write_json(url, {"id": number, "message": text, "peer": channel},
                                        at)
            else:
                ref = writer.write_response(f"https://t.me/s/{channel}?before={number + 1}",
                                            200, [("Content-Type", "text/html")],
                                            f"<p>{text}</p>".encode(), at)
            entries.append((PostItem(source_key=channel, external_id=str(number), url=url,
                                     text=text, views=100 * number, posted_at=at),
                            record_capture(session, ref)))
        stored = upsert_posts(session, source, entries)
        bot = Entity(kind="telegram_bot", value=f"{channel}_bot")
        session.add(bot)
        session.flush()
        for post, _ in stored:
            session.add(Verdict(subject_type="post", subject_id=post.id, category="sale",
                                score=0.91, model_version="test"))
            session.add(PostEntity(post_id=post.id, entity_id=bot.id))
        lead = session.query(User).filter_by(username=f"lead_{side.org}").one()
        candidate = Candidate(subject_type=subject,
                              subject_id=source.id if subject == "source" else bot.id,
                              category="sale",
                              status="confirmed", decision="sale", policy="drug-sale",
                              score=0.91, priority=60, decided_by=lead.id, decided_at=at)
        session.add(candidate)
        session.flush()
        add_event(session, f"user:{lead.username}", "decision.confirm", "candidate",
                  candidate.id, category="sale", policy="drug-sale")
        writer.close()
        return candidate.id


def export(side: Instance, ids: list[int]) -> Path:
    """Build a generic package of candidates `ids` with the real builder; its path."""
    from evidence.build import build_package
    from evidence.collect import Selection

    return build_package(side.store, side.config, Selection(ids=tuple(ids)), "generic",
                         f"lead_{side.org}").path
