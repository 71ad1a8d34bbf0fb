"""Helpers for the API tests: a small seeded store (sources, posts with verdicts and spans,
entities, candidates) and API tokens issued the way the admin page issues them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from crawler.store.models import Candidate, Entity, Post, PostEntity, Source, User, Verdict
from review.users import issue_token

T0 = datetime.now(timezone.utc) - timedelta(hours=1)
HOSTILE = '<script>alert(1)</script> buy at https://shop.example.kz/x?a=1&b=2 \u202e'


@dataclass
class World:
    sources: list[int]
    posts: list[int]
    candidates: list[int]  # by priority, highest first
    entity: tuple[str, str]


def token_for(store, username: str, name: str = "robot") -> str:
    with store.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return issue_token(session, "user:adam", user, name).token


def seed(store, candidates: int = 4) -> World:
    """Two sources (one in Almaty), a hostile post with a verdict (hits with spans, a wallet
    indicator), and `candidates` open candidates with decreasing priority."""
    with store.session() as session:
        shop = Source(platform="telegram", handle="shop_kz", title="Shop <b>KZ</b>",
                      external_id="1001", region="Almaty", status="active")
        other = Source(platform="web", kind="site", handle="market", title="Market",
                       status="active")
        session.add_all([shop, other])
        session.flush()
        text = HOSTILE + " wallet TXabc123"
        start = text.index("buy")
        wallet_at = text.index("TXabc123")
        post = Post(source_id=shop.id, external_id="1", url="https://t.me/shop_kz/1", text=text,
                    content_hash="h1", links=["https://shop.example.kz/x?a=1&b=2"],
                    posted_at=T0)
        post2 = Post(source_id=other.id, external_id="2", url="https://market.example/2",
                     text="plain listing", content_hash="h2", posted_at=T0)
        session.add_all([post, post2])
        session.flush()
        session.add(Verdict(subject_type="post", subject_id=post.id, category="sale",
                            score=0.9, model_version="rules-1",
                            hits=[{"rule": "sale.substance", "weight": 0.9, "matches": [
                                {"span": [start, start + 3], "text": "buy", "field": "text"}]}],
                            indicators=[{"kind": "wallet", "value": "TXabc123",
                                         "span": [wallet_at, wallet_at + 8]}]))
        wallet = Entity(kind="wallet", value="TXabc123")
        session.add(wallet)
        session.flush()
        session.add(PostEntity(post_id=post.id, entity_id=wallet.id))
        subjects = [("source", shop.id), ("post", post.id), ("entity", wallet.id),
                    ("source", other.id)]
        made = []
        for number in range(candidates):
            kind, subject = subjects[number] if number < len(subjects) else ("post", 10_000 +
                                                                             number)
            candidate = Candidate(
                subject_type=kind, subject_id=subject, status="open",
                category="recruitment" if number == 1 else "sale", priority=90 - number * 10,
                score=0.9 - number * 0.1,
                reasons=[{"rule": "sale.substance" if number != 1 else "job.courier",
                          "contribution": 0.5}],
                created_at=T0 + timedelta(minutes=number), updated_at=T0)
            session.add(candidate)
            session.flush()
            made.append(candidate.id)
        return World([shop.id, other.id], [post.id, post2.id], made, ("wallet", "TXabc123"))
