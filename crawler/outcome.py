"""How a crawl went, from its Scrapy stats: the exit status and the one summary line.

Exit status of the crawl commands (README.md, "Exit status"):
    0  the crawl ran and stored what it read;
    1  the crawl failed or is partial: it stopped early, pages could not be fetched, posts were
       read but not stored, a site target found no posts, or scoring ran on the last good
       lexicons instead of the configured ones;
    2  usage or configuration error: nothing was crawled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OK, FAILED, USAGE = 0, 1, 2
STORED = ("new", "edited", "updated", "unchanged")


@dataclass
class Outcome:
    code: int
    summary: str
    causes: list[str] = field(default_factory=list)


def judge(stats: dict, what: str, expect_posts: bool = False) -> Outcome:
    """The outcome of a crawl of `what` ("telegram", "site NAME"). `expect_posts`: pages read
    without a single post mean the target's selectors no longer match (a site target)."""
    seen = int(stats.get("kyran/posts_seen", 0))
    stored = sum(int(stats.get(f"kyran/posts/{change}", 0)) for change in STORED)
    pages = int(stats.get("kyran/pages", 0))
    causes = []
    reason = stats.get("finish_reason", "finished")
    for key in ("kyran/chain_failure", "kyran/captures/failure"):
        if stats.get(key):
            causes.append(str(stats[key]))
    if not causes and reason != "finished":
        causes.append(f"the crawl stopped early ({reason})")
    failed_pages = sum(int(value) for key, value in stats.items()
                       if key.startswith("kyran/") and key.endswith("/failed_pages"))
    if failed_pages:
        causes.append(f"{failed_pages} pages could not be fetched")
    not_stored = sum(int(value) for key, value in stats.items() if key.startswith("kyran/errors/"))
    if not_stored:
        causes.append(f"{not_stored} posts or steps failed to store (see the log)")
    if expect_posts and pages and not seen and not failed_pages:
        causes.append(f"no posts found on {pages} pages: check the target's selectors "
                      "(item, text, post_url_pattern)")
    if stats.get("kyran/lexicons/problem"):
        causes.append(f"scored with the last good lexicons: {stats['kyran/lexicons/problem']}")
    counts = f"{stored} posts stored of {seen} seen, {pages} pages"
    # Neither fails the job: the cursor stays, so the next run reads those pages again.
    if incomplete := int(stats.get("kyran/telegram/incomplete_channels", 0)):
        counts += f", {incomplete} channels read incompletely (read again next run)"
    if quarantined := int(stats.get("kyran/telegram/quarantined_pages", 0)):
        counts += f", {quarantined} pages quarantined (see kyran quarantine)"
    if stats.get("log_count/ERROR"):
        counts += f", {stats['log_count/ERROR']} errors logged"
    if causes:
        return Outcome(FAILED, f"crawl {what} failed: {'; '.join(causes)} ({counts})", causes)
    return Outcome(OK, f"crawl {what} ok: {counts}")
