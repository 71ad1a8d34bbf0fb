"""Re-scoring after a lexicon change: verdicts and candidates follow; analysts' decisions stay."""

import shutil

from sqlalchemy import select

from crawler.store.models import Candidate, Event, Verdict
from pipelines.chain import ProcessingChain
from pipelines.rescore import rescore
from pipelines.scoring import BUNDLED_LEXICONS
from tests.pipelines.test_chain import channel, post, shop_channel_items

NEW_SLANG = "Лунтик в наличии, 1г — 15 000 тг, бот @luntik_kz_bot"  # no stash word: the slang decides


def test_a_new_slang_word_opens_candidates_and_decisions_are_kept(store, config, tmp_path):
    lexicons = tmp_path / "lexicons"
    shutil.copytree(BUNDLED_LEXICONS, lexicons)
    config = config.model_copy(update={"detection": config.detection.model_copy(
        update={"lexicon_dir": lexicons})})
    chain = ProcessingChain(store, config, "component:test")
    chain.process(shop_channel_items() + [channel("new_shop", 77, "Shop", "", 900),
                                          post("new_shop", 1, NEW_SLANG)])
    with store.session() as session:
        (confirmed,) = session.scalars(select(Candidate)).all()
        confirmed.status, confirmed.decision = "confirmed", "sale"
        before = session.scalars(select(Verdict).where(Verdict.subject_type == "post")).all()
        assert {v.category for v in before} == {"sale", "none"}

    unchanged = rescore(store, config)
    assert unchanged["posts"] == 5 and not any(k.startswith("changed/") for k in unchanged)

    with open(lexicons / "substance.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[[entry]]\nterms = ["лунтик*"]\nlang = "ru"\nweight = 1.0\n'
                     'note = "new street name for mephedrone, reported by analysts"\n')
    counts = rescore(store, config)
    assert counts["changed/none->sale"] == 1
    with store.session() as session:
        rows = {(c.subject_type, c.status) for c in session.scalars(select(Candidate))}
        assert ("source", "confirmed") in rows  # the analyst's decision is kept
        assert len(rows) == 2 and any(status == "open" for _, status in rows)
        run = session.scalars(select(Event).where(Event.action == "rescore.run")).all()
        assert run[-1].payload["changed/none->sale"] == 1
