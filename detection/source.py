"""Source level: how a channel's own texts and its posts' verdicts add up to the channel's verdict.

A shop channel says what it is in its title and description (a bot, districts, "24/7", an
emoji code) while most of its posts are chatter, giveaways and reviews; so the profile — the
channel's description of itself — counts with a gain (:data:`PROFILE_GAIN`). Posts count by the
share flagged in each category, saturating, times their mean score, as before.

A channel that reports on others (volunteers, news desks, prevention: its profile is a report
frame, or many of its flagged posts are) quotes shop ads all the time; its flagged posts then
count for :data:`REPORTER_POSTS` of their weight. So do the posts of a channel whose profile
describes a legitimate business (:func:`legitimate`: a courier service "official employment,
contract, insurance", a bath-salt and salt-lamp shop): its vacancies and promotions read like a
recruiter's or a shop's one by one, the profile says what they are.

A channel's main category follows its main purpose (:func:`main_purpose`): one that both sells
and recruits is a shop that recruits, unless its profile and most of its flagged posts are
about recruiting: then it is a recruiter whose posts mention the shop's work.
"""

from __future__ import annotations

from typing import Sequence

from detection.rules import REPORT_HIT
from detection.verdict import RuleHit, Verdict

__all__ = ["LEGIT_HIT", "LEGIT_TERMS", "PROFILE_GAIN", "REPORTER_POSTS", "REPORTER_SHARE",
           "SHOP_FLOOR", "legitimate", "main_purpose", "post_evidence", "reporting",
           "shop_that_recruits"]

PROFILE_GAIN = 2.0
REPORTER_POSTS = 0.2
REPORTER_SHARE = 0.3  # share of flagged posts in a report frame that makes a reporting channel
SHOP_FLOOR = 0.4  # sale score enough, with a shop profile, for a shop that recruits
LEGIT_CONCEPTS = frozenset({"legit_job", "legit_goods", "legit_other"})
DRUG_ONLY = frozenset({"drop", "drug_role"})  # words no legitimate business uses of itself
LEGIT_TERMS = 2  # distinct legitimate-business terms that make a description (one may be chance)
LEGIT_HIT = "source.legitimate_business"  # says why a channel's posts counted for little


def legitimate(profile_matches, category: str = "sale") -> RuleHit | None:
    """A hit (:data:`LEGIT_HIT`, no contribution of its own, the words that made it) when a
    channel's title and description describe a legitimate business: at least
    :data:`LEGIT_TERMS` distinct legitimate-business terms of its own (official employment,
    named delivery services, goods like bath salts and salt lamps) and no stash or drug-role
    words (a cover story, "bath salts, contactless pick-up only", has those); None otherwise."""
    own = [m for m in profile_matches if not m.reported]
    if any(m.concept in DRUG_ONLY for m in own):
        return None
    words = {m.term: m for m in own if m.concept in LEGIT_CONCEPTS}
    if len(words) < LEGIT_TERMS:
        return None
    return RuleHit(LEGIT_HIT, category, ("profile",), 0.0, tuple(words.values()))


def main_purpose(profile: dict[str, float], post_verdicts: Sequence[Verdict]) -> str:
    """``recruitment`` when the profile says recruiter more than shop and the posts flagged as
    recruitment outnumber those flagged as sale; ``sale`` otherwise (a shop that recruits)."""
    flagged = [v.category for v in post_verdicts]
    if (profile["recruitment"] > profile["sale"]
            and flagged.count("recruitment") > flagged.count("sale")):
        return "recruitment"
    return "sale"


def reporting(profile_frame: bool, post_verdicts: Sequence[Verdict]) -> bool:
    """Whether the channel reports on others: its profile is a report frame, or at least
    :data:`REPORTER_SHARE` of its posts with evidence are (known from their hits, when the
    verdicts carry them)."""
    if profile_frame:
        return True
    with_hits = [v for v in post_verdicts if v.hits]
    if not with_hits:
        return False
    framed = sum(any(h.rule == REPORT_HIT for h in v.hits) for v in with_hits)
    return framed >= REPORTER_SHARE * len(with_hits)


def post_evidence(post_verdicts: Sequence[Verdict], category: str, min_posts: int,
                  saturation: float, reporter: bool) -> tuple[float, RuleHit | None]:
    """The posts' evidence for ``category`` in [0, 1] and the hit that explains it (None: no
    post flagged). Posts weigh by the share flagged (of at least ``min_posts``), saturating at
    ``saturation``, times their mean score."""
    flagged = [v.score for v in post_verdicts if v.category == category]
    if not flagged:
        return 0.0, None
    share = len(flagged) / max(len(post_verdicts), min_posts)
    value = (sum(flagged) / len(flagged)) * min(1.0, share / saturation)
    if reporter:
        value *= REPORTER_POSTS
    return value, RuleHit(f"source.posts_{category}", category, ("posts",), value, ())


def shop_that_recruits(profile: dict[str, float], scores: dict[str, float],
                       thresholds: dict[str, float]) -> RuleHit | None:
    """A channel that both sells and recruits is a shop that recruits: when its recruitment
    passes its threshold and its sale score passes too, or reaches :data:`SHOP_FLOOR` with a
    profile that says shop more than recruiter, the sale score is raised to the recruitment score
    (the main category is then sale, both are recorded) and the hit returned; None otherwise.
    ``scores`` is updated in place."""
    sale, recruitment = scores["sale"], scores["recruitment"]
    if recruitment < thresholds["recruitment"] or recruitment <= sale:
        return None
    if sale < thresholds["sale"] and not (
            sale >= SHOP_FLOOR and profile["sale"] > profile["recruitment"]):
        return None
    scores["sale"] = recruitment
    return RuleHit("source.shop_recruits", "sale", ("profile", "posts"), recruitment - sale, ())
