"""The package's web captures also as a WACZ (Web Archive Collection Zipped), so they open in
standard replay tools such as ReplayWeb.page: made with the `wacz` package (py-wacz) from the
package's captures/web.warc.gz, with a CDXJ index, a page list (`pages/pages.jsonl`: every
captured HTML response, so a replay tool lists the evidence pages) and `datapackage.json` +
`datapackage-digest.json` (SHA-256 of every file).

Signing: py-wacz signs `datapackage-digest.json` (WACZ Signing and Verification 0.1.0) only by
asking a remote signing server (authsign, `--signing-url`); it has no local signer. Kyran does not
run one, so the WACZ is not signed on its own: it is covered, byte for byte, by the package's
Ed25519-signed manifest (and its RFC 3161 timestamp when configured).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.defang import one_line


ARCHIVE_NAME = "web.warc.gz"  # the WARC's name inside the WACZ (archive/web.warc.gz)


class WaczError(Exception):
    """The WACZ could not be made (one line)."""


def _link(source: Path, target: Path) -> None:
    """`target` holding the same bytes as `source`: a hard link, or a copy across devices."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_pages(warc_path: Path, out) -> tuple[int, int]:
    """pages.jsonl (py-wacz's `--pages` input) listing each HTML response; (records, pages)."""
    out.write(json.dumps({"format": "json-pages-1.0", "id": "pages",
                          "title": "Evidence pages"}) + "\n")
    count = records = 0
    with open(warc_path, "rb") as stream:
        for record in ArchiveIterator(stream):
            records += 1
            if record.format != "warc":
                raise WaczError(f"WACZ of {warc_path.name} failed: record {records} is not "
                                "a WARC record")
            http = record.http_headers
            if record.rec_type != "response" or http is None:
                continue
            ctype = (http.get_header("Content-Type") or "").split(";")[0].strip().lower()
            if ctype in ("text/html", "application/xhtml+xml") and \
                    http.get_statuscode().startswith("2"):
                url = record.rec_headers.get_header("WARC-Target-URI")
                out.write(json.dumps({"url": url, "title": url,
                                      "ts": record.rec_headers.get_header("WARC-Date")}) + "\n")
                count += 1
    return records, count


def make_wacz(warc_path: Path, out_path: Path | None = None) -> Path:
    """Write the WACZ of `warc_path` (beside it as `web.wacz` unless `out_path`); its path."""
    from wacz.main import main as wacz_main

    warc_path = Path(warc_path)
    out_path = Path(out_path) if out_path else warc_path.with_name("web.wacz")
    if not warc_path.is_file():
        raise WaczError(f"no WARC at {warc_path}")
    chatter = io.StringIO()  # py-wacz reports progress on stdout
    try:
        with tempfile.TemporaryDirectory(prefix=".wacz-", dir=out_path.parent) as tmp:
            pages, archive = Path(tmp) / "pages.jsonl", Path(tmp) / ARCHIVE_NAME
            with open(pages, "w", encoding="utf-8") as out, \
                    contextlib.redirect_stderr(chatter):  # warcio warns about torn records
                records, found = write_pages(warc_path, out)
            if not records:
                raise WaczError(f"WACZ of {warc_path.name} failed: it holds no WARC record")
            _link(warc_path, archive)  # py-wacz names the archive after its input file
            with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
                status = wacz_main(["create", "--hash-type", "sha256", "-o", str(out_path),
                                    *(["--pages", str(pages)] if found else []),
                                    str(archive)])
    except WaczError:
        out_path.unlink(missing_ok=True)
        raise
    except Exception as exc:  # noqa: BLE001 - a library failure becomes one line
        out_path.unlink(missing_ok=True)
        reason = one_line(str(exc)) or type(exc).__name__
        raise WaczError(f"WACZ of {warc_path.name} failed: {reason}") from None
    if status != 0 or not zipfile.is_zipfile(out_path):
        out_path.unlink(missing_ok=True)
        last = (chatter.getvalue().strip().splitlines() or ["no output"])[-1]
        raise WaczError(f"WACZ of {warc_path.name} failed: {one_line(last)}")
    return out_path
