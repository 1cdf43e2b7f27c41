# SPDX-License-Identifier: Apache-2.0
"""Prometheus query API against the real daemon.

Data goes in through /api/v1/import/prometheus (exposition text with
millisecond timestamps, one request per scrape time); queries go through
/api/v1/query, /api/v1/query_range and /api/v1/format_query as GET and as
POST forms, the way Grafana sends them. Expected JSON is worked out by hand
from the samples below. Error envelopes (bad_data/400, execution/422) and
Grafana's health-check call (POST query=1+1&time=4) are checked too.
"""
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFTEST = os.path.join(ROOT, "tests", "e2e", "conftest.py")
pytestmark = pytest.mark.skipif(not os.path.exists(CONFTEST),
                                reason="the daemon fixture (tests/e2e/conftest.py) is not there yet")


def http(method, url, params=None, body=None, ctype=None):
    data = None
    if method == "GET" and params:
        url = url + "?" + urllib.parse.urlencode(params)
    elif method == "POST" and params is not None:
        data = urllib.parse.urlencode(params).encode()
        ctype = "application/x-www-form-urlencoded"
    if body is not None:
        data = body
    req = urllib.request.Request(url, data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def q(trine, path, method="GET", **params):
    status, body = http(method, trine.url + path, params)
    return status, json.loads(body)


@pytest.fixture
def loaded(trine):
    """Two series sampled at base, base+60s, base+120s (base aligned to a minute)."""
    base = (int(time.time()) // 60 - 10) * 60
    rows = [(0, 1, 10), (60, 2, 20), (120, 3, 30)]
    for off, a, b in rows:
        t_ms = (base + off) * 1000
        text = ("test_metric{job=\"a\"} %d %d\n" % (a, t_ms) +
                "test_metric{job=\"b\"} %d %d\n" % (b, t_ms)).encode()
        status, body = http("POST", trine.url + "/api/v1/import/prometheus", body=text, ctype="text/plain")
        assert status in (200, 204), body
    deadline = time.time() + 10
    while time.time() < deadline:  # the import is acknowledged; poll until visible
        st, js = q(trine, "/api/v1/query", query="count(test_metric)", time=base + 120)
        if st == 200 and js["data"]["result"] and js["data"]["result"][0]["value"][1] == "2":
            break
        time.sleep(0.1)
    return base


def test_instant_vector(trine, loaded):
    base = loaded
    st, js = q(trine, "/api/v1/query", query="test_metric", time=base + 120)
    assert st == 200 and js["status"] == "success"
    assert js["data"]["resultType"] == "vector"
    got = sorted((r["metric"]["job"], r["metric"]["__name__"], r["value"]) for r in js["data"]["result"])
    assert got == [("a", "test_metric", [base + 120, "3"]), ("b", "test_metric", [base + 120, "30"])]


def test_instant_aggregation_post(trine, loaded):
    base = loaded
    st, js = q(trine, "/api/v1/query", method="POST", query="sum(test_metric) / 11", time=base + 121.5)
    assert st == 200
    assert js["data"]["result"] == [{"metric": {}, "value": [base + 121.5, "3"]}]


def test_range_query(trine, loaded):
    base = loaded
    st, js = q(trine, "/api/v1/query_range", query='test_metric{job="a"} * 2',
               start=base, end=base + 120, step="1m")
    assert st == 200
    assert js["data"]["resultType"] == "matrix"
    assert js["data"]["result"] == [{"metric": {"job": "a"},
                                     "values": [[base, "2"], [base + 60, "4"], [base + 120, "6"]]}]


def test_range_query_rate_and_float_step(trine, loaded):
    base = loaded
    # at base+120 the window (base, base+120] holds the samples at base+60 (2)
    # and base+120 (3): increase 1 over 60 s sampled.
    st, js = q(trine, "/api/v1/query_range", method="POST", query='rate(test_metric{job="a"}[2m])',
               start=base + 120, end=base + 120, step="15")
    assert st == 200
    [series] = js["data"]["result"]
    assert series["metric"] == {"job": "a"}
    [[ts, val]] = series["values"]
    assert ts == base + 120
    # The gap to the window start (60 s) is below 110% of the average spacing
    # (66 s), so the increase extrapolates all the way to it (the counter's
    # zero point, 120 s back, is further): 1 * (60 + 60) / 60 = 2 in 120 s.
    assert abs(float(val) - 2 / 120) < 1e-12


def test_scalar_and_string(trine):
    st, js = q(trine, "/api/v1/query", method="POST", query="1+1", time=4)
    assert st == 200
    assert js == {"status": "success", "data": {"resultType": "scalar", "result": [4, "2"]}}
    st, js = q(trine, "/api/v1/query", query='"hello"', time=10)
    assert js["data"] == {"resultType": "string", "result": [10, "hello"]}


def test_grafana_health_check(trine):
    status, body = http("POST", trine.url + "/api/v1/query", {"query": "1+1", "time": "4"})
    assert status == 200
    js = json.loads(body)
    assert js["status"] == "success" and js["data"]["resultType"] == "scalar"


def test_bad_query_envelopes(trine, loaded):
    st, js = q(trine, "/api/v1/query", query="sum(", time=10)
    assert st == 400
    assert js["status"] == "error" and js["errorType"] == "bad_data"
    assert "parse error" in js["error"] and js["error"].startswith('invalid parameter "query": 1:')
    st, js = q(trine, "/api/v1/query", query="rate(test_metric)", time=10)
    assert st == 400 and "expected type range vector" in js["error"]
    st, js = q(trine, "/api/v1/query_range", query="up", start=10, end=20, step=0)
    assert st == 400 and js["errorType"] == "bad_data"
    assert "zero or negative query resolution step widths" in js["error"]
    st, js = q(trine, "/api/v1/query_range", query="up", start=20, end=10, step=1)
    assert st == 400 and js["error"] == "end timestamp must not be before start time"
    st, js = q(trine, "/api/v1/query_range", query="up", start=0, end=100000, step=1)
    assert st == 400 and "exceeded maximum resolution of 11,000 points" in js["error"]
    st, js = q(trine, "/api/v1/query", query="up", time="yesterday")
    assert st == 400 and js["errorType"] == "bad_data" and 'invalid parameter "time"' in js["error"]


def test_execution_error(trine, loaded):
    base = loaded
    st, js = q(trine, "/api/v1/query", query="test_metric + on() test_metric", time=base + 120)
    assert st == 422
    assert js["errorType"] == "execution"
    assert "many-to-many matching not allowed" in js["error"]


def test_format_query_and_exemplars(trine):
    st, js = q(trine, "/api/v1/format_query", query='sum(x)by(a)')
    assert st == 200 and js == {"status": "success", "data": "sum by (a) (x)"}
    st, js = q(trine, "/api/v1/parse_query", query='sum by (a) (rate(x{b="c"}[5m]))')
    assert st == 200 and js["status"] == "success"
    ast = js["data"]
    assert ast["type"] == "aggregation" and ast["op"] == "sum" and ast["grouping"] == ["a"]
    assert ast["param"] is None and ast["without"] is False
    call = ast["expr"]
    assert call["type"] == "call" and call["func"]["name"] == "rate"
    assert call["func"]["argTypes"] == ["matrix"] and call["func"]["returnType"] == "vector"
    [msel] = call["args"]
    assert msel["type"] == "matrixSelector" and msel["range"] == 300000 and msel["name"] == "x"
    assert {"name": "b", "value": "c", "type": "="} in msel["matchers"]
    st, js = q(trine, "/api/v1/query_exemplars", query="test", start=1700000000000, end=1700003600000)
    assert st == 200 and js == {"status": "success", "data": []}


def test_warnings_and_stats(trine, loaded):
    base = loaded
    st, js = q(trine, "/api/v1/query", query="rate(test_metric[5m])", time=base + 120, stats="all")
    assert st == 200
    assert any("might not be a counter" in i for i in js.get("infos", []))
    assert js["data"]["stats"]["samples"]["totalQueryableSamples"] >= 6


def test_client_disconnect_cancels_query(trine):
    # A range query that takes seconds (a 1-day window of 1 s subquery points
    # summed at 10,000 steps); the client gives up after 0.3 s.
    params = urllib.parse.urlencode({"query": "sum_over_time(vector(1)[1d:1s])",
                                     "start": 0, "end": 600000, "step": 60}).encode()
    req = urllib.request.Request(trine.url + "/api/v1/query_range", data=params, method="POST")
    with pytest.raises(Exception):
        urllib.request.urlopen(req, timeout=0.3).read()
    deadline = time.time() + 10
    while time.time() < deadline:
        if "query canceled: the client went away" in trine.log():
            break
        time.sleep(0.05)
    assert "query canceled: the client went away" in trine.log()
    # and the daemon still answers
    st, js = q(trine, "/api/v1/query", query="1+1", time=4)
    assert st == 200 and js["data"]["result"] == [4, "2"]
