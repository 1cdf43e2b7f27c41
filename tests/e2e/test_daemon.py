# SPDX-License-Identifier: Apache-2.0
"""The daemon itself: health, own metrics, limits, config errors, signals."""
import gzip
import os
import signal
import subprocess

from conftest import BINARY, http, wait_until


def test_health_endpoints(trine):
    for p in ("/ready", "/healthy", "/-/ready", "/-/healthy"):
        r = trine.get(p)
        assert r.status == 200, p


def test_unknown_path_is_404_and_wrong_method_405(trine):
    assert trine.get("/nope").status == 404
    assert trine.get("/-/reload").status == 405


def test_own_metrics_in_exposition_format(trine):
    trine.get("/ready")
    r = trine.get("/metrics")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    body = r.text
    assert "# TYPE trine_http_requests_total counter" in body
    assert 'trine_http_requests_total{handler="/ready",code="200"}' in body
    assert "trine_http_request_duration_seconds_bucket{" in body
    assert "process_resident_memory_bytes" in body
    assert "trine_head_series" in body
    assert "trine_wal_fsyncs_total" in body


def test_gzip_response_when_accepted(trine):
    r = trine.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.headers.get("Content-Encoding") == "gzip"
    assert b"trine_http_requests_total" in r.body


def test_request_over_limit_is_413(trine_factory):
    t = trine_factory("server:\n  max_request_bytes: 1KiB\n")
    r = t.post("/api/v1/import/prometheus", b"x" * 5000)
    assert r.status == 413, r.text
    assert "limit" in r.text
    # still serving
    assert t.get("/ready").status == 200
    m = t.get("/metrics").text
    assert 'trine_http_rejected_requests_total{reason="too_large"} 1' in m


def test_gzip_request_body_bomb_is_413(trine_factory):
    t = trine_factory("server:\n  max_request_bytes: 64KiB\n")
    bomb = gzip.compress(b"a" * (10 << 20))
    r = t.post("/api/v1/import/prometheus", bomb, {"Content-Encoding": "gzip"})
    assert r.status == 413, r.text


def test_bad_gzip_body_is_400(trine):
    r = trine.post("/api/v1/import/prometheus", b"\x1f\x8bnotgzip", {"Content-Encoding": "gzip"})
    assert r.status == 400, r.text
    assert "gzip" in r.text


def test_buildinfo_shape_for_grafana(trine):
    d = trine.api("/api/v1/status/buildinfo")
    for k in ("version", "revision", "branch", "buildUser", "buildDate", "goVersion"):
        assert k in d
    assert not d.get("features")


def test_status_config_returns_yaml(trine_factory):
    text = "storage:\n  retention: 7d\n"
    t = trine_factory(text)
    assert t.api("/api/v1/status/config")["yaml"] == text


def run(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)


def test_check_config_reports_file_line_col(tmp_path):
    cases = {
        "storage:\n  retention: 15x\n": ":2:14: not a valid duration string",
        "server:\n  listen: [1]\n": ":2:11: expected a string",
        "bogus: 1\n": ":1:1: unknown key \"bogus\" in the config file",
        "storage:\n  retension: 1d\n": ":2:3: unknown key \"retension\" in storage",
        "server: {listen: \"a\"\n": "did not find expected",
    }
    for text, want in cases.items():
        p = tmp_path / "c.yaml"
        p.write_text(text)
        r = run("check-config", str(p))
        assert r.returncode == 1, text
        assert want in r.stderr, (text, r.stderr)
        assert str(p) in r.stderr
    p = tmp_path / "ok.yaml"
    p.write_text("server:\n  listen: 127.0.0.1:0\nstorage:\n  retention: 15d\n")
    r = run("check-config", str(p))
    assert r.returncode == 0, r.stderr
    assert "SUCCESS" in r.stdout


def test_serve_with_bad_config_exits_nonzero(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("storage:\n  wal_fsync: sometimes\n")
    r = run("serve", "--config", str(p), "--data", str(tmp_path / "d"))
    assert r.returncode == 1
    assert "wal_fsync must be batch, interval or never" in r.stderr


def test_sigterm_exits_zero(trine):
    trine.proc.send_signal(signal.SIGTERM)
    assert trine.proc.wait(timeout=30) == 0
    assert '"msg":"stopped"' in trine.log()


def test_reload_via_http_and_sighup(trine_factory):
    t = trine_factory("storage:\n  retention: 7d\n")
    with open(t.config_path, "w") as f:
        f.write("storage:\n  retention: 8d\n")
    r = t.post("/-/reload")
    assert r.status == 200, r.text
    assert "8d" in t.api("/api/v1/status/config")["yaml"]
    with open(t.config_path, "w") as f:
        f.write("storage:\n  retention: 9d\n")
    t.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "9d" in t.api("/api/v1/status/config")["yaml"], what="SIGHUP reload")
    with open(t.config_path, "w") as f:
        f.write("nonsense: [\n")
    r = t.post("/-/reload")
    assert r.status == 500
    assert "9d" in t.api("/api/v1/status/config")["yaml"]  # old config kept
    assert t.get("/ready").status == 200


def test_version_command():
    r = run("version")
    assert r.returncode == 0
    assert r.stdout.startswith("trine, version ")


def test_logs_are_json_lines(trine):
    import json
    trine.stop()
    lines = [l for l in trine.log().splitlines() if l.strip()]
    assert lines
    for l in lines:
        obj = json.loads(l)
        for k in ("ts", "level", "component", "msg"):
            assert k in obj


def test_admin_flush_cuts_head_into_a_block(trine):
    import os
    t0 = 1_700_000_000_000
    trine.import_text("".join(f'flush_me{{i="{i % 3}"}} {i} {t0 + i * 15000}\n' for i in range(300)))
    r = trine.post("/api/v1/admin/tsdb/flush")
    assert r.status == 204, r.text
    mdir = os.path.join(trine.data_dir, "metrics")
    blocks = [d for d in os.listdir(mdir) if d not in ("wal",) and os.path.isdir(os.path.join(mdir, d))]
    assert blocks, os.listdir(mdir)
    d = trine.api("/api/v1/query", {"query": "count_over_time(flush_me[1d])",
                                   "time": str((t0 + 300 * 15000) / 1000)})
    assert sorted(float(s["value"][1]) for s in d["result"]) == [100.0, 100.0, 100.0]
    n_blocks = [float(l.split()[1]) for l in trine.get("/metrics").text.splitlines()
                if l.startswith("trine_blocks ")]
    assert n_blocks and n_blocks[0] >= 1


def test_backfill_of_old_data_goes_to_blocks(trine):
    """Samples ten days old (far outside the out-of-order window) imported
    after recent data: accepted, written as a block, queryable, and still
    there after a restart."""
    import os
    import time as _t
    now_ms = int(_t.time() * 1000)
    trine.import_text(f'recent_metric 1 {now_ms - 60000}\n')
    old = now_ms - 10 * 86400 * 1000
    old = old - old % 60000
    text = "".join(f'old_metric{{k="v"}} {i} {old + i * 60000}\n' for i in range(60))
    trine.import_text(text)
    mdir = os.path.join(trine.data_dir, "metrics")
    blocks = [d for d in os.listdir(mdir) if d != "wal" and os.path.isdir(os.path.join(mdir, d))]
    assert blocks, os.listdir(mdir)
    q = {"query": "old_metric[1h]", "time": str((old + 59 * 60000) / 1000)}
    d = trine.api("/api/v1/query", q)
    assert [float(v) for _, v in d["result"][0]["values"]] == [float(i) for i in range(60)]
    trine.restart()
    d = trine.api("/api/v1/query", q)
    assert len(d["result"][0]["values"]) == 60
