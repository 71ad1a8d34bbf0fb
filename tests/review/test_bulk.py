"""The bulk workspace without a browser, on SQLite and PostgreSQL: leads only (analysts get 403
and no link), preview by filter or by hand, a confirmation step naming action, count and reason,
one event per candidate on apply, exactly the previewed candidates (later matches are not swept
in; a changed or foreign selection is refused), skipped candidates listed with why, a capped
batch, one clear line for bad input."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from crawler.store.models import Candidate, Event
from review.decisions import decide
from tests.review.browser import add_flagged_source


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} on the page"
    return html.unescape(found.group(1))


def shops(store, count: int, category: str = "sale", prefix: str = "shop") -> list[int]:
    with store.session() as session:
        return [add_flagged_source(session, handle=f"{prefix}{i}", title=f"Магазин {i}",
                                   texts=["мефедрон закладки"], category=category)
                for i in range(count)]


def decisions(store, action: str) -> list[Event]:
    with store.session() as session:
        found = list(session.scalars(select(Event).where(Event.action == action)
                                     .order_by(Event.subject_id)))
        session.expunge_all()
        return found


def test_analysts_are_refused_and_see_no_link(store, client_for):
    shops(store, 1)
    analyst, lead = client_for("analyst"), client_for("lead")
    assert analyst.get("/bulk").status_code == 403
    assert analyst.post("/bulk", data={"ids_text": "1", "csrf_token": analyst.csrf}
                        ).status_code == 403
    assert analyst.post("/bulk/apply", data={"csrf_token": analyst.csrf}).status_code == 403
    queue = analyst.get("/queue").text
    assert 'href="/bulk"' not in queue and 'id="bulk-pick"' not in queue
    queue = lead.get("/queue").text
    assert 'href="/bulk"' in queue and 'form="bulk-pick"' in queue
    assert lead.get("/bulk").status_code == 200
    assert client_for("admin").get("/bulk").status_code == 200


def test_dismiss_by_filter_exactly_what_was_previewed(store, client_for, users):
    sale = shops(store, 3)
    recruitment = shops(store, 2, "recruitment", "job")
    lead = client_for("lead")
    preview = lead.get("/bulk", params={"by": "filter", "category": "sale"})
    assert preview.status_code == 200
    assert 'data-count="3"' in preview.text
    assert sorted(map(int, hidden(preview.text, "ids").split(","))) == sale
    late = shops(store, 1, prefix="late")[0]  # matches the filter after the preview
    form = {"ids": hidden(preview.text, "ids"), "seal": hidden(preview.text, "seal"),
            "by": "filter", "action": "dismiss", "reason": "duplicate", "policy": "drug-sale",
            "csrf_token": lead.csrf}
    confirm = lead.post("/bulk/confirm", data=form)
    assert confirm.status_code == 200
    assert 'data-action="dismiss" data-count="3"' in confirm.text and "duplicate" in confirm.text
    assert not decisions(store, "decision.dismiss")  # nothing happens before apply
    done = lead.post("/bulk/apply", data={**form, "seal": hidden(confirm.text, "seal")})
    assert done.status_code == 200
    assert 'id="bulk-applied" data-count="3"' in done.text
    assert 'id="bulk-skipped" data-count="0"' in done.text
    events = decisions(store, "decision.dismiss")
    assert [e.subject_id for e in events] == sale  # one each, the late one not swept in
    assert {e.payload["reason"] for e in events} == {"duplicate"}
    assert len({e.payload["bulk"] for e in events}) == 1
    assert {e.actor for e in events} == {f"user:{users['lead'].username}"}
    with store.session() as session:
        assert session.get(Candidate, late).status == "open"
        assert {session.get(Candidate, i).status for i in recruitment} == {"open"}
    again = lead.post("/bulk/apply", data=form)  # applied twice: all skipped, said why
    assert 'id="bulk-skipped" data-count="3"' in again.text
    assert "already dismissed" in again.text
    assert len(decisions(store, "decision.dismiss")) == 3


def test_by_hand_skips_what_changed_and_says_why(store, client_for, users):
    ids = shops(store, 3)
    lead = client_for("lead")
    preview = lead.post("/bulk", data={"ids": [str(i) for i in ids[:2]],
                                       "ids_text": f"#{ids[2]}, 999999",
                                       "csrf_token": lead.csrf})
    assert preview.status_code == 200 and 'data-count="3"' in preview.text
    assert 'id="left-out"' in preview.text  # 999999 names nobody
    with store.session() as session:  # someone decides one between preview and apply
        from crawler.store.models import User

        decide(session, session.get(User, users["analyst"].id), ids[0], "dismiss",
               reason="news-or-prevention")
    form = {"ids": hidden(preview.text, "ids"), "seal": hidden(preview.text, "seal"),
            "action": "confirm", "policy": "drug-sale", "csrf_token": lead.csrf}
    assert "drug-sale" in lead.post("/bulk/confirm", data=form).text
    done = lead.post("/bulk/apply", data=form)
    assert 'id="bulk-applied" data-count="2"' in done.text
    assert 'id="bulk-skipped" data-count="1"' in done.text
    assert f'data-candidate="{ids[0]}"' in done.text and "already dismissed" in done.text
    events = decisions(store, "decision.confirm")
    assert [e.subject_id for e in events] == ids[1:]
    assert {e.payload["policy"] for e in events} == {"drug-sale"}


def test_a_changed_or_foreign_selection_is_refused(store, client_for):
    ids = shops(store, 3)
    lead, admin = client_for("lead"), client_for("admin")
    preview = lead.post("/bulk", data={"ids_text": f"{ids[0]} {ids[1]}",
                                       "csrf_token": lead.csrf})
    seal = hidden(preview.text, "seal")
    base = {"action": "escalate", "seal": seal, "csrf_token": lead.csrf}
    widened = lead.post("/bulk/apply", data={**base, "ids": ",".join(map(str, ids))})
    assert widened.status_code == 400 and "does not match its preview" in widened.text
    forged = lead.post("/bulk/apply", data={**base, "ids": f"{ids[0]},{ids[1]}",
                                            "seal": seal[:-2] + "xx"})
    assert forged.status_code == 400
    foreign = admin.post("/bulk/apply", data={**base, "ids": f"{ids[0]},{ids[1]}",
                                              "csrf_token": admin.csrf})
    assert foreign.status_code == 400  # sealed for the lead, not the admin
    no_csrf = lead.post("/bulk/apply", data={**base, "ids": f"{ids[0]},{ids[1]}",
                                             "csrf_token": ""})
    assert no_csrf.status_code == 403
    assert not decisions(store, "decision.escalate")


def test_bad_input_is_one_line_and_batches_are_capped(store, client_for, monkeypatch):
    ids = shops(store, 4)
    lead = client_for("lead")
    for data, words in (({"ids_text": "12 abc"}, "'abc' is not a candidate id"),
                        ({"ids_text": " "}, "no candidates selected"),
                        ({"ids_text": "999999"}, "none of these ids"),
                        ({"ids_text": "99999999999999"}, "is not a candidate id")):
        response = lead.post("/bulk", data={**data, "csrf_token": lead.csrf})
        assert response.status_code == 400 and words in html.unescape(response.text), data
        assert "Traceback" not in response.text
    for params in ({"by": "filter", "score_min": "abc"}, {"by": "filter", "sort": "evil"},
                   {"by": "filter", "status": "nope"}):
        assert lead.get("/bulk", params=params).status_code == 400, params
    preview = lead.post("/bulk", data={"ids_text": str(ids[0]), "csrf_token": lead.csrf})
    form = {"ids": hidden(preview.text, "ids"), "seal": hidden(preview.text, "seal"),
            "csrf_token": lead.csrf}
    for wanted, words in (({"action": "dismiss"}, "dismiss needs a reason"),
                          ({"action": "dismiss", "reason": "nope"}, "unknown reason"),
                          ({"action": "confirm"}, "confirm needs a policy"),
                          ({"action": "reopen"}, "action: expected one of")):
        response = lead.post("/bulk/confirm", data={**form, **wanted})
        assert response.status_code == 400 and words in response.text, wanted
        assert 'id="preview"' in response.text  # the preview again, to fix the choice
    monkeypatch.setattr("review.bulk.MAX_BULK", 3)
    capped = lead.get("/bulk", params={"by": "filter"})
    assert capped.status_code == 400 and "more than 3 candidates match" in capped.text
    pasted = lead.post("/bulk", data={"ids_text": " ".join(map(str, ids)),
                                      "csrf_token": lead.csrf})
    assert pasted.status_code == 400 and "at most 3 candidates at once" in pasted.text


def test_seals_bind_user_and_ids_and_expire(monkeypatch):
    import pytest

    from review.bulk import BulkError, check_seal, parse_ids, seal

    key = b"k" * 32
    token = seal(key, 7, [3, 1, 2])
    check_seal(key, token, 7, [1, 2, 3])  # the order does not matter
    for user_id, ids, other_key in ((8, [1, 2, 3], key), (7, [1, 2], key),
                                    (7, [1, 2, 3], b"x" * 32)):
        with pytest.raises(BulkError, match="does not match its preview"):
            check_seal(other_key, token, user_id, ids)
    monkeypatch.setattr("review.bulk.SEAL_SECONDS", -1)
    with pytest.raises(BulkError, match="over an hour old"):
        check_seal(key, token, 7, [1, 2, 3])
    assert parse_ids(["3", "#1, 2\n3;2"]) == [1, 2, 3]
    for bad in ("-1", "0", "1.5", "١٢"):  # Arabic-Indic digits are digits, not ids
        with pytest.raises(BulkError, match="is not a candidate id"):
            parse_ids([bad])


def test_apply_skips_what_cannot_take_it(store, users):
    from crawler.store.models import User
    from review.bulk import BulkRequest, apply_bulk
    from crawler.config_review import ReviewConfig

    ids = shops(store, 3)
    with store.session() as session:
        lead = session.get(User, users["lead"].id)
        decide(session, lead, ids[0], "escalate")
        result = apply_bulk(session, lead, ids + [999999], BulkRequest("escalate"),
                            review=ReviewConfig())
        assert result.applied == ids[1:]
        assert [i for i, _ in result.skipped] == [ids[0], 999999]
        assert "already escalated" in result.skipped[0][1]
        assert "no candidate 999999" in result.skipped[1][1]
        nothing = apply_bulk(session, lead, ids, BulkRequest("escalate"), review=ReviewConfig())
        assert nothing.applied == [] and nothing.batch is None and len(nothing.skipped) == 3
