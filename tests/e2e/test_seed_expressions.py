# SPDX-License-Identifier: Apache-2.0
"""Every PromQL expression of the seed, evaluated over hand-made data.

The expressions are read from the seed at test time: every `expr` of
../shared/seed/hypersdk/prometheusrule.yaml (recording and alerting rules;
the `{{ }}` templates live in annotations, not in exprs) and every target
`expr` of grafana-dashboard-overview.json (all PromQL; the LogQL of the logs
dashboard is not metrics and is not here). The data and the expected
answers are designed here by hand: a few series per metric, written once
through POST /api/v1/write as a real protobuf+snappy body, with values
chosen so each result follows from a line of arithmetic (the comments show
it). Each expression must parse (/api/v1/format_query), and give exactly
the expected result set for an instant query at T (what a rule evaluation
sees) and for a range query over three steps (what a dashboard panel sees).

The Prometheus semantics relied on, from Prometheus's docs and source
(promql/functions.go extrapolatedRate, promql/quantile.go BucketQuantile):
- rate(): take the samples inside the window; increase = last - first plus
  the value before each counter reset; extrapolate to the window edges when
  the first/last sample is closer than 1.1 average sample gaps to the edge,
  else only half a gap; since Prometheus 2.51 the start is further limited
  to where the counter would reach zero, *after* the half-gap rule (before
  2.51 the zero point was applied first); divide by the range in seconds.
  Fewer than two samples give no result.
- histogram_quantile(): rank = q * count(+Inf); the first bucket whose
  cumulative count >= rank holds the answer, interpolated linearly from the
  previous bucket's bound (0 for the first bucket); a rank in the +Inf
  bucket returns the highest finite bound.
- an instant selector returns each series' newest sample at most 5m old.
- arithmetic drops __name__, comparisons without `bool` filter and keep it.
No sample lies on a window or lookback edge, so the answers do not depend
on whether a window is left-closed (Prometheus 2) or left-open (3).

When Debian's prometheus binary is installed, the same body is written to
it (--web.enable-remote-write-receiver) and every answer is checked there
too, including its formatting of the expression.
"""
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import SHARED, free_port, http, wait_until
from promwrite import send, write_request

pytest.importorskip("snappy", reason="python3-snappy not installed")
yaml = pytest.importorskip("yaml", reason="python3-yaml not installed")

SEED = os.path.join(SHARED, "seed", "hypersdk")
PROMETHEUS = shutil.which("prometheus")

# --- time layout -----------------------------------------------------------
#
# Samples every 15 s at t(k) = T0 + 15k for k = 0..40, i.e. T0 .. T0+600.
# T0 is hour-aligned and 2-3 h in the past, so it is inside every retention
# and fixed for the whole run. Instant queries at T = T0+605: the [5m] window
# is (T0+305, T0+605], holding k = 21..40 (T0+315 .. T0+600): first sample
# 10 s after the window start, last 5 s before its end, both closer than
# 1.1 * 15 s, so a counter growing linearly is extrapolated over exactly
# 300 s and rate() gives its slope. Range queries: T0+485, T0+545, T0+605
# (step 60 s); their windows hold k = 13..32, 17..36, 21..40 - the same
# shape, so linear counters give the same rate at every step.

T0 = (int(time.time()) // 3600 - 2) * 3600
T = T0 + 605
STEPS = (T0 + 485, T0 + 545, T0 + 605)
K = range(0, 41)


def at(k):
    return (T0 + 15 * k) * 1000


def samples(fn, ks=K):
    return [(float(fn(k)), at(k)) for k in ks]


def series():
    """(labels, samples) of everything written."""
    s = []

    def add(name, labels, fn, ks=K):
        s.append(([("__name__", name)] + sorted(labels.items()), samples(fn, ks)))

    job = {"job": "hypersdk"}
    http_ = dict(job, handler="/api/v1/jobs")
    # per 15 s: +30 (2/s), +7.5 (0.5/s), +1.5 (0.1/s), +1 every other step.
    add("hypersdk_http_requests_total", dict(http_, status="200"), lambda k: 1000 + 30 * k)
    add("hypersdk_http_requests_total", dict(http_, status="404"), lambda k: 7.5 * k)
    add("hypersdk_http_requests_total", dict(http_, status="500"), lambda k: 40 + 1.5 * k)
    add("hypersdk_http_requests_total", dict(http_, status="503"), lambda k: k // 2)

    add("hypersdk_jobs_completed_total", dict(job, provider="vmware"), lambda k: 7.5 * k)
    add("hypersdk_jobs_completed_total", dict(job, provider="aws"), lambda k: 3.75 * k)
    # hyperv stops reporting after k = 21 (T0+315).
    add("hypersdk_jobs_completed_total", dict(job, provider="hyperv"), lambda k: 2 * k, range(0, 22))

    # vmware: +3 per 15 s, the process restarts between k = 29 and 30
    # (50+3*29 = 137, then 3*(k-29)).
    add("hypersdk_jobs_failed_total", dict(job, provider="vmware"),
        lambda k: 50 + 3 * k if k <= 29 else 3 * (k - 29))
    add("hypersdk_jobs_failed_total", dict(job, provider="aws"), lambda k: 0.75 * k)

    # A gauge named like the histogram family: a classic histogram only has
    # _bucket/_sum/_count series, so without this the seed's avg() is empty.
    for provider, v in (("vmware", 12), ("aws", 30), ("hyperv", 48)):
        add("hypersdk_export_duration_seconds", dict(job, provider=provider), lambda k, v=v: v)

    add("hypersdk_active_jobs", dict(job, provider="vmware", pod="pod-a"),
        lambda k: 1 if k <= 33 else 3)                       # 3 from T0+510 on
    add("hypersdk_active_jobs", dict(job, provider="vmware", pod="pod-b"), lambda k: 4)
    add("hypersdk_active_jobs", dict(job, provider="aws", pod="pod-c"), lambda k: 2)
    add("hypersdk_active_jobs", dict(job, provider="aws", pod="pod-d"), lambda k: 5,
        range(0, 17))                                        # last sample T0+240

    # Cumulative bucket counters, increments per 15 s for le = 1, 5, 10, 30, +Inf.
    buckets = {"vmware": (3, 9, 15, 18, 18), "aws": (15, 15, 15, 15, 15),
               "hyperv": (0, 0, 0, 1.5, 15)}
    for provider, incs in buckets.items():
        for le, inc in zip(("1", "5", "10", "30", "+Inf"), incs):
            add("hypersdk_export_duration_seconds_bucket", dict(job, provider=provider, le=le),
                lambda k, inc=inc: inc * k)

    add("up", dict(job, pod="hypersdk-0"), lambda k: 1)
    add("up", dict(job, pod="hypersdk-1"), lambda k: 1 if k <= 33 else 0)  # down from T0+510
    add("up", {"job": "node", "pod": "node-0"}, lambda k: 0)

    mem = {"namespace": "hypersdk", "container": "hypersdk"}
    for pod, usage in (("hypersdk-0", 1.9e9), ("hypersdk-1", 1.0e9), ("hypersdk-2", 1.99e9),
                       ("not-hypersdk-0", 1.95e9)):
        add("container_memory_usage_bytes", dict(mem, pod=pod), lambda k, u=usage: u)
    for pod in ("hypersdk-0", "hypersdk-1", "not-hypersdk-0"):    # none for hypersdk-2
        add("container_spec_memory_limit_bytes", dict(mem, pod=pod), lambda k: 2e9)

    add("hypersdk_database_errors_total", dict(job, instance="db-a"), lambda k: 3)
    # db-b and db-c appear at k = 32 (T0+480): 1, 4, 7, ... and 1, 2, 3, ...
    add("hypersdk_database_errors_total", dict(job, instance="db-b"), lambda k: 1 + 3 * (k - 32),
        range(32, 41))
    add("hypersdk_database_errors_total", dict(job, instance="db-c"), lambda k: 1 + (k - 32),
        range(32, 41))
    return s


SERIES = series()

# --- expected answers ------------------------------------------------------
#
# Per expression: the result of the instant query at T and of the range
# query over STEPS, as {labels: value} and {labels: {step: value}}. `const`
# is a series with the same value at the three steps. Labels are written
# as a dict; L() freezes them.


def L(**kv):
    return frozenset(kv.items())


def const(v):
    return {t: v for t in STEPS}


HTTP = {"job": "hypersdk", "handler": "/api/v1/jobs"}
J = {"job": "hypersdk"}
MEM = {"namespace": "hypersdk", "container": "hypersdk"}

# rate(hypersdk_http_requests_total[5m]): linear counters give their slope:
#   200: 30 * 19 = 570 over the 285 s from k=21 to k=40, extrapolated by
#        300/285 -> 600 per 300 s = 2; 404: 7.5/15 = 0.5; 500: 1.5/15 = 0.1.
#   503 (k//2): k=21 -> 10, k=40 -> 20, increase 10 over 285 s, extrapolated
#        to 300 s: 10*300/285, rate = 10/285 = 0.0350877 (at every step: the
#        windows k=13..32 and 17..36 also see 16-6 = 18-8 = 10).
HTTP_RATES = {"200": 2.0, "404": 0.5, "500": 0.1, "503": 10 / 285}

# hypersdk_jobs_completed_total{provider="hyperv"} ends at k=21:
#   at T0+485 window k=13..21: 9 samples, sampled 120 s, increase 2*8 = 16,
#     start gap 10 s (< 16.5: to the edge), end gap T0+485-T0+315 = 170 s
#     (>= 16.5: half a gap, 7.5 s) -> 16 * (120+10+7.5)/120 / 300 = 0.0611111
#   at T0+545 window k=17..21: 5 samples, sampled 60 s, increase 8
#     -> 8 * (60+10+7.5)/60 / 300 = 0.0344444
#   at T: only k=21 is inside -> one sample, no result.
HYPERV_COMPLETED = {STEPS[0]: 16 * 137.5 / 120 / 300, STEPS[1]: 8 * 77.5 / 60 / 300}

# hypersdk_jobs_failed_total{provider="vmware"} with its restart: window k=21..40
# at T: first 50+63 = 113, last 3*11 = 33, reset adds 137: 33-113+137 = 57
# = 3*19, rate 57*(300/285)/300 = 0.2 (the other windows contain the reset
# too and give 0.2 alike); aws: 0.75/15 = 0.05.
FAILED = {L(provider="vmware", **J): 0.2, L(provider="aws", **J): 0.05}

# hypersdk_database_errors_total: db-a is flat (rate 0); db-b, db-c start at k=32.
#   db-b at T: k=32..40 = 1..25, increase 24, sampled 120 s, avg gap 15 s.
#     Start gap T0+480-(T0+305) = 175 s >= 16.5 -> half a gap, 7.5 s; the zero
#     point is 120*1/24 = 5 s before the first sample, nearer -> 5 s. End gap
#     5 s. 24 * (120+5+5)/120 = 26 -> rate 26/300 = 0.0866667.
#     At T0+545 (k=32..36 = 1..13): 12 * (60+5+5)/60 = 14 -> 14/300 = 0.0466667.
#     At T0+485 only k=32 is inside: no result.
#   db-c at T: k=32..40 = 1..9, increase 8; zero point 120*1/8 = 15 s back,
#     farther than the half gap 7.5 s -> 7.5 s: 8 * (120+7.5+5)/120 = 8.8333
#     -> 0.0294444. At T0+545 (1..5): 4 * (60+7.5+5)/60 = 4.8333 -> 0.0161111.
#     Prometheus before 2.51 took the zero point (15 s < 16.5) first:
#     8*140/120/300 = 0.0311111 and 4*80/60/300 = 0.0177778.
DB_B = {STEPS[1]: 14 / 300, STEPS[2]: 26 / 300}
DB_C = {STEPS[1]: 4 * 72.5 / 60 / 300, STEPS[2]: 8 * 132.5 / 120 / 300}
DB_C_BEFORE_2_51 = {STEPS[1]: 4 * 80 / 60 / 300, STEPS[2]: 8 * 140 / 120 / 300}

EXPECTED = {
    "rate(hypersdk_jobs_completed_total[5m])": {
        # 7.5/15 = 0.5, 3.75/15 = 0.25; hyperv see HYPERV_COMPLETED.
        "instant": {L(provider="vmware", **J): 0.5, L(provider="aws", **J): 0.25},
        "range": {L(provider="vmware", **J): const(0.5), L(provider="aws", **J): const(0.25),
                  L(provider="hyperv", **J): HYPERV_COMPLETED},
    },
    "rate(hypersdk_jobs_failed_total[5m])": {
        "instant": FAILED,
        "range": {ls: const(v) for ls, v in FAILED.items()},
    },
    "avg(hypersdk_export_duration_seconds)": {
        # (12 + 30 + 48) / 3 = 30; aggregation drops every label.
        "instant": {L(): 30.0},
        "range": {L(): const(30.0)},
    },
    "sum(hypersdk_active_jobs) by (provider)": {
        # T: vmware pod-a 3 + pod-b 4 = 7; aws pod-c 2 (pod-d's last sample,
        # T0+240, is older than 5m). T0+485: pod-a still 1 (its T0+480
        # sample) -> vmware 5; pod-d's T0+240 is within (T0+185, T0+485] ->
        # aws 2 + 5 = 7. T0+545: pod-d gone (240 < 245) -> aws 2, vmware 7.
        "instant": {L(provider="vmware"): 7.0, L(provider="aws"): 2.0},
        "range": {L(provider="vmware"): {STEPS[0]: 5.0, STEPS[1]: 7.0, STEPS[2]: 7.0},
                  L(provider="aws"): {STEPS[0]: 7.0, STEPS[1]: 2.0, STEPS[2]: 2.0}},
    },
    'rate(hypersdk_http_requests_total{status=~"5.."}[5m]) > 0.05': {
        # 500: 0.1 > 0.05 stays; 503: 0.0351 is dropped; 200/404 don't match.
        "instant": {L(status="500", **HTTP): 0.1},
        "range": {L(status="500", **HTTP): const(0.1)},
    },
    "rate(hypersdk_jobs_failed_total[5m]) > 0.1": {
        # vmware 0.2 > 0.1 (restart and all); aws 0.05 is dropped.
        "instant": {L(provider="vmware", **J): 0.2},
        "range": {L(provider="vmware", **J): const(0.2)},
    },
    'up{job="hypersdk"} == 0': {
        # hypersdk-1 is 0 from T0+510 on: not at T0+485 (its T0+480 sample is
        # 1), yes at T0+545 and T. node-0 is 0 but job="node". `==` keeps
        # __name__.
        "instant": {L(__name__="up", pod="hypersdk-1", **J): 0.0},
        "range": {L(__name__="up", pod="hypersdk-1", **J): {STEPS[1]: 0.0, STEPS[2]: 0.0}},
    },
    'container_memory_usage_bytes{pod=~"hypersdk-.*"} / '
    'container_spec_memory_limit_bytes{pod=~"hypersdk-.*"} > 0.9': {
        # hypersdk-0: 1.9e9 / 2e9 = 0.95 > 0.9; hypersdk-1: 0.5; hypersdk-2
        # has no limit series to match; not-hypersdk-0 (0.975) fails the
        # anchored regex. Division drops __name__.
        "instant": {L(pod="hypersdk-0", **MEM): 0.95},
        "range": {L(pod="hypersdk-0", **MEM): const(0.95)},
    },
    "rate(hypersdk_database_errors_total[5m]) > 0.01": {
        # db-a: rate 0, dropped; db-b, db-c: see DB_B, DB_C.
        "instant": {L(instance="db-b", **J): DB_B[T], L(instance="db-c", **J): DB_C[T]},
        "range": {L(instance="db-b", **J): DB_B, L(instance="db-c", **J): DB_C},
        "before_2_51": {L(instance="db-c", **J): DB_C_BEFORE_2_51},
    },
    "rate(hypersdk_http_requests_total[5m])": {
        "instant": {L(status=s, **HTTP): v for s, v in HTTP_RATES.items()},
        "range": {L(status=s, **HTTP): const(v) for s, v in HTTP_RATES.items()},
    },
    'rate(hypersdk_http_requests_total{status=~"5.."}[5m])': {
        "instant": {L(status=s, **HTTP): HTTP_RATES[s] for s in ("500", "503")},
        "range": {L(status=s, **HTTP): const(HTTP_RATES[s]) for s in ("500", "503")},
    },
    "hypersdk_active_jobs": {
        # Newest sample at most 5m old, labels as written (see the sum above).
        "instant": {L(__name__="hypersdk_active_jobs", provider="vmware", pod="pod-a", **J): 3.0,
                    L(__name__="hypersdk_active_jobs", provider="vmware", pod="pod-b", **J): 4.0,
                    L(__name__="hypersdk_active_jobs", provider="aws", pod="pod-c", **J): 2.0},
        "range": {L(__name__="hypersdk_active_jobs", provider="vmware", pod="pod-a", **J):
                  {STEPS[0]: 1.0, STEPS[1]: 3.0, STEPS[2]: 3.0},
                  L(__name__="hypersdk_active_jobs", provider="vmware", pod="pod-b", **J): const(4.0),
                  L(__name__="hypersdk_active_jobs", provider="aws", pod="pod-c", **J): const(2.0),
                  L(__name__="hypersdk_active_jobs", provider="aws", pod="pod-d", **J):
                  {STEPS[0]: 5.0}},
    },
    "histogram_quantile(0.95, rate(hypersdk_export_duration_seconds_bucket[5m]))": {
        # Bucket rates = increments/15.
        # vmware: le 1: 0.2, 5: 0.6, 10: 1.0, 30: 1.2, +Inf: 1.2. rank
        #   0.95*1.2 = 1.14 -> bucket (10, 30] holding 1.2-1.0 = 0.2:
        #   10 + 20 * (1.14-1.0)/0.2 = 10 + 14 = 24.
        # aws: every bucket 1.0, rank 0.95 in (0, 1]: 0 + 1 * 0.95/1.0 = 0.95.
        # hyperv: 0, 0, 0, 0.1, +Inf 1.0; rank 0.95 > 0.1 falls in +Inf ->
        #   the highest finite bound, 30.
        "instant": {L(provider="vmware", **J): 24.0, L(provider="aws", **J): 0.95,
                    L(provider="hyperv", **J): 30.0},
        "range": {L(provider="vmware", **J): const(24.0), L(provider="aws", **J): const(0.95),
                  L(provider="hyperv", **J): const(30.0)},
    },
}


def norm(expr):
    return " ".join(expr.split())


def seed_expressions():
    """(id, expr) of every PromQL expression in the seed, in seed order."""
    out = []
    with open(os.path.join(SEED, "prometheusrule.yaml")) as f:
        doc = yaml.safe_load(f)
    for group in doc["spec"]["groups"]:
        for rule in group["rules"]:
            out.append((rule.get("record") or rule.get("alert"), rule["expr"]))
    with open(os.path.join(SEED, "grafana-dashboard-overview.json")) as f:
        dash = json.load(f)
    for panel in dash.get("dashboard", dash)["panels"]:
        for target in panel.get("targets", []):
            ds = target.get("datasource") or panel.get("datasource") or {}
            if "loki" in json.dumps(ds).lower():
                continue
            out.append(("panel " + panel["title"], target["expr"]))
    return out


SEED_EXPRS = seed_expressions()


def test_every_seed_expression_has_hand_worked_answers():
    seen = {norm(e) for _, e in SEED_EXPRS}
    assert len(SEED_EXPRS) == 13
    assert seen == set(EXPECTED), ("seed and hand-worked answers differ",
                                   seen - set(EXPECTED), set(EXPECTED) - seen)


# --- querying --------------------------------------------------------------

def api(base, path, **params):
    r = http("GET", base + path + "?" + urllib.parse.urlencode(params), timeout=10)
    body = r.json()
    assert r.status == 200 and body["status"] == "success", (path, params, r.status, body)
    return body["data"]


def instant(base, expr):
    data = api(base, "/api/v1/query", query=expr, time=T)
    assert data["resultType"] == "vector", data
    got = {}
    for s in data["result"]:
        assert s["value"][0] == T, s
        got[frozenset(s["metric"].items())] = float(s["value"][1])
    return got


def ranged(base, expr):
    data = api(base, "/api/v1/query_range", query=expr, start=STEPS[0], end=STEPS[-1], step=60)
    assert data["resultType"] == "matrix", data
    return {frozenset(s["metric"].items()): {t: float(v) for t, v in s["values"]}
            for s in data["result"]}


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def same(got, want):
    """Same label sets, and values (or step->value maps) within 1e-9."""
    if set(got) != set(want):
        return False
    for ls, w in want.items():
        g = got[ls]
        if isinstance(w, dict):
            if set(g) != set(w) or not all(close(g[t], w[t]) for t in w):
                return False
        elif not close(g, w):
            return False
    return True


def show(result):
    return {",".join(f"{k}={v}" for k, v in sorted(ls)): v for ls, v in result.items()}


def write_all(base):
    status, msg = send(base, write_request(SERIES))
    assert status in (200, 204), msg
    # Every written series is there before anything is evaluated.
    match = '{__name__=~".+"}'
    wait_until(lambda: len(api(base, "/api/v1/series", **{"match[]": match, "start": T0, "end": T}))
               == len(SERIES), timeout=10, what=f"{len(SERIES)} series in {base}")


@pytest.fixture(scope="module")
def prometheus():
    """Debian's Prometheus holding the same data, or None when not installed."""
    if PROMETHEUS is None:
        yield None
        return
    out = subprocess.run([PROMETHEUS, "--version"], capture_output=True, text=True)
    version = tuple(int(x) for x in re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr).groups())
    tmp = tempfile.mkdtemp(prefix="prom-seedexpr-")
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {}\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, "prometheus.log"), "wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
                             f"--web.listen-address=127.0.0.1:{port}",
                             "--web.enable-remote-write-receiver"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: http("GET", url + "/-/ready", timeout=2).status == 200,
                   timeout=20, what="prometheus ready")
        write_all(url)
        yield url, version
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def loaded(trine):
    """The conftest daemon holding the data."""
    write_all(trine.url)
    return trine


@pytest.mark.parametrize("name,expr", SEED_EXPRS, ids=[n for n, _ in SEED_EXPRS])
def test_seed_expression(loaded, prometheus, name, expr):
    want = EXPECTED[norm(expr)]
    formatted = api(loaded.url, "/api/v1/format_query", query=expr)
    # The canonical text parses again to itself.
    assert api(loaded.url, "/api/v1/format_query", query=formatted) == formatted

    got_i, got_r = instant(loaded.url, expr), ranged(loaded.url, expr)
    assert same(got_i, want["instant"]), (show(got_i), show(want["instant"]))
    assert same(got_r, want["range"]), (show(got_r), show(want["range"]))

    if prometheus is None:
        return
    purl, version = prometheus
    assert api(purl, "/api/v1/format_query", query=expr) == formatted
    want_i, want_r = dict(want["instant"]), dict(want["range"])
    if version < (2, 51):
        for ls, steps in want.get("before_2_51", {}).items():
            want_i[ls] = steps[T]
            want_r[ls] = steps
    p_i, p_r = instant(purl, expr), ranged(purl, expr)
    assert same(p_i, want_i), ("prometheus", show(p_i), show(want_i))
    assert same(p_r, want_r), ("prometheus", show(p_r), show(want_r))
