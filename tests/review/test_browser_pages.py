"""The queue and candidate pages without a browser: bad filters, ids and actions answer one line
with a proper status (never a 500), take next with an empty queue says so, a decision without
its CSRF token is refused, hostile filter values are bound and echoed escaped."""

from __future__ import annotations

from tests.review.browser import add_flagged_source


def test_bad_input_is_one_line_never_a_500(store, client_for):
    with store.session() as session:
        cid = add_flagged_source(session, handle="x_shop", title="X", texts=["мефедрон"])
    analyst = client_for("analyst")
    for path, status in (("/queue?score_min=abc", 400), ("/queue?status=nope", 400),
                         ("/queue?sort=evil", 400), ("/queue?page=0", 400),
                         ("/queue?page=99999999999", 400), ("/candidates/999999", 404),
                         ("/candidates/99999999999999", 422), ("/candidates/abc", 422),
                         (f"/candidates/{cid}", 200), ("/queue", 200), ("/", 200)):
        response = analyst.get(path, headers={"Accept": "text/html"})
        assert response.status_code == status, (path, response.status_code)
        assert "Traceback" not in response.text
    bad = analyst.post(f"/candidates/{cid}/decide", data={"action": "explode",
                                                           "csrf_token": analyst.csrf})
    assert bad.status_code == 400 and "action: expected one of" in bad.text
    no_reason = analyst.post(f"/candidates/{cid}/decide", data={
        "action": "dismiss", "csrf_token": analyst.csrf})
    assert no_reason.status_code == 400
    refused = analyst.post(f"/candidates/{cid}/decide", data={"action": "escalate"})
    assert refused.status_code == 403


def test_hostile_filters_are_bound_and_escaped(store, client_for):
    with store.session() as session:
        add_flagged_source(session, handle="y_shop", title="Y", texts=["мефедрон"])
    analyst = client_for("analyst")
    for value in ("' OR 1=1 --", "<script>alert(1)</script>", "%", "_", "\\"):
        for name in ("region", "source", "rule", "text", "assigned_to"):
            response = analyst.get("/queue", params={name: value, "status": "all"})
            assert response.status_code == 200, (name, value)
            assert "<script>alert(1)</script>" not in response.text


def test_take_next_on_an_empty_queue_says_so(store, client_for):
    analyst = client_for("analyst")
    response = analyst.post("/queue/next", data={"csrf_token": analyst.csrf},
                            follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/queue?")
    page = analyst.get(response.headers["location"])
    assert 'id="queue-empty"' in page.text


def test_highlight_escapes_marks_and_defangs():
    from review.routes.candidates import highlight

    text = "<b>мефедрон</b> \u202eзакладки\u202c https://shop.kz/x"
    html = str(highlight(text, [(3, 11, "r1"), (7, 11, "bot"), (17, 25, "r2"), (50, 99, "bad"),
                                (5, 5, "empty")]))
    assert html.startswith("&lt;b&gt;")
    assert '<mark title="r1">мефе</mark><mark title="bot, r1">дрон</mark>' in html
    assert '<mark title="r2">закладки</mark>' in html  # the bidi override is gone
    assert "\u202e" not in html and "\u202c" not in html
    assert "hxxps://shop[.]kz/x" in html and "<a" not in html
    cut = str(highlight("x" * 30_000, []))
    assert len(cut) < 21_000 and cut.endswith('<span class="cut">[…]</span>')
