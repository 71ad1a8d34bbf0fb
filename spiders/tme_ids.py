"""Post ids on a Telegram preview page: read strictly, and judged before they may move the crawl
cursor.

A channel's post ids count up one by one (deleted posts leave gaps), and a t.me/s page shows
them oldest first; a page asked with ``?before=B`` shows only ids below ``B``. An id out of line
with that — below the page's order, not below ``B``, or far from every other id on the page
(``9000000000`` among ids near 100) — is *suspect*: the post may be stored, but its id must not
become the crawl cursor (later runs would stop short and lose posts for good) nor the point to
page back from (posts would be skipped).

Erring on the side of caution only costs pages: a cursor set too low, or a page asked again,
is read again; a cursor set too high loses posts.
"""

from __future__ import annotations

import re
from bisect import bisect_left

MAX_ID = 2**63 - 1  # what the store's BIGINT holds
GAP = 1000  # ids of one page this far apart (and ten typical gaps) are not one run of posts
_DIGITS = re.compile(r"[0-9]{1,19}")


def post_id(text: str | None) -> int | None:
    """A post id from a page (``data-post="name/ID"``, ``data-before``): ASCII digits only,
    1 to 2**63-1; None for anything else."""
    if not text or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def _ascending(ids: list[int]) -> list[int]:
    """The longest strictly ascending run of ``ids`` in page order (not necessarily adjacent);
    among equally long ones, the one with the smallest ids (O(n log n): pages may be huge)."""
    if all(a < b for a, b in zip(ids, ids[1:], strict=False)):
        return list(ids)  # the usual page
    tail_ids: list[int] = []  # tail_ids[k]: smallest last id of an ascending run of k+1
    tail_at: list[int] = []  # where that id is in ``ids``
    prev: list[int] = [-1] * len(ids)
    for i, value in enumerate(ids):
        k = bisect_left(tail_ids, value)
        prev[i] = tail_at[k - 1] if k else -1
        if k == len(tail_ids):
            tail_ids.append(value)
            tail_at.append(i)
        else:
            tail_ids[k], tail_at[k] = value, i
    run, i = [], tail_at[-1] if tail_at else -1
    while i >= 0:
        run.append(ids[i])
        i = prev[i]
    return run[::-1]


def gap_limit(ascending: list[int]) -> int:
    """How far apart two neighbouring ids of one page may be: ``GAP``, or ten times the page's
    typical (median) gap when that is larger."""
    gaps = sorted(b - a for a, b in zip(ascending, ascending[1:], strict=False))
    typical = gaps[len(gaps) // 2] if len(gaps) >= 3 else 0
    return max(GAP, 10 * typical)


def in_line(ids: list[int], below: int | None = None) -> list[int]:
    """The ids (given in page order) that may move the crawl cursor, ascending: those below
    ``below`` (the ``?before=`` asked), in the longest ascending run of the page, and in its
    largest cluster of ids no more than ``gap_limit`` apart (on a tie, the lowest cluster)."""
    if below is not None:
        ids = [i for i in ids if i < below]
    run = _ascending(ids)
    if len(run) < 2:
        return run
    limit = gap_limit(run)
    best: list[int] = []
    start = 0
    for end in range(1, len(run) + 1):
        if end == len(run) or run[end] - run[end - 1] > limit:
            if end - start > len(best):
                best = run[start:end]
            start = end
    return best


def cursor_is_absurd(cursor: int, newest_page: list[int]) -> bool:
    """Whether a stored crawl cursor is far above every id in line on the channel's newest page
    (``newest_page`` ascending, from ``in_line``): no channel deletes that many posts at once,
    so the cursor came from a bogus id and would stop every visit on its first page."""
    if not newest_page:
        return False
    return cursor - newest_page[-1] > gap_limit(newest_page)
