# SPDX-License-Identifier: Apache-2.0
"""A real Prometheus (Debian's package) scrapes itself and remote_writes to
trine; over a window that has been fully delivered, trine holds the same
series and the same number of samples as Prometheus's own TSDB."""
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import free_port, http, wait_until

PROMETHEUS = shutil.which("prometheus")


@pytest.mark.skipif(PROMETHEUS is None, reason="scripts/install-deps --peers installs prometheus")
def test_prometheus_remote_write_matches_its_own_tsdb(trine):
    tmp = tempfile.mkdtemp(prefix="prom-e2e-")
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs: [{{targets: ['127.0.0.1:{port}']}}]
remote_write:
  - url: {trine.url}/api/v1/write
    queue_config: {{batch_send_deadline: 1s, max_backoff: 1s}}
""")
    log = open(os.path.join(tmp, "prometheus.log"), "wb")
    prom = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log,
                            stderr=subprocess.STDOUT)
    purl = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http("GET", purl + "/-/ready", timeout=2).status == 200,
                   timeout=30, what="prometheus ready")
        # Prometheus's discovery hands targets over after ~5s; wait for the
        # first scrape, let a few more happen, then pick a closed window.
        wait_until(lambda: http("GET", purl + "/api/v1/query?query=up").json()["data"]["result"],
                   timeout=30, what="prometheus first scrape")
        t_start = time.time()
        wait_until(lambda: time.time() > t_start + 6, timeout=10)
        t_end = time.time() - 2
        window = "4s"

        def counts(url):
            """labels -> number of samples in the window, from a range-vector query."""
            q = urllib.parse.urlencode({"query": f'{{job="self"}}[{window}]', "time": f"{t_end:.3f}"})
            r = http("GET", url + "/api/v1/query?" + q).json()
            assert r["status"] == "success", r
            return {tuple(sorted(s["metric"].items())): len(s["values"]) for s in r["data"]["result"]}

        want = counts(purl)
        assert len(want) > 100 and sum(want.values()) > len(want)
        got = wait_until(lambda: (lambda c: c if c == want else None)(counts(trine.url)),
                         timeout=30, what=f"trine to hold the same {len(want)} series")
        assert got == want
    finally:
        prom.terminate()
        prom.wait(timeout=30)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
