# SPDX-License-Identifier: Apache-2.0
"""Every call Grafana's Prometheus datasource makes (../shared/compat/
grafana-datasources.md §1), with the parameters it sends, against trine
loaded with a little data through the import endpoint."""
import time

import pytest

NOW = int(time.time())


@pytest.fixture
def loaded(trine):
    lines = []
    for i in range(10):
        ts = (NOW - 600 + i * 60) * 1000
        lines.append(f'http_requests_total{{job="api",instance="a:1",code="200"}} {i * 10} {ts}')
        lines.append(f'http_requests_total{{job="api",instance="b:1",code="500"}} {i} {ts}')
        lines.append(f'node_load1{{job="node",instance="n:9100"}} {0.5 + i / 10} {ts}')
        lines.append(f'my_weird_name{{job="x"}} 1 {ts}')
    trine.import_text("\n".join(lines) + "\n")
    return trine


def test_health_check_query_at_epoch_4s(loaded):
    r = loaded.post_form("/api/v1/query", {"query": "1+1", "time": "4"})
    assert r.status == 200
    body = r.json()
    assert body == {"status": "success", "data": {"resultType": "scalar", "result": [4, "2"]}}


def test_buildinfo_heuristics(loaded):
    d = loaded.api("/api/v1/status/buildinfo")
    assert set(d) >= {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}
    assert not d.get("features")


def test_range_query_form_post_with_float_times(loaded):
    start, end = NOW - 600.5, NOW + 0.25
    r = loaded.post_form("/api/v1/query_range", {
        "query": 'sum by (job) (rate(http_requests_total[5m]))',
        "start": f"{start}", "end": f"{end}", "step": "60"})
    assert r.status == 200, r.text
    d = r.json()["data"]
    assert d["resultType"] == "matrix"
    (s,) = d["result"]
    assert s["metric"] == {"job": "api"}
    for ts, v in s["values"]:
        assert isinstance(ts, (int, float)) and isinstance(v, str)


def test_instant_query_vector_shape(loaded):
    r = loaded.post_form("/api/v1/query", {"query": "node_load1", "time": f"{NOW + 0.123}"})
    d = r.json()["data"]
    assert d["resultType"] == "vector"
    (s,) = d["result"]
    assert s["metric"] == {"__name__": "node_load1", "instance": "n:9100", "job": "node"}
    assert s["value"][0] == pytest.approx(NOW + 0.123) and s["value"][1] == "1.4"


def test_exemplar_probe_in_milliseconds_succeeds(loaded):
    ms = NOW * 1000
    r = loaded.get("/api/v1/query_exemplars", {"query": "test", "start": ms - 3600000, "end": ms})
    assert r.status == 200, r.text
    assert r.json()["status"] == "success"


def test_metric_names_and_label_names(loaded):
    names = loaded.api("/api/v1/label/__name__/values",
                       {"limit": "40000", "start": NOW - 3600, "end": NOW + 60})
    assert names == ["http_requests_total", "my_weird_name", "node_load1"]
    labels = loaded.api("/api/v1/labels", {"limit": "40000", "start": NOW - 3600, "end": NOW + 60})
    assert labels == ["__name__", "code", "instance", "job"]
    labels = loaded.api("/api/v1/labels", {"match[]": "node_load1", "start": NOW - 3600,
                                           "end": NOW + 60})
    assert labels == ["__name__", "instance", "job"]


def test_label_values_with_and_without_match_and_escaped_names(loaded):
    assert loaded.api("/api/v1/label/job/values") == ["api", "node", "x"]
    assert loaded.api("/api/v1/label/instance/values",
                      {"match[]": 'http_requests_total{code="500"}'}) == ["b:1"]
    # Grafana escapes non-legacy names: "U__" + "__" for "_"
    assert loaded.api("/api/v1/label/U__job/values") == ["api", "node", "x"]
    # a time range before any data has no values
    assert loaded.api("/api/v1/label/job/values", {"start": 1, "end": 2}) == []


def test_series_with_and_without_time_range(loaded):
    d = loaded.api("/api/v1/series", {"match[]": "node_load1"})
    assert d == [{"__name__": "node_load1", "instance": "n:9100", "job": "node"}]
    d = loaded.api("/api/v1/series", {"match[]": ["node_load1", '{job="x"}'], "limit": "40000",
                                      "start": NOW - 3600, "end": NOW + 60})
    assert [s["__name__"] for s in d] == ["my_weird_name", "node_load1"]
    r = loaded.get("/api/v1/series", {"match[]": "http_requests_total", "limit": "1"})
    body = r.json()
    assert len(body["data"]) == 1 and body["warnings"] == ["results truncated due to limit"]
    # exact name match (the service-graph probe must not prefix-match)
    assert loaded.api("/api/v1/series", {"match[]": "node_load", "limit": "1"}) == []


def test_series_errors(loaded):
    r = loaded.get("/api/v1/series")
    assert r.status == 400 and r.json()["errorType"] == "bad_data"
    r = loaded.get("/api/v1/series", {"match[]": "up{"})
    assert r.status == 400 and "parse error" in r.json()["error"]
    r = loaded.get("/api/v1/series", {"match[]": "up", "start": "yesterday"})
    assert r.status == 400 and 'invalid parameter "start"' in r.json()["error"]


def test_metadata_shape(loaded):
    d = loaded.api("/api/v1/metadata", {"limit": "40000"})
    assert isinstance(d, dict)
    for metric, entries in d.items():
        for e in entries:
            assert set(e) == {"type", "help", "unit"}


def test_errors_are_prometheus_envelopes(loaded):
    r = loaded.post_form("/api/v1/query", {"query": "sum(", "time": "4"})
    assert r.status == 400
    body = r.json()
    assert body["status"] == "error" and body["errorType"] == "bad_data" and body["error"]


def test_unknown_parameters_and_grafana_headers_are_ignored(loaded):
    r = loaded.post("/api/v1/query", "query=1%2B1&time=4&someNewGrafanaParam=x",
                    {"Content-Type": "application/x-www-form-urlencoded", "X-Dashboard-Uid": "abc",
                     "X-Panel-Id": "2", "X-Grafana-Org-Id": "1", "FromAlert": "true",
                     "User-Agent": "Grafana/12.3.0", "Accept-Encoding": "gzip"})
    assert r.status == 200 and r.json()["data"]["result"] == [4, "2"]
    assert r.headers.get("Content-Encoding") in (None, "gzip")
