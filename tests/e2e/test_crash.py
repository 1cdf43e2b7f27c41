# SPDX-License-Identifier: Apache-2.0
"""Acknowledged writes survive kill -9.

A writer thread imports batches (one new series per batch, fixed values) and
records which requests were acknowledged. trine is killed with SIGKILL at
random moments, five times, and restarted on the same data directory. After
each restart every acknowledged batch must be present and complete, and no
series may hold duplicated or altered samples."""
import random
import threading
import time

from conftest import http, wait_until

SAMPLES_PER_BATCH = 50
T0 = 1_700_000_000_000  # ms


def batch_text(b):
    lines = []
    for i in range(SAMPLES_PER_BATCH):
        lines.append(f'crash_test{{batch="{b}"}} {b * 1000 + i} {T0 + i * 15000}')
    return "\n".join(lines) + "\n"


class Writer(threading.Thread):
    def __init__(self, url, start_batch):
        super().__init__(daemon=True)
        self.url = url
        self.next = start_batch
        self.acked = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            b = self.next
            self.next += 1
            try:
                r = http("POST", self.url + "/api/v1/import/prometheus", batch_text(b).encode(),
                         timeout=5)
                if r.status in (200, 204):
                    self.acked.append(b)
            except Exception:  # noqa: BLE001 - the daemon was killed mid-request
                pass


def stored_batches(t):
    """batch -> list of (ts_ms, value) from a range-vector instant query."""
    end_s = (T0 + SAMPLES_PER_BATCH * 15000) / 1000
    data = t.api("/api/v1/query", {"query": "crash_test[1h]", "time": str(end_s)})
    assert data["resultType"] == "matrix"
    out = {}
    for s in data["result"]:
        b = int(s["metric"]["batch"])
        out[b] = [(round(float(ts) * 1000), float(v)) for ts, v in s["values"]]
    return out


def check(stored, acked):
    for b, pts in stored.items():
        ts = [p[0] for p in pts]
        assert len(ts) == len(set(ts)), f"batch {b} has duplicated timestamps"
        for t_ms, v in pts:
            i = (t_ms - T0) // 15000
            assert v == b * 1000 + i, f"batch {b} sample {i} corrupted: {v}"
    for b in acked:
        assert b in stored, f"acknowledged batch {b} lost"
        assert len(stored[b]) == SAMPLES_PER_BATCH, f"acknowledged batch {b} incomplete"


def test_kill9_keeps_every_acknowledged_write(trine_factory):
    t = trine_factory("storage:\n  wal_fsync: batch\n")
    rng = random.Random(42)
    acked = []
    next_batch = 0
    for _ in range(5):
        w = Writer(t.url, next_batch)
        w.start()
        wait_until(lambda: len(w.acked) >= 3, what="some acknowledged writes")
        time.sleep(rng.uniform(0.05, 0.5))
        t.kill9()
        w.stop.set()
        w.join(timeout=10)
        acked += w.acked
        next_batch = w.next
        started = time.monotonic()
        t.start()
        reopen_s = time.monotonic() - started
        assert reopen_s < 10, f"store took {reopen_s:.1f}s to reopen"
        check(stored_batches(t), acked)
    assert len(acked) >= 15
