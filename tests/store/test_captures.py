"""The capture store: byte-for-byte read-back, integrity, atomicity and path safety."""

import gzip
import hashlib

import pytest

from crawler.store.captures import CaptureError, CaptureWriter, read_capture, read_record_bytes


def test_response_is_read_back_byte_for_byte(tmp_path):
    writer = CaptureWriter(tmp_path)
    body = gzip.compress("Привет, <b>мир</b> 😀".encode())
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
               ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    ref = writer.write_response("http://example.test/s/x", 200, headers, body,
                                ip_address="127.0.0.1")
    record = read_capture(tmp_path, ref.path, ref.offset, ref.length, ref.sha256)
    assert record.payload == body
    assert record.http_headers == headers
    assert record.status == 200
    assert record.url == "http://example.test/s/x"
    assert dict(record.warc_headers)["WARC-IP-Address"] == "127.0.0.1"
    raw = (tmp_path / ref.path).read_bytes()[ref.offset:ref.offset + ref.length]
    assert hashlib.sha256(raw).hexdigest() == ref.sha256


def test_records_follow_each_other_in_one_file(tmp_path):
    writer = CaptureWriter(tmp_path)
    refs = [writer.write_response(f"http://e.test/{i}", 200, [], f"page {i}".encode())
            for i in range(5)]
    refs.append(writer.write_json("tg://channel/1/2", {"id": 2, "message": "салем"}))
    assert len({ref.path for ref in refs}) == 1
    assert [ref.offset for ref in refs] == sorted(ref.offset for ref in refs)
    for i, ref in enumerate(refs[:5]):
        assert read_capture(tmp_path, ref.path, ref.offset, ref.length, ref.sha256).payload == \
            f"page {i}".encode()
    json_record = read_capture(tmp_path, refs[5].path, refs[5].offset, refs[5].length,
                               refs[5].sha256)
    assert json_record.record_type == "resource"
    assert "салем".encode() in json_record.payload


def test_an_altered_or_cut_file_is_refused(tmp_path):
    writer = CaptureWriter(tmp_path)
    ref = writer.write_response("http://e.test/", 200, [], b"original evidence")
    writer.close()
    path = tmp_path / ref.path
    data = bytearray(path.read_bytes())
    data[ref.length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match="does not match its SHA-256"):
        read_capture(tmp_path, ref.path, ref.offset, ref.length, ref.sha256)
    path.write_bytes(bytes(data[: ref.length - 10]))
    with pytest.raises(CaptureError, match="altered or cut"):
        read_record_bytes(tmp_path, ref.path, ref.offset, ref.length, ref.sha256)


def test_a_torn_tail_does_not_spoil_earlier_records(tmp_path):
    writer = CaptureWriter(tmp_path)
    good = writer.write_response("http://e.test/1", 200, [], b"kept")
    writer.write_response("http://e.test/2", 200, [], b"x" * 5000)
    writer.close()
    path = tmp_path / good.path
    path.write_bytes(path.read_bytes()[: good.length + 100])  # a crash mid-write of record 2
    assert read_capture(tmp_path, good.path, good.offset, good.length, good.sha256).payload == b"kept"
    again = CaptureWriter(tmp_path)
    assert again.relpath != good.path  # a restarted crawl never appends to a torn file


@pytest.mark.parametrize("relpath", ["../outside.warc.gz", "/etc/passwd", "a/../../b"])
def test_paths_cannot_leave_the_capture_directory(tmp_path, relpath):
    with pytest.raises(CaptureError, match="leaves the capture directory"):
        read_record_bytes(tmp_path / "caps", relpath, 0, 10, "0" * 64)
