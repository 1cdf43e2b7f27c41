# SPDX-License-Identifier: Apache-2.0
"""The built-in alert manager end to end: local HTTP sinks stand in for a
webhook, Slack and PagerDuty; alerts arrive on POST /api/v2/alerts; the test
checks grouping, timing (small group_wait/group_interval), resolved
messages, silences, inhibition, persistence across kill -9, amtool against
trine, and clear errors for bad input."""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import http, wait_until

AMTOOL = shutil.which("amtool")
TRINE = os.environ.get("TRINE_BIN", os.path.join(os.path.dirname(__file__), "..", "..",
                                                 "build", "release", "trine"))


class Sink:
    """A loopback HTTP server that records every JSON POST by path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []
        sink = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with sink.lock:
                    sink.posts.append((self.path, json.loads(body or b"null"), time.monotonic()))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def got(self, path):
        with self.lock:
            return [b for p, b, _ in self.posts if p == path]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.close()


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def start_am(trine_factory, am_yaml, data_dir=None):
    tmp = tempfile.mkdtemp(prefix="trine-am-")
    path = os.path.join(tmp, "alertmanager.yml")
    with open(path, "w") as f:
        f.write(am_yaml)
    return trine_factory(f"alertmanager_config: {path}\n", data_dir=data_dir)


def post_alerts(t, alerts):
    r = t.post("/api/v2/alerts", json.dumps(alerts), {"Content-Type": "application/json"})
    assert r.status == 200, r.text
    return r


def alert(name, ends=None, **labels):
    a = {"labels": {"alertname": name, **labels}, "annotations": {"summary": f"{name} summary"},
         "generatorURL": "http://prom/graph"}
    if ends is not None:
        a["endsAt"] = iso(ends)
    return a


WEBHOOK_CFG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: '{url}/hook', send_resolved: true}}]
"""


def test_webhook_grouping_and_resolve(trine_factory, sink):
    t = start_am(trine_factory, WEBHOOK_CFG.format(url=sink.url))
    post_alerts(t, [alert("Disk", instance="a"), alert("Disk", instance="b"), alert("CPU", instance="a")])
    msgs = wait_until(lambda: len(sink.got("/hook")) >= 2 and sink.got("/hook"), timeout=20,
                      what="two group notifications")
    by_group = {m["groupLabels"]["alertname"]: m for m in msgs}
    disk = by_group["Disk"]
    assert disk["version"] == "4" and disk["status"] == "firing" and disk["receiver"] == "hook"
    assert sorted(a["labels"]["instance"] for a in disk["alerts"]) == ["a", "b"]
    assert disk["commonLabels"] == {"alertname": "Disk"}
    assert disk["groupKey"] == '{}:{alertname="Disk"}'
    assert disk["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert len(disk["alerts"][0]["fingerprint"]) == 16
    assert by_group["CPU"]["commonAnnotations"] == {"summary": "CPU summary"}

    # resolve one Disk alert: the next flush carries it as resolved
    now = datetime.now(timezone.utc)
    post_alerts(t, [alert("Disk", ends=now, instance="a")])
    m = wait_until(lambda: [x for x in sink.got("/hook") if x["groupLabels"]["alertname"] == "Disk"
                            and any(a["status"] == "resolved" for a in x["alerts"])],
                   timeout=20, what="resolved notification")[0]
    st = {a["labels"]["instance"]: a["status"] for a in m["alerts"]}
    assert st == {"a": "resolved", "b": "firing"} and m["status"] == "firing"
    # resolve the rest: a final resolved notification, then silence
    post_alerts(t, [alert("Disk", ends=now, instance="b")])
    wait_until(lambda: [x for x in sink.got("/hook") if x["groupLabels"]["alertname"] == "Disk"
                        and x["status"] == "resolved"], timeout=20, what="all resolved")
    n = len(sink.got("/hook"))
    time.sleep(5)  # two more group intervals: nothing new may be sent (CPU unchanged, Disk gone)
    assert len(sink.got("/hook")) == n


SLACK_PD_CFG = """
route:
  receiver: slack
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 2s
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty
      continue: true
    - matchers: ['severity=~"warning|critical"']
      receiver: slack
receivers:
  - name: slack
    slack_configs:
      - api_url: '{url}/slack'
        channel: '#alerts'
        text: '{{{{ range .Alerts }}}}{{{{ .Annotations.description }}}}{{{{ end }}}}'
  - name: pagerduty
    pagerduty_configs:
      - routing_key: rk-123
        url: '{url}/pd'
        description: '{{{{ .CommonAnnotations.summary }}}}'
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
"""


def test_slack_pagerduty_and_inhibition(trine_factory, sink):
    t = start_am(trine_factory, SLACK_PD_CFG.format(url=sink.url))
    crit = alert("Down", severity="critical", cluster="eu", job="api")
    crit["annotations"]["description"] = "api is down"
    warn = alert("Slow", severity="warning", cluster="eu")
    other = alert("Slow", severity="warning", cluster="us")
    post_alerts(t, [crit, warn, other])
    pd = wait_until(lambda: sink.got("/pd"), timeout=20, what="pagerduty event")[0]
    assert pd["routing_key"] == "rk-123" and pd["event_action"] == "trigger"
    assert len(pd["dedup_key"]) == 64
    assert pd["payload"]["summary"] == "Down summary"
    assert pd["payload"]["severity"] == "error"
    assert pd["client"] == "Alertmanager"
    assert "num_firing" in pd["payload"]["custom_details"]
    slack = wait_until(lambda: len(sink.got("/slack")) >= 2 and sink.got("/slack"), timeout=20,
                       what="slack messages")
    time.sleep(3)
    slack = sink.got("/slack")
    titles = sorted(m["attachments"][0]["title"] for m in slack)
    # the eu warning is inhibited by the eu critical alert; the us one is not
    assert titles == ["[FIRING:1] Down eu (api critical)", "[FIRING:1] Slow us (warning)"], titles
    down = [m for m in slack if "Down" in m["attachments"][0]["title"]][0]
    assert down["channel"] == "#alerts" and down["username"] == "Alertmanager"
    assert down["attachments"][0]["text"] == "api is down"
    assert down["attachments"][0]["color"] == "danger"
    groups = t.get("/api/v2/alerts", {"inhibited": "false"}).json()
    assert sorted(a["labels"]["cluster"] for a in groups) == ["eu", "us"]
    inhibited = [a for a in t.get("/api/v2/alerts").json() if a["status"]["inhibitedBy"]]
    assert len(inhibited) == 1 and inhibited[0]["labels"]["cluster"] == "eu"


def test_silence_and_restart_keep_state(trine_factory, sink):
    cfg = WEBHOOK_CFG.format(url=sink.url)
    t = start_am(trine_factory, cfg)
    now = datetime.now(timezone.utc)
    sil = {"matchers": [{"name": "alertname", "value": "Muted", "isRegex": False, "isEqual": True}],
           "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1)),
           "createdBy": "e2e", "comment": "maintenance"}
    r = t.post("/api/v2/silences", json.dumps(sil))
    assert r.status == 200, r.text
    sid = r.json()["silenceID"]
    post_alerts(t, [alert("Loud"), alert("Muted")])
    wait_until(lambda: sink.got("/hook"), timeout=20, what="first notification")
    time.sleep(3)
    assert [m["groupLabels"]["alertname"] for m in sink.got("/hook")] == ["Loud"]
    muted = [a for a in t.get("/api/v2/alerts").json() if a["labels"]["alertname"] == "Muted"][0]
    assert muted["status"]["state"] == "suppressed" and muted["status"]["silencedBy"] == [sid]

    data_dir = t.data_dir
    t.kill9()
    t.start()
    got = t.get(f"/api/v2/silence/{sid}")
    assert got.status == 200 and got.json()["comment"] == "maintenance"
    assert got.json()["status"]["state"] == "active"
    # Prometheus re-sends its firing alerts; inside repeat_interval nothing is sent again
    post_alerts(t, [alert("Loud"), alert("Muted")])
    time.sleep(6)
    assert [m["groupLabels"]["alertname"] for m in sink.got("/hook")] == ["Loud"]
    assert os.path.exists(os.path.join(data_dir, "alertmanager", "silences"))
    assert os.path.exists(os.path.join(data_dir, "alertmanager", "nflog"))
    # expiring lifts the silence
    assert t.get(f"/api/v2/silence/{sid}").status == 200
    assert http("DELETE", t.url + f"/api/v2/silence/{sid}").status == 200
    wait_until(lambda: "Muted" in [m["groupLabels"]["alertname"] for m in sink.got("/hook")],
               timeout=20, what="notification after expiry")


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed")
def test_amtool_against_trine(trine_factory, sink):
    t = start_am(trine_factory, WEBHOOK_CFG.format(url=sink.url))
    post_alerts(t, [alert("AmtoolAlert", severity="page")])

    def am(*args):
        r = subprocess.run([AMTOOL, f"--alertmanager.url={t.url}", *args], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    assert "AmtoolAlert" in am("alert", "query")
    sid = am("silence", "add", "alertname=AmtoolAlert", "-c", "from amtool").strip()
    assert len(sid) == 36
    assert sid in am("silence", "query", "-q")
    assert "suppressed" in am("alert", "query", "-s")
    am("silence", "expire", sid)
    assert sid not in am("silence", "query", "-q")
    assert sid in am("silence", "query", "--expired", "-q")


def test_bad_input_is_rejected_clearly(trine_factory, sink):
    t = start_am(trine_factory, WEBHOOK_CFG.format(url=sink.url))
    r = t.post("/api/v2/alerts", "[{\"labels\": ")
    assert r.status == 400 and "parsing alerts body" in r.text
    r = t.post("/api/v2/alerts", json.dumps([{"labels": {"1bad": "x"}}]))
    assert r.status == 400 and "invalid label name" in r.text
    r = t.post("/api/v2/alerts", json.dumps([{"labels": {}}]))
    assert r.status == 400 and "at least one label pair required" in r.text
    r = t.post("/api/v2/alerts", json.dumps([{"annotations": {}}]))
    assert r.status == 422
    r = t.get("/api/v2/alerts", {"filter": "a=~\"(\""})
    assert r.status == 400 and "regular expression" in r.text
    sil = {"matchers": [{"name": "a", "value": ".*", "isRegex": True}], "startsAt": iso(datetime.now(timezone.utc)),
           "endsAt": iso(datetime.now(timezone.utc) + timedelta(hours=1)), "createdBy": "x", "comment": "y"}
    r = t.post("/api/v2/silences", json.dumps(sil))
    assert r.status == 400 and "empty string" in r.text
    assert t.get("/api/v2/silence/00000000-0000-4000-8000-000000000000").status == 404
    assert [x["name"] for x in t.get("/api/v2/receivers").json()] == ["hook"]


def test_config_errors_are_clear(tmp_path):
    def check(text, needle):
        p = tmp_path / "am.yml"
        p.write_text(text)
        r = subprocess.run([TRINE, "routes", "test", "--alertmanager-config", str(p), "a=b"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and needle in r.stderr, r.stderr

    check("route: {receiver: x}\nreceivers: [{name: y}]\n", 'undefined receiver "x" used in route')
    check("route: {receiver: y, routes: [{matchers: ['a=\"b']}]}\nreceivers: [{name: y}]\n",
          "unescaped double quote")
    check("route: {receiver: y}\nreceivers: [{name: y, slack_configs: [{api_url: 'http://x', "
          "title: '{{ .Foo'}]}]\n", 'receiver "y", slack_configs[0].title')


class FlakySink(Sink):
    """Answers 500 to the first `fail` POSTs, then 200."""

    def __init__(self, fail):
        self.fail = fail
        super().__init__()
        sink = self
        handler = self.srv.RequestHandlerClass
        orig = handler.do_POST

        def do_post(h):
            with sink.lock:
                sink.fail -= 1
                failing = sink.fail >= 0
            if failing:
                h.rfile.read(int(h.headers.get("Content-Length") or 0))
                h.send_response(500)
                h.end_headers()
                return
            orig(h)

        handler.do_POST = do_post


def test_webhook_retries_and_metrics(trine_factory):
    s = FlakySink(fail=2)
    try:
        t = start_am(trine_factory, WEBHOOK_CFG.format(url=s.url))
        post_alerts(t, [alert("Retry")])
        wait_until(lambda: s.got("/hook"), timeout=30, what="delivery after two 500s")
        assert s.fail < 0
        metrics = t.get("/metrics").text
        assert 'trine_alertmanager_notifications_total{integration="webhook"} 1' in metrics
        assert 'trine_alertmanager_notifications_failed_total{integration="webhook"} 0' in metrics
        assert 'trine_alertmanager_alerts_received_total{status="firing"} 1' in metrics
    finally:
        s.close()


EMAIL_CFG = """
global:
  smtp_smarthost: '127.0.0.1:{port}'
  smtp_from: 'trine@example.org'
  smtp_require_tls: false
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
receivers:
  - name: mail
    email_configs:
      - to: 'ops@example.org, oncall@example.org'
        headers: {{X-Team: '{{{{ .CommonLabels.team }}}}'}}
"""


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_email_over_smtp(trine_factory):
    smtpd = pytest.importorskip("smtpd")  # Python < 3.12; drives asyncore
    import asyncore
    import socket as sock

    got = []

    class Server(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kw):
            got.append((mailfrom, rcpttos, data.decode() if isinstance(data, bytes) else data))

    with sock.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = Server(("127.0.0.1", port), None, decode_data=False)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            asyncore.loop(timeout=0.1, count=1)

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    try:
        t = start_am(trine_factory, EMAIL_CFG.format(port=port))
        post_alerts(t, [alert("MailMe", team="db")])
        wait_until(lambda: got, timeout=30, what="an email")
        mailfrom, rcpts, data = got[0]
        assert mailfrom == "trine@example.org"
        assert sorted(rcpts) == ["oncall@example.org", "ops@example.org"]
        assert "Subject: [FIRING:1] MailMe (team=db" not in data  # values only, as Alertmanager
        assert "Subject: [FIRING:1] MailMe (db)" in data
        assert "X-Team: db" in data
        assert "text/html" in data and "MailMe" in data
    finally:
        stop.set()
        srv.close()


def test_reload_and_receiver_filter(trine_factory, sink):
    t = start_am(trine_factory, WEBHOOK_CFG.format(url=sink.url))
    post_alerts(t, [alert("R1", team="db")])
    assert [a["labels"]["alertname"] for a in t.get("/api/v2/alerts", {"receiver": "ho.*"}).json()] == ["R1"]
    assert t.get("/api/v2/alerts", {"receiver": "other"}).json() == []
    assert [a["labels"]["alertname"] for a in t.get("/api/v2/alerts", {"filter": 'team=~"d."'}).json()] == ["R1"]
    # point the same file at a new tree and reload: receivers and routing follow
    am_path = t.config_path and open(t.config_path).read().split(": ", 1)[1].strip()
    with open(am_path, "w") as f:
        f.write(f"""
route:
  receiver: db-hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  routes: [{{matchers: ['team=db'], receiver: db-hook}}]
receivers:
  - name: db-hook
    webhook_configs: [{{url: '{sink.url}/db-hook'}}]
""")
    r = t.post("/-/reload")
    assert r.status == 200, r.text
    assert [x["name"] for x in t.get("/api/v2/receivers").json()] == ["db-hook"]
    assert t.get("/api/v2/alerts").json()[0]["receivers"] == [{"name": "db-hook"}]
    # the alert keeps flowing through the new tree
    wait_until(lambda: sink.got("/db-hook"), timeout=20, what="notification after reload")


TIME_CFG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  routes:
    - matchers: [alertname="Muted"]
      mute_time_intervals: [always]
    - matchers: [alertname="Inactive"]
      active_time_intervals: [long-ago]
receivers:
  - name: hook
    webhook_configs: [{{url: '{url}/hook'}}]
time_intervals:
  - name: always
    time_intervals: [{{weekdays: ['sunday:saturday']}}]
  - name: long-ago
    time_intervals: [{{years: ['2001']}}]
"""


def test_time_intervals_mute_routes(trine_factory, sink):
    t = start_am(trine_factory, TIME_CFG.format(url=sink.url))
    post_alerts(t, [alert("Muted"), alert("Inactive"), alert("Sent")])
    wait_until(lambda: sink.got("/hook"), timeout=20, what="the unmuted group")
    time.sleep(4)  # two more group intervals for the muted ones to (not) show up
    assert [m["groupLabels"]["alertname"] for m in sink.got("/hook")] == ["Sent"]
