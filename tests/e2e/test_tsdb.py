# SPDX-License-Identifier: Apache-2.0
"""The metrics store through the real daemon: POST /api/v1/admin/tsdb/flush
cuts the head into a block (and truncates the WAL), data stays queryable
across the flush, a graceful restart, and a kill -9 with samples both in
blocks and in the head; out-of-order samples and rewrites of a timestamp
(last write wins) survive flush and kill -9. Stale markers are covered by the
unit tests (the text formats cannot carry the marker's NaN payload)."""
import os
import time

SERIES = 20
STEP_MS = 15000


def now_ms():
    return int(time.time() * 1000) // STEP_MS * STEP_MS


def exposition(t0, n, value_base=0.0):
    lines = []
    for s in range(SERIES):
        for i in range(n):
            lines.append(f'tsdb_e2e{{s="{s:02d}"}} {value_base + s * 1000 + i} {t0 + i * STEP_MS}')
    return "\n".join(lines) + "\n"


def series_points(t, t_end_ms, window="2h"):
    data = t.api("/api/v1/query", {"query": f"tsdb_e2e[{window}]", "time": str(t_end_ms / 1000)})
    assert data["resultType"] == "matrix"
    out = {}
    for s in data["result"]:
        out[s["metric"]["s"]] = [(round(float(ts) * 1000), float(v)) for ts, v in s["values"]]
    return out


def expect(points, t0, n, base=0.0, offset=0):
    assert len(points) == SERIES, sorted(points)
    for s in range(SERIES):
        got = points[f"{s:02d}"][offset:offset + n]
        want = [(t0 + i * STEP_MS, base + s * 1000 + i) for i in range(n)]
        assert got == want, (s, got[:3], want[:3])


def blocks(t):
    d = os.path.join(t.data_dir, "metrics", "blocks")
    return sorted(f for f in os.listdir(d) if f.endswith(".blk")) if os.path.isdir(d) else []


def test_flush_restart_and_kill9(trine):
    t0 = now_ms() - 40 * STEP_MS
    trine.import_text(exposition(t0, 20))
    end = t0 + 19 * STEP_MS
    expect(series_points(trine, end), t0, 20)

    r = trine.post("/api/v1/admin/tsdb/flush")
    assert r.status == 204, r.text
    assert len(blocks(trine)) == 1
    wal = os.listdir(os.path.join(trine.data_dir, "metrics", "wal"))
    assert any(f.startswith("checkpoint.") for f in wal), wal
    expect(series_points(trine, end), t0, 20)

    # More samples into the head, on top of the block.
    t1 = t0 + 20 * STEP_MS
    trine.import_text(exposition(t1, 20, value_base=20))
    end2 = t1 + 19 * STEP_MS
    pts = series_points(trine, end2)
    expect(pts, t0, 40)

    trine.restart()
    expect(series_points(trine, end2), t0, 40)

    trine.kill9()
    trine.start()
    expect(series_points(trine, end2), t0, 40)
    status = trine.api("/api/v1/status/tsdb")
    assert status["headStats"]["numSeries"] == SERIES


def test_out_of_order_and_rewrites(trine):
    t0 = now_ms() - 10 * STEP_MS
    # In-order samples, then an older one (out of order) and a re-write of a
    # timestamp (last write wins).
    body = "".join(f'ooo_e2e 1{i} {t0 + i * STEP_MS}\n' for i in range(0, 8, 2))
    trine.import_text(body)
    trine.import_text(f"ooo_e2e 99 {t0 + STEP_MS}\n")
    trine.import_text(f"ooo_e2e 77 {t0 + 2 * STEP_MS}\n")
    end = (t0 + 6 * STEP_MS) / 1000

    def values():
        d = trine.api("/api/v1/query", {"query": "ooo_e2e[10m]", "time": str(end)})
        return [(round(float(ts) * 1000) - t0, v) for ts, v in d["result"][0]["values"]]

    want = [(0, "10"), (STEP_MS, "99"), (2 * STEP_MS, "77"), (4 * STEP_MS, "14"),
            (6 * STEP_MS, "16")]
    assert values() == want
    assert trine.post("/api/v1/admin/tsdb/flush").status == 204
    assert values() == want
    trine.kill9()
    trine.start()
    assert values() == want
