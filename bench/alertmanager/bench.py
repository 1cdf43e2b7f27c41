#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Alert-manager throughput: trine's built-in alert manager beside Debian's
Alertmanager (prometheus-alertmanager) in the same run, same config.

  1. ingest: N alerts (unique label sets) POSTed to /api/v2/alerts in
     batches of B from C client threads; reports accepted alerts/s.
  2. dispatch: M more alerts, each its own group (group_by: ['...'],
     group_wait 1s), routed to a webhook on a loopback sink (the ingest
     alerts go to a receiver without integrations); reports
     notifications/s from the first to the last webhook received. (With
     group_wait 0s Alertmanager 0.25 can flush a new group before its first
     alert is in it and then wait a whole group_interval, so group_wait is
     1s and group_interval 5s, which keeps such stragglers from dominating.)

Usage: bench/alertmanager/bench.py [--alerts 20000] [--batch 500]
       [--notify 2000] [--trine build/release/trine]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = []
        sink = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink.lock:
                    sink.times.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


def wait_ready(url, proc, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: exited {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/api/v2/status", timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url}: not ready")


def post(url, body):
    req = urllib.request.Request(url + "/api/v2/alerts", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()


def ingest(url, n, batch, prefix, threads=4):
    bodies = []
    for start in range(0, n, batch):
        bodies.append(json.dumps([{"labels": {"alertname": "Bench", "instance": f"{prefix}-{i}",
                                              "severity": "warning", "phase": prefix},
                                   "annotations": {"summary": "benchmark alert"}}
                                  for i in range(start, min(n, start + batch))]).encode())
    t0 = time.monotonic()
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(lambda b: post(url, b), bodies))
    return n / (time.monotonic() - t0)


def run(name, cmd, url, sink, args):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(url, proc)
        rate_in = ingest(url, args.alerts, args.batch, "ingest")
        with sink.lock:
            sink.times.clear()
        t0 = time.monotonic()
        ingest(url, args.notify, args.batch, "notify")
        end = time.monotonic() + 120
        while time.monotonic() < end:
            with sink.lock:
                got = len(sink.times)
            if got >= args.notify:
                break
            time.sleep(0.2)
        with sink.lock:
            times = list(sink.times)
        span = (times[-1] - times[0]) if len(times) > 1 else float("nan")
        rate_out = (len(times) - 1) / span if len(times) > 1 else 0.0
        print(f"{name:<22} ingest {rate_in:10.0f} alerts/s   dispatch {rate_out:8.0f} notifications/s "
              f"({len(times)}/{args.notify} in {span:.1f}s)")
        return rate_in, rate_out
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--notify", type=int, default=2000)
    ap.add_argument("--trine", default=os.environ.get("TRINE_BIN", os.path.join(ROOT, "build", "release", "trine")))
    args = ap.parse_args()
    sink = Sink()
    tmp = tempfile.mkdtemp(prefix="am-bench-")
    cfg = os.path.join(tmp, "am.yml")
    with open(cfg, "w") as f:
        f.write(f"""route:
  receiver: discard
  group_by: ['...']
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
  routes:
    - matchers: ['phase="notify"']
      receiver: hook
receivers:
  - name: discard
  - name: hook
    webhook_configs: [{{url: 'http://127.0.0.1:{sink.port}/hook', send_resolved: false}}]
""")
    trine_cfg = os.path.join(tmp, "trine.yml")
    with open(trine_cfg, "w") as f:
        f.write(f"alertmanager_config: {cfg}\n")
    results = {}
    port = free_port()
    results["trine"] = run("trine", [args.trine, "serve", "--listen", f"127.0.0.1:{port}", "--data",
                                     os.path.join(tmp, "trine-data"), "--config", trine_cfg],
                           f"http://127.0.0.1:{port}", sink, args)
    am = shutil.which("prometheus-alertmanager")
    if am:
        port = free_port()
        results["alertmanager"] = run("alertmanager 0.25", [am, f"--config.file={cfg}",
                                       f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                                       f"--storage.path={os.path.join(tmp, 'am-data')}"],
                                      f"http://127.0.0.1:{port}", sink, args)
    else:
        print("prometheus-alertmanager not installed (scripts/install-deps --peers)", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
