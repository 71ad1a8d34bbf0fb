"""A whole package built with the report part's extras, on SQLite and PostgreSQL: request texts
from the templates, report.html with the screenshots rendered from the stored captures and the
request texts, report.pdf, a valid WACZ, and an RFC 3161 timestamp from a local authority that
verifies over the manifest — every file listed, hashed and signed. Without Chromium the package
is still complete and its report says why there are no screenshots."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import html as lxml_html

from evidence import names
from evidence.build import BuildError, build_package
from evidence.collect import Selection
from evidence.extras import Extras
from evidence.timestamp import verify_timestamp
from tests.evidence.build_world import make_world
from tests.evidence.test_build import check_package
from tests.evidence.tsa import LocalTsa


@pytest.fixture
def tsa(tmp_path):
    authority = LocalTsa(tmp_path / "tsa")
    (tmp_path / "tsa-chain.pem").write_bytes(authority.chain_pem)
    yield authority
    authority.close()


def build(store, world):
    return build_package(store, world.config, Selection(all_confirmed=True), "telegram",
                         world.lead, extras=Extras(world.config))


def test_a_package_with_every_extra(tmp_path, db_url, store, tsa):
    world = make_world(tmp_path, db_url, store, extra_config=(
        f'timestamp_url = "{tsa.url}"\ntimestamp_chain_file = "tsa-chain.pem"\n'
        'legal_basis = "Law on narcotic drugs, art. 12"\n'))
    result = build(store, world)
    manifest = check_package(result.path)
    with zipfile.ZipFile(result.path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    telegram = entries["requests/telegram.en.txt"].decode()
    assert "Art. 16" in telegram and "duty@example.org" in telegram
    assert "https://t.me/shop_kz" in telegram and "in good faith" in telegram
    assert "Тема:" in entries["requests/telegram.ru.txt"].decode()
    shots = sorted(name for name in entries if name.startswith("screenshots/"))
    assert shots and all(entries[name].startswith(b"\x89PNG") for name in shots)
    page = lxml_html.fromstring(entries[names.REPORT_HTML])
    assert page.xpath("//script") == []
    assert sorted(img.get("src") for img in page.xpath("//img")) == shots
    assert "Art. 16" in page.get_element_by_id("requests").text_content()
    assert page.xpath("//*[@id='screenshots-note']") == []
    assert entries[names.REPORT_PDF].startswith(b"%PDF-")
    with zipfile.ZipFile(io.BytesIO(entries[names.WACZ])) as wacz:
        assert wacz.read("archive/web.warc.gz") == entries[names.WARC]
    ok, when, reason = verify_timestamp(entries[names.MANIFEST], entries[names.TIMESTAMP],
                                        entries[names.TSA_CHAIN])
    assert ok, reason
    assert manifest["summary"]["screenshots"] == len(shots)


def test_without_chromium_the_report_says_why(tmp_path, db_url, store):
    world = make_world(tmp_path, db_url, store,
                       extra_config=f'chromium = "{tmp_path / "no-chromium"}"\n')
    result = build(store, world)
    check_package(result.path)
    with zipfile.ZipFile(result.path) as archive:
        listed = set(archive.namelist())
        page = lxml_html.fromstring(archive.read(names.REPORT_HTML))
    assert names.REPORT_PDF not in listed and names.TIMESTAMP not in listed
    assert not [name for name in listed if name.startswith("screenshots/")]
    note = page.get_element_by_id("screenshots-note").text_content()
    assert note == f"Снимки экрана не сделаны: Chromium is not installed at {tmp_path / 'no-chromium'}"


def test_an_unfilled_template_stops_the_export_in_one_line(tmp_path, db_url, store):
    world = make_world(tmp_path, db_url, store, extra_config='chromium = "/nonexistent"\n')
    with pytest.raises(BuildError) as error:
        build_package(store, world.config, Selection(all_confirmed=True), "regulator",
                      world.lead, extras=Extras(world.config))
    message = str(error.value)
    assert message.startswith("request_texts failed: request template regulator.ru.txt.j2")
    assert "set [evidence] legal_basis" in message and "\n" not in message
    assert list((world.config.resolve(world.config.evidence.out_dir)).glob("*.zip")) == []
