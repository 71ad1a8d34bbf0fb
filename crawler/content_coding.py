"""A stored response body without its Content-Encoding (gzip, deflate, br, zstd, in any
combination), cut at a bound so that a stored compression bomb cannot take the analyst's memory.

The decoders are the ones Scrapy itself uses (zlib, brotli, zstd), so whatever Scrapy advertised
and received can be shown. A body that does not decode is returned as stored.
"""

from __future__ import annotations

import io
import sys
import zlib
from collections.abc import Callable

try:  # as Scrapy itself: brotli on CPython, brotlicffi on PyPy
    import brotli
except ImportError:
    import brotlicffi as brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

MAX_SHOWN = 20 * 1024 * 1024


def _zlib(wbits: int) -> Callable[[bytes, int], tuple[bytes, bool]]:
    def inflate(data: bytes, limit: int) -> tuple[bytes, bool]:
        inflater = zlib.decompressobj(wbits)
        body = inflater.decompress(data, limit)
        return body, bool(inflater.unconsumed_tail)
    return inflate


def _brotli(data: bytes, limit: int) -> tuple[bytes, bool]:
    decompressor = brotli.Decompressor()
    out = io.BytesIO()
    chunk = decompressor.process(data, output_buffer_limit=min(limit, 1 << 16))
    while True:
        out.write(chunk)
        if out.tell() >= limit:
            return out.getvalue()[:limit], not decompressor.is_finished() or out.tell() > limit
        if decompressor.is_finished():
            return out.getvalue(), False
        chunk = decompressor.process(b"", output_buffer_limit=min(limit - out.tell(), 1 << 16))
        if not chunk:  # truncated stream: show what there is
            return out.getvalue(), False


def _zstd(data: bytes, limit: int) -> tuple[bytes, bool]:
    reader = zstd.ZstdFile(io.BytesIO(data))
    out = io.BytesIO()
    try:
        while out.tell() <= limit:
            chunk = reader.read(min(limit + 1 - out.tell(), 1 << 16))
            if not chunk:
                break
            out.write(chunk)
    except EOFError:  # a truncated stream: show what there is, as Scrapy does
        pass
    body = out.getvalue()
    return body[:limit], len(body) > limit


_DECODERS = {"gzip": _zlib(31), "x-gzip": _zlib(31), "deflate": _zlib(15), "br": _brotli,
             "zstd": _zstd}
_FAILURES = (zlib.error, brotli.error, zstd.ZstdError, ValueError, OSError)


def decode_body(payload: bytes, content_encoding: str | None, limit: int = MAX_SHOWN) -> bytes:
    """The body as the server meant it (codings undone last-applied first), cut at `limit`
    bytes with a note saying so; the stored bytes when a coding is unknown or broken."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    body = payload
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            return payload
        try:
            body, cut = decoder(body, limit)
        except _FAILURES:
            return payload
        if cut:
            return body + f"\n[… cut at {limit} bytes decompressed]".encode()
    return body
