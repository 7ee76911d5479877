"""nexusops/gunicorn.conf.py: a restart starts its metrics from zero and touches nothing else."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "nexusops" / "gunicorn.conf.py"
pytestmark = pytest.mark.smoke


def test_start_removes_the_previous_runs_metric_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"old counts")
    (tmp_path / "histogram_4243.db").write_bytes(b"old latencies")
    (tmp_path / "notes.txt").write_text("not ours")
    conf = runpy.run_path(str(CONF))
    conf["on_starting"](server=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert conf["accesslog"] is None and conf["control_socket_disable"] is True


def test_production_mode_logs_gunicorn_lines_as_json(tmp_path, monkeypatch):
    # Set, so the config does not make (and leave in this process) a folder of its own.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("NEXUSOPS_MODE", "production")
    monkeypatch.delenv("NEXUSOPS_LOG_FORMAT", raising=False)
    conf = runpy.run_path(str(CONF))
    formatter = conf["logconfig_dict"]["formatters"]["json"]["()"]
    assert formatter == "nexusops.common.logs.JsonFormatter"
    monkeypatch.setenv("NEXUSOPS_MODE", "embedded")
    assert "logconfig_dict" not in runpy.run_path(str(CONF))


def test_workers_are_threaded_so_the_alert_intake_can_group_its_commits(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = runpy.run_path(str(CONF))
    assert conf["worker_class"] == "gthread" and conf["threads"] >= 2
