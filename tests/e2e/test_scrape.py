# SPDX-License-Identifier: Apache-2.0
"""Scraping end to end: trine scrapes a real exporter (Debian's
prometheus-node-exporter on a loopback port, a few collectors), `up` is 1
and the node series are stored; when the exporter stops, `up` goes to 0 and
the node series get staleness markers (an instant query no longer returns
them). file_sd targets follow their file; a reload that removes the job
marks its series stale; /api/v1/targets has Prometheus's shape and honours
the state filter. Intervals are 1s; everything polls with deadlines.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import free_port, http, wait_until

NODE_EXPORTER = shutil.which("prometheus-node-exporter")


class NodeExporter:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{self.port}",
             "--collector.disable-defaults", "--collector.loadavg", "--collector.meminfo",
             "--collector.time"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: http("GET", f"http://127.0.0.1:{self.port}/metrics", timeout=2).status == 200,
                   what="node exporter /metrics")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def node_exporter():
    if not NODE_EXPORTER:
        pytest.skip("prometheus-node-exporter is not installed (scripts/install-deps --peers)")
    e = NodeExporter()
    yield e
    e.stop()


def targets(t, **params):
    return t.api("/api/v1/targets", params or None)


def active_health(t, job):
    for a in targets(t)["activeTargets"]:
        if a["scrapePool"] == job:
            return a["health"]
    return None


def has_query_api(t):
    return t.get("/api/v1/query", {"query": "1"}).status != 404


def instant(t, q):
    return t.api("/api/v1/query", {"query": q})["result"]


def series(t, match):
    now = time.time()
    return t.api("/api/v1/series", {"match[]": match, "start": str(now - 600), "end": str(now + 60)})


def node_config(address, extra=""):
    return f"""
scrape_configs:
  - job_name: node
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ['{address}']
        labels: {{env: e2e}}
{extra}"""


def test_scrape_node_exporter_up_then_stale(trine_factory, node_exporter):
    t = trine_factory(node_config(node_exporter.address))
    wait_until(lambda: active_health(t, "node") == "up", what="target up")
    # The node series and the synthetic ones are stored with the target labels.
    got = wait_until(lambda: series(t, "node_load1"), what="node_load1 series")
    assert got[0]["job"] == "node" and got[0]["instance"] == node_exporter.address
    assert got[0]["env"] == "e2e"
    for name in ("up", "scrape_duration_seconds", "scrape_samples_scraped",
                 "scrape_samples_post_metric_relabeling", "scrape_series_added"):
        wait_until(lambda: series(t, f'{name}{{job="node"}}'), what=f"{name} series")
    if has_query_api(t):
        wait_until(lambda: [r for r in instant(t, 'up{job="node"}') if r["value"][1] == "1"],
                   what="up == 1")
        assert instant(t, "node_load1")

    node_exporter.stop()
    wait_until(lambda: active_health(t, "node") == "down", what="target down")
    target = [a for a in targets(t)["activeTargets"] if a["scrapePool"] == "node"][0]
    assert target["lastError"] != ""
    if has_query_api(t):
        wait_until(lambda: [r for r in instant(t, 'up{job="node"}') if r["value"][1] == "0"],
                   what="up == 0")
        # Staleness markers: the node series vanish from instant queries at once.
        wait_until(lambda: instant(t, "node_load1") == [], timeout=10, what="node_load1 stale")
        assert instant(t, "scrape_samples_scraped{job=\"node\"}")[0]["value"][1] == "0"


def test_targets_api_shape_and_state_filter(trine_factory, node_exporter):
    cfg = node_config(node_exporter.address, """
  - job_name: dropper
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:1']
    relabel_configs:
      - source_labels: [__address__]
        regex: '127\\.0\\.0\\.1:1'
        action: drop
""")
    t = trine_factory(cfg)
    wait_until(lambda: active_health(t, "node") == "up", what="target up")
    data = targets(t)
    assert set(data) >= {"activeTargets", "droppedTargets"}
    [a] = data["activeTargets"]
    assert set(a) >= {"discoveredLabels", "labels", "scrapePool", "scrapeUrl", "globalUrl",
                      "lastError", "lastScrape", "lastScrapeDuration", "health",
                      "scrapeInterval", "scrapeTimeout"}
    assert a["labels"] == {"env": "e2e", "instance": node_exporter.address, "job": "node"}
    assert a["discoveredLabels"]["__address__"] == node_exporter.address
    assert a["discoveredLabels"]["__metrics_path__"] == "/metrics"
    assert a["discoveredLabels"]["__scheme__"] == "http"
    assert a["discoveredLabels"]["job"] == "node"
    assert a["scrapeUrl"] == f"http://{node_exporter.address}/metrics"
    assert a["scrapeInterval"] == "1s" and a["scrapeTimeout"] == "1s"
    assert a["health"] == "up" and a["lastError"] == ""
    assert a["lastScrape"].endswith("Z") and a["lastScrape"][:2] == "20"
    assert isinstance(a["lastScrapeDuration"], (int, float))
    [d] = data["droppedTargets"]
    assert d["discoveredLabels"]["__address__"] == "127.0.0.1:1"
    assert data["droppedTargetCounts"] == {"dropper": 1, "node": 0}

    active_only = targets(t, state="active")
    assert len(active_only["activeTargets"]) == 1 and active_only["droppedTargets"] == []
    dropped_only = targets(t, state="dropped")
    assert dropped_only["activeTargets"] == [] and len(dropped_only["droppedTargets"]) == 1
    assert targets(t, scrapePool="dropper")["activeTargets"] == []


def test_file_sd_follows_file_changes(trine_factory, node_exporter):
    tmp = tempfile.mkdtemp(prefix="trine-sd-")
    sd = os.path.join(tmp, "targets.json")

    def write(groups):
        with open(sd + ".tmp", "w") as f:
            json.dump(groups, f)
        os.rename(sd + ".tmp", sd)

    write([{"targets": [node_exporter.address], "labels": {"team": "a"}}])
    t = trine_factory(f"""
scrape_configs:
  - job_name: files
    scrape_interval: 1s
    scrape_timeout: 1s
    file_sd_configs:
      - files: ['{tmp}/*.json']
""")
    wait_until(lambda: [a for a in targets(t)["activeTargets"]
                        if a["labels"].get("team") == "a" and a["health"] == "up"],
               what="file_sd target up")
    assert targets(t)["activeTargets"][0]["discoveredLabels"]["__meta_filepath"] == sd
    write([{"targets": [node_exporter.address], "labels": {"team": "b"}}])
    wait_until(lambda: [a for a in targets(t)["activeTargets"]
                        if a["labels"].get("team") == "b" and a["health"] == "up"],
               what="target relabeled by the file change")
    assert [a for a in targets(t)["activeTargets"] if a["labels"].get("team") == "a"] == []
    wait_until(lambda: series(t, 'node_load1{team="b"}'), what="series with the new label")
    if has_query_api(t):
        wait_until(lambda: instant(t, 'node_load1{team="a"}') == [], what="old series stale")
    shutil.rmtree(tmp)


def test_reload_removes_job_with_staleness(trine_factory, node_exporter):
    t = trine_factory(node_config(node_exporter.address))
    wait_until(lambda: active_health(t, "node") == "up", what="target up")
    with open(t.config_path, "w") as f:
        f.write("scrape_configs: []\n")
    t.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: targets(t)["activeTargets"] == [], what="job removed on reload")
    if has_query_api(t):
        wait_until(lambda: instant(t, 'up{job="node"}') == [], what="up stale after removal")
        assert instant(t, "node_load1") == []
