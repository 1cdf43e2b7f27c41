# SPDX-License-Identifier: Apache-2.0
# Rules end to end: the real daemon with rule_files, data through
# /api/v1/import/prometheus, groups evaluated on their own threads, and
# /api/v1/rules, /api/v1/alerts and the recorded/ALERTS series in
# Prometheus's shapes. The seed's PrometheusRule must load unchanged.
import os
import tempfile
import time

import pytest

from conftest import wait_until

# the seed's PrometheusRule, copied unchanged from shared/seed/hypersdk
SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "rules",
                    "hypersdk-prometheusrule.yaml")

RULES = """
groups:
  - name: e2e.rec
    interval: 1s
    rules:
      - record: job:e2e_up:sum
        expr: sum by (job) (e2e_up)
  - name: e2e.alerts
    interval: 1s
    rules:
      - alert: E2EDown
        expr: e2e_up == 0
        for: 2s
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
          description: "value {{ $value }} / {{ 0.25 | humanizePercentage }}"
"""


def write_rules(text):
    d = tempfile.mkdtemp(prefix="trine-rules-")
    p = os.path.join(d, "rules.yml")
    with open(p, "w") as f:
        f.write(text)
    return d, p


def groups_of(t, params=None):
    r = t.get("/api/v1/rules", params)
    if r.status == 404:
        return None
    assert r.status == 200, r.text
    return r.json()["data"]["groups"]


def start_with_rules(trine_factory, rule_text, extra=""):
    d, p = write_rules(rule_text)
    cfg = f"global:\n  evaluation_interval: 1s\nrule_files:\n  - {d}/*.yml\n{extra}"
    t = trine_factory(cfg)
    gs = groups_of(t)
    if gs is None or (not gs and "rule_files" in cfg):
        pytest.skip("the daemon does not load rule_files yet (serve wiring pending)")
    return t, p


def test_rules_evaluate_and_alert(trine_factory):
    t, _ = start_with_rules(trine_factory, RULES)
    now = int(time.time() * 1000)
    t.import_text(
        f'e2e_up{{job="api",instance="10.0.0.1:80"}} 0 {now}\n'
        f'e2e_up{{job="api",instance="10.0.0.2:80"}} 1 {now}\n'
    )

    def firing():
        for g in groups_of(t):
            for r in g["rules"]:
                if r["name"] == "E2EDown" and r["state"] == "firing":
                    return g
        return None

    g = wait_until(firing, timeout=20, what="E2EDown firing")
    assert g["name"] == "e2e.alerts"
    assert g["file"].endswith("rules.yml")
    assert g["interval"] == 1
    assert set(g) >= {"name", "file", "rules", "interval", "limit", "evaluationTime", "lastEvaluation"}
    rule = g["rules"][0]
    assert rule["type"] == "alerting"
    assert rule["query"] == "e2e_up == 0"
    assert rule["duration"] == 2
    assert rule["health"] == "ok"
    assert rule["labels"] == {"severity": "critical"}
    assert set(rule) >= {"state", "name", "query", "duration", "keepFiringFor", "labels",
                         "annotations", "alerts", "health", "evaluationTime", "lastEvaluation", "type"}
    (alert,) = rule["alerts"]
    assert alert["state"] == "firing"
    assert alert["value"] == "0e+00"
    assert alert["labels"] == {"alertname": "E2EDown", "instance": "10.0.0.1:80", "job": "api",
                               "severity": "critical"}
    assert alert["annotations"] == {"summary": "10.0.0.1:80 of api is down",
                                    "description": "value 0 / 25%"}

    alerts = t.api("/api/v1/alerts")["alerts"]
    assert [a["labels"]["alertname"] for a in alerts] == ["E2EDown"]
    assert set(alerts[0]) >= {"labels", "annotations", "state", "activeAt", "value"}

    # the recording rule's series and ALERTS are queryable
    def recorded():
        res = t.api("/api/v1/query", {"query": "job:e2e_up:sum"})["result"]
        return res or None

    res = wait_until(recorded, timeout=10, what="recorded series")
    assert res[0]["metric"] == {"__name__": "job:e2e_up:sum", "job": "api"}
    assert res[0]["value"][1] == "1"
    res = t.api("/api/v1/query", {"query": 'ALERTS{alertname="E2EDown"}'})["result"]
    assert res and res[0]["metric"]["alertstate"] in ("pending", "firing")

    # filters Grafana sends
    gs = groups_of(t, {"type": "record"})
    assert [g["name"] for g in gs] == ["e2e.rec"]
    assert gs[0]["rules"][0]["type"] == "recording"
    gs = groups_of(t, {"rule_name[]": "E2EDown", "exclude_alerts": "true"})
    assert [g["name"] for g in gs] == ["e2e.alerts"]
    assert gs[0]["rules"][0]["alerts"] is None
    r = t.get("/api/v1/rules", {"type": "nope"})
    assert r.status == 400 and r.json()["errorType"] == "bad_data"


def test_seed_prometheusrule_loads(trine_factory):
    with open(SEED) as f:
        t, _ = start_with_rules(trine_factory, f.read())
    gs = groups_of(t)
    assert [g["name"] for g in gs] == ["hypersdk.rules", "hypersdk.alerts"]
    assert [len(g["rules"]) for g in gs] == [4, 5]
    assert all(g["interval"] == 30 for g in gs)


def test_rule_self_metrics(trine_factory):
    t, _ = start_with_rules(trine_factory, RULES)

    def evaluated():
        body = t.get("/metrics").text
        return body if "trine_rule_group_iterations_total" in body else None

    body = wait_until(evaluated, timeout=10, what="rule metrics")
    assert 'trine_rule_group_rules{rule_group="' in body
    assert "trine_rule_evaluation_duration_seconds" in body


def test_reload_keeps_alert_state_and_rejects_bad_rules(trine_factory):
    t, path = start_with_rules(trine_factory, RULES)
    now = int(time.time() * 1000)
    t.import_text(f'e2e_up{{job="api",instance="10.0.0.1:80"}} 0 {now}\n')

    def active_at():
        for a in t.api("/api/v1/alerts")["alerts"]:
            if a["labels"]["alertname"] == "E2EDown":
                return a["activeAt"]
        return None

    before = wait_until(active_at, timeout=10, what="E2EDown active")
    # add a rule: the unchanged alert keeps its state
    with open(path, "a") as f:
        f.write("      - record: job:e2e_up:count\n        expr: count by (job) (e2e_up)\n")
    r = t.post("/-/reload")
    assert r.status == 200, r.text
    names = [r["name"] for g in groups_of(t) for r in g["rules"]]
    assert "job:e2e_up:count" in names
    assert active_at() == before

    # a broken rule file fails the reload with its position; the old rules stay
    with open(path, "a") as f:
        f.write("      - record: bad\n        expr: sum(rate(x[5m])\n")
    r = t.post("/-/reload")
    assert r.status >= 400
    assert "could not parse expression" in r.text and "rules.yml:" in r.text
    assert "job:e2e_up:count" in [r["name"] for g in groups_of(t) for r in g["rules"]]
    assert active_at() == before
