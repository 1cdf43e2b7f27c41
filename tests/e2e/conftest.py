# SPDX-License-Identifier: Apache-2.0
"""Fixtures that run the real trine binary on loopback.

`trine` starts a daemon with embedded defaults on a free port and a fresh
temporary data directory; `trine_factory(config_yaml_text=None,
extra_args=[])` starts more, with a config. Each daemon keeps its log, which
is printed when a test fails. Helpers poll with deadlines instead of sleeping.
"""
import gzip
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("TRINE_BIN", os.path.join(ROOT, "build", "release", "trine"))
SHARED = os.environ.get("TRINE_SHARED", os.path.abspath(os.path.join(ROOT, "..", "shared")))


# A daemon built with SANITIZE=... prints these; any of them fails the test.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn, timeout=15.0, interval=0.05, what="condition"):
    """Polls fn until it returns a truthy value; returns it or fails."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - report the last failure
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def http(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
            if r.headers.get("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
            return Response(r.status, r.headers, data)
    except urllib.error.HTTPError as e:
        data = e.read()
        if e.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return Response(e.code, e.headers, data)


class Trine:
    def __init__(self, config_yaml_text=None, extra_args=None, data_dir=None):
        self.tmp = tempfile.mkdtemp(prefix="trine-e2e-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = None
        if config_yaml_text is not None:
            self.config_path = os.path.join(self.tmp, "trine.yaml")
            with open(self.config_path, "w") as f:
                f.write(config_yaml_text)
        self.extra_args = list(extra_args or [])
        self.log_path = os.path.join(self.tmp, "trine.log")
        self.proc = None
        self.start()

    def args(self):
        a = [BINARY, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", self.data_dir]
        if self.config_path:
            a += ["--config", self.config_path]
        return a + self.extra_args

    def start(self, wait=True):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=self.logf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=30):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"trine exited with {self.proc.returncode}:\n{self.log()}")
            return http("GET", self.url + "/ready", timeout=2).status == 200
        wait_until(ready, timeout=timeout, what="trine /ready")

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.logf.close()

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # convenience
    def get(self, path, params=None, headers=None):
        q = ("?" + urllib.parse.urlencode(params, doseq=True)) if params else ""
        return http("GET", self.url + path + q, headers=headers)

    def post(self, path, body=b"", headers=None):
        if isinstance(body, str):
            body = body.encode()
        return http("POST", self.url + path, body=body, headers=headers)

    def post_form(self, path, params):
        return self.post(path, urllib.parse.urlencode(params, doseq=True),
                         {"Content-Type": "application/x-www-form-urlencoded"})

    def api(self, path, params=None):
        r = self.get(path, params)
        assert r.status == 200, f"{path}: {r.status} {r.text}"
        body = r.json()
        assert body["status"] == "success", body
        return body["data"]

    def import_text(self, text):
        r = self.post("/api/v1/import/prometheus", text)
        assert r.status in (200, 204), f"import: {r.status} {r.text}"
        return r


_started = []


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for t in _started:
            rep.sections.append((f"trine log ({t.url})", t.log()[-20000:]))


@pytest.fixture
def trine_factory():
    started = []

    def make(config_yaml_text=None, extra_args=None, data_dir=None):
        t = Trine(config_yaml_text, extra_args, data_dir)
        started.append(t)
        _started.append(t)
        return t

    yield make
    bad = []
    for t in started:
        t.stop()
        _started.remove(t)
        log = t.log()
        for marker in SANITIZER_MARKERS:
            if marker in log:
                i = log.index(marker)
                bad.append(f"{t.url}: {log[max(0, i - 200):i + 3000]}")
                break
    if bad:
        pytest.fail("sanitizer report in trine's log:\n" + "\n".join(bad))


@pytest.fixture
def trine(trine_factory):
    return trine_factory()
