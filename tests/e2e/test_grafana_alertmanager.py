# SPDX-License-Identifier: Apache-2.0
"""Grafana's Alertmanager datasource (implementation "prometheus"), per
../shared/compat/grafana-datasources.md §5: trine answers exactly one path
family, and /api/v2/status carries the config Grafana re-parses."""
import os

from conftest import SHARED


def test_health_and_status_for_grafana(trine_factory):
    seed = os.path.join(SHARED, "seed", "hypersdk", "alertmanager-config.yaml")
    t = trine_factory(f"alertmanager_config: {seed}\n")
    assert t.get("/api/v1/status/buildinfo").status == 200
    assert t.get("/alertmanager/api/v2/status").status == 404  # else "Mimir or Cortex" detected
    r = t.get("/api/v2/status")
    assert r.status == 200
    st = r.json()
    assert st["cluster"]["status"] == "ready"
    assert "route:" in st["config"]["original"] and "receivers:" in st["config"]["original"]
    assert set(st["versionInfo"]) >= {"branch", "buildDate", "buildUser", "goVersion",
                                      "revision", "version"}
    assert st["uptime"].endswith("Z")
    groups = t.get("/api/v2/alerts/groups")
    assert groups.status == 200 and groups.json() == []
    assert t.get("/api/v2/silences").json() == []
