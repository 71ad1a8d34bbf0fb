"""The candidate page: the subject, the evidence posts with the matched words highlighted in the
original text (each with a link to its raw capture, review/routes/captures.py), score and rules,
where the learned model decided its strongest reasons ("why the model decided"), indicators
(links to their entity pages), the near-duplicate clusters of the evidence ("in N sources",
listed at `/candidates/{id}/cluster`), related candidates sharing an indicator
(review/related.py), the event history, and the actions (confirm, dismiss, escalate, note; each
with "& next"; assign for leads), all with keyboard shortcuts.

Post text is hostile: `highlight` (crawler/highlight.py, shared with the evidence report) cuts
it at the verdict's spans, strips control and bidi characters, defangs links, escapes every piece
and wraps the matched ones in `<mark>`; nothing scraped is ever a link. The model's reasons quote
posts too (n-grams): one-lined and defanged here, escaped by the template like all the rest.
"""

from __future__ import annotations

from typing import Annotated

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from crawler.defang import one_line
from crawler.highlight import highlight
from crawler.store.models import Candidate, User
from crawler.store.views import candidate_view, evidence_clusters
from review.decisions import DecisionError, decide, has_role
from review.related import (CLUSTER_PAGE, MAX_CLUSTER_ROWS, RELATED_KINDS, cluster_sources,
                            cluster_spread, related_candidates)
from review.users import display, display_names
from review.routes.queue import FILTER_FIELDS, filter_params, take_next_response
from review.web import csrf_protect, get_config, get_store, render, require_role

router = APIRouter()
Analyst = Annotated[User, Depends(require_role("analyst"))]
CandidateId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # INTEGER ids: a larger one is 422

ACTIONS = ("confirm", "dismiss", "escalate", "note", "assign")
# key → what it does; keys.js presses the element carrying data-key, the page lists them.
SHORTCUTS = (("c", "shortcut.confirm"), ("C", "shortcut.confirm_next"),
             ("d", "shortcut.dismiss"), ("D", "shortcut.dismiss_next"),
             ("e", "shortcut.escalate"), ("E", "shortcut.escalate_next"),
             ("n", "shortcut.note"), ("t", "shortcut.take_next"), ("q", "shortcut.queue"))
LEAD_SHORTCUTS = (("a", "shortcut.assign"),)
DEFAULT_POLICY = {"sale": "drug-sale", "recruitment": "courier-recruitment"}


def entity_href(kind: str, value: str) -> str:
    """The entity page's address (part E's `/entities/{kind}/{value}`), every character of the
    scraped value percent-encoded, so it is always a path on this server."""
    return f"/entities/{quote(kind, safe='')}/{quote(value, safe='')}"


def _beside(session, view, lead: bool) -> dict:
    """The page's context beyond the evidence: the clusters' spread, related candidates, who it
    is assigned to, and (for leads) whom it may be assigned to."""
    related = related_candidates(session, view.candidate, [
        entity.id for entity, _posts, _sources in view.entities if entity.kind in RELATED_KINDS])
    for item in related:  # scraped: no controls, no bidi, defanged
        item.row.subject = one_line(item.row.subject)
    assigned = view.candidate.assigned_to
    return {
        "spread": cluster_spread(session, sorted({e.post.cluster_id for e in view.evidence
                                                  if e.post.cluster_id})),
        "related": related,
        "assigned": session.get(User, assigned) if assigned else None,
        "assignees": [(u.username, one_line(display(u)), u.role) for u in session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.username))] if lead else []}


def _page(request: Request, user: User, candidate_id: int, error: str | None = None,
          status: int = 200):
    config, store = get_config(request), get_store(request)
    with store.reader() as session:
        view = candidate_view(session, candidate_id)
        if view is None:
            raise HTTPException(404, f"no candidate {candidate_id}")
        evidence = [{"post": e.post, "source": e.source, "verdict": e.verdict,
                     "html": highlight(e.post.text, e.spans()),
                     "url": one_line(e.post.url), "handle": one_line(e.source.handle),
                     "title": one_line(e.source.title)} for e in view.evidence]
        rules = {}
        for e in view.evidence:
            for hit in (e.verdict.hits if e.verdict else []):
                rules.setdefault(hit.get("rule", "?"), []).extend(
                    m.get("text", "") for m in hit.get("matches", []))
        lead = has_role(user, "lead")
        response = render(
            request, "candidate.html", view=view, candidate=view.candidate,
            **_beside(session, view, lead), subject=one_line(view.subject), evidence=evidence,
            rules={one_line(rule): sorted({one_line(w) for w in words})[:8]
                   for rule, words in rules.items()},
            model_reasons=[(one_line(feature), weight)
                           for feature, weight in view.model_reasons()],
            entities=[(entity_href(entity.kind, entity.value), entity.kind,
                       one_line(entity.value), posts, sources)
                      for entity, posts, sources in view.entities],
            history=view.history, names=display_names(session), policies=config.review.policies,
            reasons=config.review.dismiss_reasons,
            shortcuts=SHORTCUTS + (LEAD_SHORTCUTS if lead else ()),
            default_policy=DEFAULT_POLICY.get(view.candidate.category),
            filters=filter_params(request.query_params), error=error, status_code=status)
    return response


@router.get("/candidates/{candidate_id}", response_class=HTMLResponse)
def candidate_page(request: Request, candidate_id: CandidateId,
                   user: Analyst):
    return _page(request, user, candidate_id)


@router.post("/candidates/{candidate_id}/decide", dependencies=[Depends(csrf_protect)])
async def decide_candidate(request: Request, candidate_id: CandidateId,
                           user: Analyst):
    """Apply the form's action (assign: a lead's, naming a username or none to unassign); then
    stay on the candidate or take the next one."""
    form = await request.form()
    action = str(form.get("action") or "")
    if action not in ACTIONS:
        return _page(request, user, candidate_id, f"action: expected one of {', '.join(ACTIONS)}",
                     400)
    config, store = get_config(request), get_store(request)
    try:
        with store.session() as session:
            decide(session, user, candidate_id, action, policy=form.get("policy"),
                   reason=form.get("reason"), note=form.get("note") or None,
                   category=form.get("category") if action == "confirm" else None,
                   assignee=(str(form.get("assignee") or "").strip() or None)
                   if action == "assign" else None,
                   review=config.review, via="web")
    except DecisionError as exc:
        if exc.status == 404:
            raise HTTPException(404, str(exc)) from None
        return _page(request, user, candidate_id, str(exc), exc.status)
    kept = {name[2:]: str(value).strip() for name, value in form.items()  # the queue's filters
            if name.startswith("q_") and name[2:] in FILTER_FIELDS and str(value).strip()}
    if form.get("then") == "next":
        return take_next_response(request, user, kept)
    return RedirectResponse(f"/candidates/{candidate_id}", status_code=303)


@router.get("/candidates/{candidate_id}/cluster", response_class=HTMLResponse,
            include_in_schema=False)
def cluster_page(request: Request, candidate_id: CandidateId, user: Analyst,
                 page: Annotated[int, Query(ge=1, le=MAX_CLUSTER_ROWS // CLUSTER_PAGE)] = 1):
    """The sources carrying the near-duplicate clusters of the candidate's evidence, most
    posts first, a page at a time."""
    with get_store(request).reader() as session:
        candidate = session.get(Candidate, candidate_id)
        if candidate is None:
            raise HTTPException(404, f"no candidate {candidate_id}")
        clusters = evidence_clusters(session, candidate)
        spread = cluster_spread(session, clusters)
        rows = [(row, one_line(row.source.handle or row.source.external_id or str(row.source.id)),
                 one_line(row.source.title)) for row in cluster_sources(session, clusters, page)]
        last = min(-(-spread.sources // CLUSTER_PAGE), MAX_CLUSTER_ROWS // CLUSTER_PAGE)
        return render(request, "cluster.html", candidate=candidate, spread=spread, rows=rows,
                      page=page, last=max(last, 1), page_size=CLUSTER_PAGE)
