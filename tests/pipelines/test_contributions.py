"""The learned model's reasons are stored with each verdict (SQLite and PostgreSQL): a post the
chain flags with the bundled model (rules + model, `Detector.from_config()`) keeps its top
features in words with their weights, an edit replaces them, a post left alone keeps none, and
`kyran rescore` gives them to verdicts stored before the column existed without moving
anything else."""

from sqlalchemy import select, update

from crawler.store.models import Candidate, Event, Post, Verdict
from pipelines.chain import ProcessingChain
from pipelines.rescore import rescore
from tests.pipelines.test_chain import NEWS, RECRUIT_AD, SHOP_AD, channel, post


def _verdicts(store) -> dict[str, Verdict]:
    with store.session() as session:
        return {p.external_id: v for p, v in session.execute(
            select(Post, Verdict).join(Verdict, (Verdict.subject_type == "post")
                                       & (Verdict.subject_id == Post.id)))}


def _items():
    return [channel("city_chat", 5, "Алматы чат", "Общение жителей", 50000),
            post("city_chat", 1, SHOP_AD.format(price=15000, bot="kristall_kz_bot")),
            post("city_chat", 2, RECRUIT_AD.format(hr="rabota_hr_kz")),
            post("city_chat", 3, NEWS[0])]


def test_a_flagged_post_keeps_the_models_reasons(store, config):
    chain = ProcessingChain(store, config, "component:test")
    assert chain.detectors.get().model is not None  # the bundled model decides, not rules alone
    chain.process(_items())
    verdicts = _verdicts(store)
    assert (verdicts["1"].category, verdicts["2"].category, verdicts["3"].category) == (
        "sale", "recruitment", "none")
    for flagged in (verdicts["1"], verdicts["2"]):
        reasons = flagged.contributions
        assert reasons, flagged.category
        assert all(set(r) == {"feature", "weight"} and isinstance(r["feature"], str)
                   and r["feature"] and r["weight"] > 0 for r in reasons)
        weights = [r["weight"] for r in reasons]
        assert weights == sorted(weights, reverse=True)  # strongest first
        assert flagged.hits and flagged.hits[0]["matches"][0]["span"]  # the rules stay too
    assert verdicts["3"].contributions == []  # nothing decided, nothing to explain

    chain.process([post("city_chat", 3, SHOP_AD.format(price=9000, bot="edited_kz_bot"))])
    edited = _verdicts(store)["3"]
    assert edited.category == "sale" and edited.contributions  # the edit's verdict replaced


def test_rescore_gives_old_verdicts_their_reasons_and_nothing_else(store, config):
    ProcessingChain(store, config, "component:test").process(_items())
    stored = {key: v.contributions for key, v in _verdicts(store).items()}
    with store.session() as session:  # as rows scored before migration 0009 are
        session.execute(update(Verdict).values(contributions=None))
        events = len(session.scalars(select(Event)).all())
        candidates = [(c.id, c.status, c.priority) for c in session.scalars(select(Candidate))]

    counts = rescore(store, config)
    assert counts["explained"] == 2 and not any(k.startswith("changed/") for k in counts)
    assert {key: v.contributions for key, v in _verdicts(store).items()} == {
        **stored, "3": None}  # the unflagged post had none to give
    with store.session() as session:
        assert [e.action for e in session.scalars(select(Event))][events:] == ["rescore.run"]
        assert [(c.id, c.status, c.priority)
                for c in session.scalars(select(Candidate))] == candidates
    assert rescore(store, config)["explained"] == 0  # once given, nothing to do
