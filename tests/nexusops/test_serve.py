"""nexusops/serve.py, the production web server's launcher: its settings, without serving
(``tests/alerts/test_web_server.py`` serves through it)."""

from __future__ import annotations

import pytest

from nexusops import serve

pytestmark = pytest.mark.smoke


def test_start_removes_the_previous_runs_metric_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"old counts")
    (tmp_path / "histogram_4243.db").write_bytes(b"old latencies")
    (tmp_path / "notes.txt").write_text("not ours")
    assert serve.metrics_folder() == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_missing_metrics_folder_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "not" / "yet"))
    assert serve.metrics_folder().is_dir()


def test_production_mode_logs_the_servers_lines_as_json(monkeypatch):
    monkeypatch.setenv("NEXUSOPS_MODE", "production")
    monkeypatch.delenv("NEXUSOPS_LOG_FORMAT", raising=False)
    config = serve.log_config()
    assert config["formatters"]["json"]["()"] == "nexusops.common.logs.JsonFormatter"
    assert config["loggers"]["_granian"]["handlers"] == ["console"]
    monkeypatch.setenv("NEXUSOPS_MODE", "embedded")
    assert serve.log_config() is None
    monkeypatch.setenv("NEXUSOPS_LOG_FORMAT", "json")
    assert serve.log_config() is not None


def test_defaults_come_from_the_environment_and_flags_win(monkeypatch):
    for name in ("WEB_WORKERS", "WEB_THREADS", "WEB_KILL_TIMEOUT", "WEB_STATEMENT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    args = serve.arguments([])
    assert (args.bind, args.workers, args.threads, args.kill_timeout, args.statement_timeout) == (
        ("0.0.0.0", 8000),  # noqa: S104
        serve.WORKERS,
        serve.THREADS,
        serve.KILL_TIMEOUT,
        serve.STATEMENT_TIMEOUT,
    )
    monkeypatch.setenv("WEB_STATEMENT_TIMEOUT", "0")  # no limit
    assert serve.arguments([]).statement_timeout == 0
    assert serve.arguments(["--statement-timeout", "5"]).statement_timeout == 5
    # Threaded, so the alert webhooks' group commit has requests to write together.
    assert serve.THREADS >= 2
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("WEB_THREADS", "4")
    args = serve.arguments(["--bind", "127.0.0.1:9001", "--threads", "6"])
    assert (args.bind, args.workers, args.threads) == (("127.0.0.1", 9001), 3, 6)
    assert serve.arguments(["--bind", "[::1]:80"]).bind == ("::1", 80)
    assert serve.arguments(["--bind", ":80"]).bind == ("0.0.0.0", 80)  # noqa: S104


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_shape_in_the_environment_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("WEB_WORKERS", value)
    with pytest.raises(SystemExit, match="WEB_WORKERS"):
        serve.arguments([])


@pytest.mark.parametrize("value", ["-1", "30s"])
def test_a_bad_statement_limit_in_the_environment_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("WEB_STATEMENT_TIMEOUT", value)
    with pytest.raises(SystemExit, match="WEB_STATEMENT_TIMEOUT"):
        serve.arguments([])


@pytest.mark.parametrize(
    "argv",
    [
        ["--bind", "8000"],
        ["--bind", "host:http"],
        ["--bind", "h:70000"],
        ["--threads", "0"],
        ["--statement-timeout", "-1"],
    ],
)
def test_a_bad_flag_is_refused(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        serve.arguments(argv)
    assert exited.value.code == 2
    assert argv[0] in capsys.readouterr().err  # the flag is named


def test_the_server_is_granian_serving_the_wsgi_application():
    from granian.constants import Interfaces

    server = serve.server(serve.arguments(["--bind", "127.0.0.1:9002", "--workers", "2"]))
    assert (server.target, server.interface) == ("nexusops.wsgi:application", Interfaces.WSGI)
    assert (server.bind_addr, server.bind_port, server.workers) == ("127.0.0.1", 9002, 2)
    assert server.blocking_threads == serve.THREADS
    assert server.log_access is False and server.respawn_failed_workers is True
