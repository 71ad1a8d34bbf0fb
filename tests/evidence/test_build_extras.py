"""The builder's hooks: what an `extras` object returns goes into the package (listed and hashed,
the timestamp beside the manifest), the context it is given streams the batch, names it returns
are checked, and a candidate changed while the package was built leaves nothing behind."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from crawler.store.models import Candidate, Event
from crawler.store.models_ops import EvidencePackage
from evidence import names
from evidence.build import BuildError, build_package
from evidence.collect import Selection
from tests.evidence.build_world import make_world
from tests.evidence.test_build import check_package

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class Hooks:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.seen: dict = {}

    def request_texts(self, context):
        self.seen["subjects"] = [(s["ref"], len(s["items"])) for s in context.subjects()]
        self.seen["counts"] = (context.subject_count, context.item_count,
                               context.missing_count)
        return {f"requests/{context.recipient}.{lang}.txt": f"request {lang}"
                for lang in context.languages}

    def screenshots(self, items):
        items = list(items)
        self.seen["shots"] = [(i.ref, i.url) for i in items]
        first = items[0]
        with open(first.warc_path, "rb") as handle:
            handle.seek(first.offset)
            record = next(iter(ArchiveIterator(io.BytesIO(handle.read(first.length)))))
        self.seen["shot_url"] = record.rec_headers.get_header("WARC-Target-URI")
        return {f"screenshots/{i.ref}.png": PNG for i in items[:2]}

    def report_html(self, context):
        self.seen["report"] = (dict(context.screenshots), sorted(context.requests))
        first = next(context.subjects())
        return f"<html><body>{len(first['items'])} items, {first['items'][0]['text'][:4]}"

    def report_pdf(self, html):
        return b"%PDF-1.4 " + html.encode()[:10]

    def wacz(self, warc_path):
        out = self.tmp_path / "web.wacz"
        out.write_bytes(b"PK-wacz-" + warc_path.read_bytes()[:10])
        return out

    def timestamp(self, manifest_bytes):
        self.seen["stamped"] = manifest_bytes
        return b"tsr-der", b"-----BEGIN CERTIFICATE-----\n"


@pytest.fixture
def world(tmp_path, db_url, store):
    return make_world(tmp_path, db_url, store)


def test_what_the_hooks_return_is_packaged_and_listed(store, world, tmp_path):
    hooks = Hooks(tmp_path)
    result = build_package(store, world.config, Selection(all_confirmed=True), "regulator",
                           world.lead, extras=hooks)
    manifest = check_package(result.path)
    with zipfile.ZipFile(result.path) as archive:
        entries = set(archive.namelist())
        manifest_bytes = archive.read(names.MANIFEST)
        assert archive.read(names.TIMESTAMP) == b"tsr-der"
        assert archive.read("screenshots/P1.png") == PNG
        assert archive.read(names.REPORT_PDF).startswith(b"%PDF")
        assert archive.read("requests/regulator.kk.txt") == b"request kk"
    listed = {f["path"] for f in manifest["files"]}
    assert {"screenshots/P1.png", "screenshots/P2.png", names.REPORT_PDF, names.WACZ,
            "requests/regulator.ru.txt"} <= listed
    assert names.TIMESTAMP in entries and names.TSA_CHAIN in entries
    assert names.TIMESTAMP not in listed and names.TSA_CHAIN not in listed
    assert hooks.seen["stamped"] == manifest_bytes
    assert hooks.seen["subjects"] == [("S1", 5), ("S2", 5)]
    assert hooks.seen["counts"] == (2, 10, 2)
    assert [ref for ref, _ in hooks.seen["shots"]] == ["P1", "P2", "P3", "P6", "P7", "P8"]
    assert hooks.seen["shot_url"].startswith("https://t.me/s/shop_kz")
    assert hooks.seen["report"] == ({"P1": "screenshots/P1.png", "P2": "screenshots/P2.png"},
                                    ["requests/regulator.en.txt", "requests/regulator.kk.txt",
                                     "requests/regulator.ru.txt"])
    assert manifest["summary"]["screenshots"] == 2


@pytest.mark.parametrize("bad", ["screenshots/../../x.png", "screenshots/\u202ecod.png",
                                 "manifest.json", "requests/a/../../b.txt"])
def test_names_from_hooks_are_checked(store, world, tmp_path, bad):
    class Bad(Hooks):
        def screenshots(self, items):
            return {bad: PNG}

        def request_texts(self, context):
            return {bad: "x"} if bad.startswith("requests/") else \
                super().request_texts(context)

    with pytest.raises(BuildError):
        build_package(store, world.config, Selection(all_confirmed=True), "generic",
                      world.lead, extras=Bad(tmp_path))
    assert not [p for p in (world.config.home / "packages").iterdir()
                if not p.name.startswith(".")]


def test_a_failing_hook_is_one_line_and_leaves_nothing(store, world, tmp_path):
    class Broken(Hooks):
        def report_pdf(self, html):
            raise RuntimeError("chromium crashed\nwith a long trace")

    with pytest.raises(BuildError, match="^report_pdf failed: chromium crashed$"):
        build_package(store, world.config, Selection(all_confirmed=True), "generic",
                      world.lead, extras=Broken(tmp_path))
    assert list((world.config.home / "packages").iterdir()) == []
    with store.reader() as session:
        assert session.scalars(select(Event).where(Event.action == "reported")).all() == []


def test_a_candidate_reopened_during_the_build_leaves_nothing(store, world, tmp_path):
    class Reopen(Hooks):
        def report_html(self, context):
            with store.session() as session:
                session.get(Candidate, world.confirmed[0]).status = "open"
            return "<html></html>"

    with pytest.raises(BuildError, match="changed while the package was built"):
        build_package(store, world.config, Selection(all_confirmed=True), "generic",
                      world.lead, extras=Reopen(tmp_path))
    assert list((world.config.home / "packages").iterdir()) == []
    with store.reader() as session:
        assert session.scalars(select(EvidencePackage)).all() == []
        assert session.get(Candidate, world.confirmed[1]).status == "confirmed"


def test_plain_package_has_one_request_per_language(store, world):
    world.config.evidence.languages = ["kk"]
    result = build_package(store, world.config, Selection(all_confirmed=True), "generic",
                           world.lead)
    with zipfile.ZipFile(result.path) as archive:
        requests = [n for n in archive.namelist() if n.startswith("requests/")]
        text = archive.read("requests/generic.kk.txt").decode()
        manifest = json.loads(archive.read(names.MANIFEST))
    assert requests == ["requests/generic.kk.txt"]
    assert "https://t.me/shop_kz" in text and "Volunteers KZ" in text
    assert manifest["recipient"]["languages"] == ["kk"]
