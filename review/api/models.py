"""The JSON API's request and response models (pydantic), so `/api/openapi.json` describes every
field. Scraped text (post text, titles, handles, URLs, indicator values) is carried as stored,
JSON-escaped by the encoder, with a `*_defanged` twin wherever it may hold a link: a client
that shows text to a person shows the defanged form.

Request models forbid unknown fields and refuse text no store can hold (NUL, lone surrogates)
with one line, before it reaches a query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Action = Literal["confirm", "dismiss", "escalate", "note", "assign", "reopen"]


def clean_text(value: str | None, name: str) -> str | None:
    """`value`, or ValueError when it holds a NUL or a lone surrogate (no database stores
    those: PostgreSQL refuses NUL, UTF-8 refuses surrogates)."""
    if value is None:
        return None
    if "\x00" in value:
        raise ValueError(f"{name}: contains a NUL character")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError(f"{name}: contains an unpaired surrogate")
    return value


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value, info):
        if isinstance(value, str):
            return clean_text(value, info.field_name)
        return value


class ErrorOut(BaseModel):
    """Every refusal: a 4xx status and one line saying why."""

    error: str


class QueueRowOut(BaseModel):
    id: int
    subject: str = Field(description="A line naming the subject, as stored (scraped text).")
    subject_defanged: str = Field(description="The same, links defanged, controls removed.")
    subject_type: str
    subject_id: int
    category: str
    priority: int
    score: float
    status: str
    claimed_by: str | None = Field(description="Display name of whoever holds it.")
    assigned_to: int | None
    age_seconds: int
    created_at: datetime
    reasons: list[dict[str, Any]]


class QueuePageOut(BaseModel):
    rows: list[QueueRowOut]
    total: int = Field(description="Matches counted (capped; see `more`).")
    more: bool = Field(description="More matches than `total` counted.")
    page: int
    page_size: int
    pages: int


class CountsOut(BaseModel):
    open: int
    escalated: int
    mine: int
    spot_check: int


class CandidateOut(BaseModel):
    id: int
    subject_type: str
    subject_id: int
    subject: str
    subject_defanged: str
    category: str
    status: str
    decision: str | None
    policy: str | None
    reason: str | None
    priority: int
    score: float
    reasons: list[dict[str, Any]]
    assigned_to: str | None = Field(description="Username of whoever holds or is assigned it.")
    claimed_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    last_evidence_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SpanOut(BaseModel):
    start: int
    end: int
    label: str = Field(description="The rule or indicator kind that matched there.")


class ContributionOut(BaseModel):
    feature: str = Field(description="A reason of the learned model in an analyst's words "
                         "(\"rule sale.drop\", \"n-gram «клад»\", \"bot link\"); an n-gram "
                         "quotes the post.")
    feature_defanged: str
    weight: float = Field(description="How far it pushed the model towards the category "
                          "(log-odds against \"none\").")


class VerdictOut(BaseModel):
    category: str
    score: float
    model_version: str
    hits: list[dict[str, Any]] = Field(description="Rules fired, with matched words and spans.")
    indicators: list[dict[str, Any]]
    contributions: list[ContributionOut] = Field(
        description="Where the learned model decided: its strongest reasons, strongest first "
                    "(empty where the rules alone decided, or for a verdict stored before "
                    "they were kept).")


class SourceOut(BaseModel):
    id: int
    platform: str
    kind: str
    external_id: str | None
    handle: str | None
    handle_defanged: str | None
    title: str | None
    title_defanged: str | None
    subscribers: int | None
    status: str
    watched: bool
    watch_priority: int
    watch_reason: str | None
    region: str | None
    discovered_via: str
    first_seen: datetime
    last_seen: datetime | None
    last_crawled: datetime | None
    gone_at: datetime | None
    gone_how: str | None


class PostOut(BaseModel):
    id: int
    source: SourceOut
    url: str
    url_defanged: str
    posted_at: datetime | None
    text: str = Field(description="The post's text as stored (hostile: escape it to show).")
    text_defanged: str
    links: list[str]
    links_defanged: list[str]
    cluster_id: int | None
    verdict: VerdictOut | None
    spans: list[SpanOut] = Field(description="Character spans in `text` to highlight.")


class IndicatorOut(BaseModel):
    id: int
    kind: str
    value: str
    value_defanged: str
    posts: int
    sources: int


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: int | None
    payload: dict[str, Any]


class CandidateDetailOut(BaseModel):
    candidate: CandidateOut
    sources: int = Field(description="Distinct sources of the evidence.")
    evidence: list[PostOut]
    contributions: list[ContributionOut] = Field(
        description="Why the learned model decided, over the evidence shown: each feature "
                    "once at its strongest weight, strongest first (the page's list).")
    indicators: list[IndicatorOut]
    events: list[EventOut]


class DecisionIn(RequestModel):
    action: Action
    category: Literal["sale", "recruitment"] | None = None
    policy: str | None = Field(None, max_length=64, description="A configured policy id.")
    reason: str | None = Field(None, max_length=64, description="A configured reason id.")
    note: str | None = Field(None, max_length=4000)
    assignee: str | None = Field(None, max_length=64, description="Username (assign only).")


class DecisionOut(BaseModel):
    candidate: CandidateOut
    event: EventOut


class QueueFiltersIn(RequestModel):
    status: str | None = Field(None, max_length=200)
    category: Literal["sale", "recruitment", "none"] | None = None
    platform: Literal["telegram", "web"] | None = None
    region: str | None = Field(None, max_length=200)
    score_min: float | None = Field(None, allow_inf_nan=False)
    score_max: float | None = Field(None, allow_inf_nan=False)
    mine: bool = False
    assigned_to: str | None = Field(None, max_length=200)
    source: str | None = Field(None, max_length=200)
    rule: str | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=200)


class TakeNextIn(RequestModel):
    filters: QueueFiltersIn | None = None


class TakeNextOut(BaseModel):
    candidate: CandidateOut | None = Field(description="Null when nothing is left to take.")


class BulkDecisionIn(DecisionIn):
    ids: list[int] = Field(min_length=1, max_length=5000)


class BulkDecisionOut(BaseModel):
    decided: int
    candidates: list[int]
    events: list[int]


class EntitySourceOut(BaseModel):
    source: SourceOut
    posts: int
    flagged: int


class EntityOut(BaseModel):
    id: int
    kind: str
    value: str
    value_defanged: str
    first_seen: datetime
    last_seen: datetime
    sources: list[EntitySourceOut]
    candidates: list[CandidateOut]
    posts: list[PostOut]


class SourcesPageOut(BaseModel):
    rows: list[SourceOut]
    total: int
    page: int
    page_size: int


class SourceIn(RequestModel):
    platform: Literal["telegram", "web"] = "telegram"
    handle: str = Field(min_length=1, max_length=255,
                        description="A Telegram username or t.me link; a site's name for web.")
    reason: str = Field(min_length=1, max_length=2000, description="Why it is watched.")
    priority: int = Field(50, ge=0, le=100)
    region: str | None = Field(None, max_length=64)


class SourceChangeIn(RequestModel):
    reason: str | None = Field(None, max_length=2000)


class SourceChangeOut(BaseModel):
    source: SourceOut
    event: EventOut | None = Field(description="Null when nothing changed.")
