"""Run records and run ids that decide whether a run is live and how old it is."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from builder import reap
from builder.local.paths import LocalPaths


@pytest.mark.parametrize(
    ("run_id", "started"),
    [
        ("20261204t201500-3fa2c1", datetime(2026, 12, 4, 20, 15, tzinfo=UTC)),
        ("20200229t000000-000000", datetime(2020, 2, 29, tzinfo=UTC)),
        ("20261304t201500-3fa2c1", None),
        ("20261204t201500", None),
        ("manual-run", None),
        ("x20261204t201500-3fa2c1", None),
    ],
)
def test_run_started_at_from_id(run_id: str, started: datetime | None) -> None:
    assert reap.run_started_at(run_id) == started


def test_mark_started_writes_record(tmp_path: Path) -> None:
    moment = datetime(2026, 12, 4, 20, 15, tzinfo=UTC)

    path = reap.mark_run_started(tmp_path, "run-1", now=moment)

    record = json.loads(path.read_text(encoding="utf-8"))
    assert path == tmp_path / "run-1" / "run.json"
    assert record == {"pid": os.getpid(), "host": socket.gethostname(), "started_at": "2026-12-04T20:15:00+00:00"}


def test_started_run_is_live(tmp_path: Path) -> None:
    reap.mark_run_started(tmp_path, "run-1")

    assert reap.run_is_live(tmp_path, "run-1") is True


def test_finished_run_is_not_live(tmp_path: Path) -> None:
    reap.mark_run_started(tmp_path, "run-1")
    reap.mark_run_finished(tmp_path, "run-1")

    record = reap.read_run_record(tmp_path, "run-1")
    assert record is not None
    assert record["pid"] == os.getpid()
    assert "finished_at" in record
    assert reap.run_is_live(tmp_path, "run-1") is False


def test_finish_without_start_record(tmp_path: Path) -> None:
    reap.mark_run_finished(tmp_path, "run-1")

    assert reap.run_is_live(tmp_path, "run-1") is False


@pytest.mark.parametrize(
    "content",
    [
        None,
        "not json",
        json.dumps(["a list"]),
        json.dumps({"pid": "1", "host": socket.gethostname()}),
        json.dumps({"pid": True, "host": socket.gethostname()}),
        json.dumps({"pid": os.getpid(), "host": "another-host"}),
        json.dumps({"pid": 0, "host": socket.gethostname()}),
    ],
    ids=["missing", "unreadable", "not-object", "pid-text", "pid-bool", "other-host", "pid-zero"],
)
def test_run_without_live_record_is_ended(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "run-1").mkdir()
        (tmp_path / "run-1" / "run.json").write_text(content, encoding="utf-8")

    assert reap.run_is_live(tmp_path, "run-1") is False


def test_local_run_ids_from_host_directories(tmp_path: Path) -> None:
    paths = LocalPaths(state=tmp_path, cache=tmp_path / "cache")
    for name in (
        "20261204t201500-3fa2c1-builder",
        "20261204t201500-3fa2c1-test",
        "20261205t101500-aaaaaa-test",
        "other",
    ):
        (paths.hosts / name).mkdir(parents=True)
    (paths.hosts / "stray-builder").touch()

    assert reap.local_run_ids(paths) == ["20261204t201500-3fa2c1", "20261205t101500-aaaaaa"]


def test_local_run_ids_without_hosts(tmp_path: Path) -> None:
    assert reap.local_run_ids(LocalPaths(state=tmp_path, cache=tmp_path)) == []
