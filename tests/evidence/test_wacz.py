"""The WACZ of a package's web captures: valid by py-wacz's own validator, the WARC carried byte
for byte, every record indexed, the HTML pages listed for replay tools, the digest matching
datapackage.json; a file that is not a WARC is one clear line and leaves nothing behind."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from evidence.wacz import WaczError, make_wacz

PAGES = ["https://t.me/s/shop_alm/12", "https://shop.example/item?id=1&x=<script>"]


def write_warc(path):
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url in PAGES:
            body = f"<html><title>{url}</title><body>Мефедрон закладки</body></html>".encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http))
        image = b"\x89PNG\r\n\x1a\n"
        http = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://shop.example/logo.png", "response", payload=io.BytesIO(image),
            length=len(image), http_headers=http))
    return path


def test_the_wacz_is_valid_and_carries_the_captures(tmp_path, capsys):
    from wacz.main import main as wacz_main

    warc = write_warc(tmp_path / "web.warc.gz")
    wacz = make_wacz(warc)
    assert wacz == tmp_path / "web.wacz"
    assert capsys.readouterr().out == ""  # the library's chatter is kept off stdout
    assert wacz_main(["validate", "-f", str(wacz)]) == 0
    with zipfile.ZipFile(wacz) as archive:
        assert archive.read("archive/web.warc.gz") == warc.read_bytes()
        index = gzip.decompress(archive.read("indexes/index.cdx.gz")).decode()
        for url in [*PAGES, "https://shop.example/logo.png"]:
            assert json.dumps(url)[1:-1].replace("<", "\\u003c") in index or url in index
        pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        assert sorted(page["url"] for page in pages[1:]) == sorted(PAGES)  # not the image
        package = archive.read("datapackage.json")
        digest = json.loads(archive.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(package).hexdigest()
        assert "signedData" not in digest  # py-wacz signs only through a remote server


def test_the_output_path_can_be_chosen(tmp_path):
    warc = write_warc(tmp_path / "web.warc.gz")
    out = make_wacz(warc, tmp_path / "elsewhere.wacz")
    assert out == tmp_path / "elsewhere.wacz" and zipfile.is_zipfile(out)


def test_a_file_that_is_not_a_warc_is_one_line_and_leaves_nothing(tmp_path):
    bad = tmp_path / "web.warc.gz"
    bad.write_bytes(b"this is not a WARC\n" * 10)
    with pytest.raises(WaczError) as error:
        make_wacz(bad)
    assert str(error.value).startswith("WACZ of web.warc.gz failed: ")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "web.wacz").exists()
    with pytest.raises(WaczError, match="no WARC at"):
        make_wacz(tmp_path / "missing.warc.gz")
