# SPDX-License-Identifier: Apache-2.0
"""Routing equivalence with the real Alertmanager.

For several routing trees (the seed's Secret, and deeper trees with
continue chains, regex and negative matchers, quoting and nested group_by)
and hundreds of generated label sets, `trine routes test` must print exactly
what `amtool config routes test` prints for the same config and labels.
"""
import os
import random
import shutil
import subprocess
import tempfile
import zlib

import pytest

from conftest import SHARED

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "e2e", "data", "alertmanager")
SEED = os.path.join(SHARED, "seed", "hypersdk", "alertmanager-config.yaml")
TRINE = os.environ.get("TRINE_BIN", os.path.join(ROOT, "build", "release", "trine"))
AMTOOL = shutil.which("amtool")

pytestmark = pytest.mark.skipif(AMTOOL is None, reason="amtool (prometheus-alertmanager) not installed")

VALUES = {
    "severity": ["critical", "warning", "info", "page", "crit", ""],
    "team": ["db", "web", "front", "frontend", "ops", ""],
    "env": ["prod", "staging", "dev", ""],
    "service": ["api", "web", "cache", "queue", ""],
    "cluster": ["eu-west", "eu-", "us-east", "ap-1", ""],
    "alertname": ["HighLatency", "Down", ""],
    "quoted": ["a,b", "a", ""],
}


def label_sets(seed, n):
    rnd = random.Random(seed)
    names = sorted(VALUES)
    for _ in range(n):
        ls = {}
        for name in names:
            v = rnd.choice(VALUES[name])
            if v and rnd.random() < 0.8:
                ls[name] = v
        yield ls


def plain_seed_config(tmp):
    """amtool reads only plain Alertmanager YAML: unwrap the seed's Secret
    (trine reads the Secret itself, so it gets the original file)."""
    text = open(SEED).read()
    lines = text.split("\n")
    start = next(i for i, l in enumerate(lines) if "alertmanager.yaml: |" in l)
    body = [l[4:] for l in lines[start + 1:]]
    path = os.path.join(tmp, "seed-plain.yml")
    with open(path, "w") as f:
        f.write("\n".join(body))
    return path


def run_trine(cfg, args):
    return subprocess.run([TRINE, "routes", "test", "--alertmanager-config", cfg] + args,
                          capture_output=True, text=True, timeout=30)


def run_amtool(cfg, args):
    return subprocess.run([AMTOOL, "config", "routes", "test", "--config.file=" + cfg] + args,
                          capture_output=True, text=True, timeout=30)


CASES = [("seed", 60), ("deep.yml", 160), ("chain.yml", 120), ("nested.yml", 120)]


@pytest.mark.parametrize("name,count", CASES)
def test_routes_match_amtool(name, count):
    with tempfile.TemporaryDirectory() as tmp:
        if name == "seed":
            am_cfg, trine_cfg = plain_seed_config(tmp), SEED
        else:
            am_cfg = trine_cfg = os.path.join(DATA, name)
        mismatches = []
        for i, ls in enumerate(label_sets(zlib.crc32(name.encode()), count)):
            args = [f'{k}={v}' if i % 2 else f'{k}="{v}"' for k, v in sorted(ls.items())]
            want = run_amtool(am_cfg, args)
            got = run_trine(trine_cfg, args)
            assert want.returncode == 0, want.stderr
            assert got.returncode == 0, got.stderr
            if want.stdout != got.stdout:
                mismatches.append((args, want.stdout, got.stdout))
        assert not mismatches, mismatches[:5]


def test_routes_verify_receivers_exit_code():
    cfg = os.path.join(DATA, "chain.yml")
    ok = subprocess.run([TRINE, "routes", "test", "--alertmanager-config", cfg,
                         "--verify.receivers=r1,r2,r7", "severity=critical"],
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([TRINE, "routes", "test", "--alertmanager-config", cfg,
                          "--verify.receivers=r0", "severity=critical"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1
    assert "WARNING: Expected receivers did not match" in bad.stdout


def test_routes_rejects_non_equal_label():
    cfg = os.path.join(DATA, "chain.yml")
    r = run_trine(cfg, ["severity!=critical"])
    assert r.returncode != 0
    assert "key=value" in r.stderr
