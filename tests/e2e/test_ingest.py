# SPDX-License-Identifier: Apache-2.0
"""Prometheus write endpoints against the real daemon.

remote_write bodies are built by the shared encoder in promwrite.py and
compressed with python3-snappy (the block format Prometheus sends); the
import endpoint gets exposition text. Good requests must be queryable
afterwards; bad ones must get a 4xx whose message names the problem and
its position, be counted in trine's own metrics, and leave the daemon
serving.
"""
import json
import os
import time
import urllib.parse
import urllib.request

import pytest

from promwrite import RW_HEADERS, post, send, write_request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFTEST = os.path.join(ROOT, "tests", "e2e", "conftest.py")

snappy = pytest.importorskip("snappy", reason="python3-snappy not installed")
pytestmark = pytest.mark.skipif(not os.path.exists(CONFTEST),
                                reason="the daemon fixture (tests/e2e/conftest.py) is not there yet")


# --- HTTP helpers ---

def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def remote_write(trine, raw, headers=RW_HEADERS):
    return send(trine.url, raw, headers)


def instant(trine, query, at_ms):
    q = urllib.parse.urlencode({"query": query, "time": "%.3f" % (at_ms / 1000)})
    return json.loads(get(trine.url + "/api/v1/query?" + q))["data"]["result"]


def wait_for(fn, timeout=10):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.1)


def self_metric(trine, prefix):
    """Sum of trine's own metric lines starting with prefix."""
    total = 0.0
    for line in get(trine.url + "/metrics").splitlines():
        if line.startswith(prefix):
            total += float(line.rsplit(" ", 1)[1])
    return total


# --- tests ---

def test_remote_write_stores_samples_and_metadata(trine):
    now = int(time.time() * 1000)
    raw = write_request(
        [([("__name__", "e2e_rw_total"), ("job", "a"), ("empty", "")], [(1.0, now - 1000), (2.0, now)]),
         # unsorted labels are sorted, not rejected
         ([("zone", "z1"), ("__name__", "e2e_rw_total"), ("job", "b")], [(5.0, now)])],
        metadata=[(1, "e2e_rw_total", "Requests seen.", "")])
    status, body = remote_write(trine, raw)
    assert status == 204, body
    res = wait_for(lambda: instant(trine, "e2e_rw_total", now))
    got = {r["metric"]["job"]: (r["metric"], r["value"][1]) for r in res}
    assert got["a"][1] == "2" and "empty" not in got["a"][0]
    assert got["b"] == ({"__name__": "e2e_rw_total", "job": "b", "zone": "z1"}, "5")
    meta = json.loads(get(trine.url + "/api/v1/metadata?metric=e2e_rw_total"))["data"]
    assert meta["e2e_rw_total"][0]["type"] == "counter"
    assert meta["e2e_rw_total"][0]["help"] == "Requests seen."


@pytest.mark.parametrize("name,body,headers,status,needle", [
    ("not_snappy", b"\xff\xff\xff\xff\xff\xff", RW_HEADERS, 400, "snappy"),
    ("truncated_protobuf", snappy.compress(b"\x0a\x10\x0a\x03"), RW_HEADERS, 400, "byte offset"),
    ("wrong_wire_type", snappy.compress(b"\x08\x01"), RW_HEADERS, 400,
     "WriteRequest.timeseries (field 1) has wire type varint"),
    ("huge_snappy_claim", b"\xff\xff\xff\xff\x0f", RW_HEADERS, 413, "exceeds the limit"),
    ("gzip_encoding", b"\x1f\x8b", dict(RW_HEADERS, **{"Content-Encoding": "gzip"}), 415,
     "Content-Encoding"),
    ("rw2_content_type", snappy.compress(b""),
     dict(RW_HEADERS, **{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"}),
     415, "Content-Type"),
])
def test_remote_write_rejects_bad_bodies(trine, name, body, headers, status, needle):
    before = self_metric(trine, 'trine_ingest_rejected_total{protocol="remote_write"')
    got, msg = post(trine.url + "/api/v1/write", body, headers)
    assert got == status, (name, msg)
    assert needle in msg, (name, msg)
    assert get(trine.url + "/ready") is not None
    assert self_metric(trine, 'trine_ingest_rejected_total{protocol="remote_write"') >= before + 1


@pytest.mark.parametrize("labels,needle", [
    ([("__name__", "m"), ("", "x")], "empty label name"),
    ([("__name__", "m"), ("a-b", "x")], 'invalid label name "a-b"'),
    ([("__name__", "m"), ("job", "a"), ("job", "b")], 'duplicate label name "job"'),
    ([("__name__", "9m")], 'invalid metric name "9m"'),
    ([("job", "nameless")], "without a metric name"),
])
def test_remote_write_partial_acceptance(trine, labels, needle):
    now = int(time.time() * 1000)
    raw = write_request([([("__name__", "e2e_partial_ok")], [(7.0, now)]), (labels, [(1.0, now)])])
    status, msg = remote_write(trine, raw)
    assert status == 400, msg
    assert "dropped 1 of 2 series" in msg and needle in msg and "byte offset" in msg, msg
    # the valid series of the same request was stored
    assert wait_for(lambda: instant(trine, "e2e_partial_ok", now))


def test_import_prometheus_text(trine):
    now = int(time.time() * 1000)
    text = ("# HELP e2e_import_bytes Bytes seen.\n"
            "# TYPE e2e_import_bytes gauge\n"
            'e2e_import_bytes{path="C:\\\\DIR",q="say \\"hi\\""} 42 %d\n'
            "e2e_import_nots 3\n" % (now - 5000))
    status, msg = post(trine.url + "/api/v1/import/prometheus?extra_label=src=e2e", text.encode(),
                       {"Content-Type": "text/plain"})
    assert status == 204, msg
    res = wait_for(lambda: instant(trine, "e2e_import_bytes", now))
    assert res[0]["metric"] == {"__name__": "e2e_import_bytes", "path": "C:\\DIR",
                                "q": 'say "hi"', "src": "e2e"}
    assert res[0]["value"][1] == "42"
    assert wait_for(lambda: instant(trine, "e2e_import_nots", int(time.time() * 1000)))


def test_import_default_timestamp_parameter(trine):
    at = int(time.time()) - 60
    status, msg = post(trine.url + "/api/v1/import/prometheus?timestamp=%d" % at,
                       b"e2e_import_at 9\n", {"Content-Type": "text/plain"})
    assert status == 204, msg
    res = wait_for(lambda: instant(trine, "e2e_import_at", at * 1000))
    assert res and res[0]["value"] == [at, "9"]
    status, msg = post(trine.url + "/api/v1/import/prometheus?timestamp=yesterday", b"x 1\n")
    assert status == 400 and "invalid timestamp" in msg, msg


def test_import_rejects_bad_line_with_position(trine):
    status, msg = post(trine.url + "/api/v1/import/prometheus",
                       b'ok_metric 1\nbad{a="1" 2\n', {"Content-Type": "text/plain"})
    assert status == 400
    assert "line 2:11" in msg, msg
    assert self_metric(
        trine, 'trine_ingest_rejected_total{protocol="prometheus_import",reason="bad_exposition"}') >= 1
    assert get(trine.url + "/ready") is not None


def test_rejections_are_counted_by_reason(trine):
    post(trine.url + "/api/v1/write", b"\xff\xff\xff", RW_HEADERS)
    assert self_metric(
        trine, 'trine_ingest_rejected_total{protocol="remote_write",reason="bad_snappy"}') >= 1
