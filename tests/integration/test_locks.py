"""SSM parameter locks against a moto server: acquire, reject, wait, take over, release."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from builder import locks
from builder.aws import ClientFactory
from builder.errors import InvalidInputError, RejectedError

NAME = locks.bake_lock_name("base", "f" * 64)


def _stored(clients: ClientFactory) -> dict[str, object] | None:
    found = clients.client("ssm").get_parameters(Names=[NAME])["Parameters"]
    return json.loads(found[0]["Value"]) if found else None


def test_bake_lock_name_format() -> None:
    assert locks.bake_lock_name("domain", "abc") == "/osb-image/locks/bake-locks/domain/abc"


def test_acquire_stores_owner_and_times(clients: ClientFactory) -> None:
    lock = locks.acquire(clients, NAME, "owner-a", ttl_seconds=600, purpose="bake")
    stored = _stored(clients)

    assert stored is not None
    assert stored["owner"] == "owner-a"
    assert stored["host"] == socket.gethostname()
    assert stored["pid"] == os.getpid()
    assert stored["purpose"] == "bake"
    assert stored["acquired_at"] == lock.acquired_at.isoformat(timespec="seconds")  # type: ignore[union-attr]
    assert stored["expires_at"] == (lock.acquired_at + timedelta(seconds=600)).isoformat(timespec="seconds")  # type: ignore[operator]


def test_second_acquirer_rejected_naming_holder(clients: ClientFactory) -> None:
    first = locks.acquire(clients, NAME, "owner-a", ttl_seconds=600, purpose="bake")

    with pytest.raises(RejectedError) as raised:
        locks.acquire(clients, NAME, "owner-b", ttl_seconds=600, purpose="bake")

    message = str(raised.value)
    assert f"lock {NAME} is held by another bake" in message
    assert "owner-a" in message
    assert f"since {first.acquired_at.isoformat(timespec='seconds')}" in message  # type: ignore[union-attr]
    assert "aws ssm delete-parameter" in message
    assert _stored(clients)["owner"] == "owner-a"  # type: ignore[index]


@pytest.mark.parametrize(
    "stale_value",
    [
        json.dumps({"owner": "crashed", "host": "old-host", "pid": 7, "expires_at": "2020-01-01T00:00:00+00:00"}),
        json.dumps({"owner": "crashed", "expires_at": "2020-01-01T00:00:00"}),
        "not json",
        json.dumps({"owner": "crashed"}),
    ],
    ids=["expired", "expired-without-zone", "unreadable", "no-expiry"],
)
def test_expired_lock_taken_over(clients: ClientFactory, stale_value: str, caplog: pytest.LogCaptureFixture) -> None:
    clients.client("ssm").put_parameter(Name=NAME, Value=stale_value, Type="String")

    with caplog.at_level(logging.WARNING, logger="builder.locks"):
        lock = locks.acquire(clients, NAME, "owner-b", ttl_seconds=600)

    assert lock.owner == "owner-b"
    assert _stored(clients)["owner"] == "owner-b"  # type: ignore[index]
    assert any("taking it over" in record.getMessage() for record in caplog.records)


def test_simultaneous_takeover_loser_rejected(clients: ClientFactory) -> None:
    ssm = clients.client("ssm")
    stale_value = json.dumps({"owner": "crashed", "expires_at": "2020-01-01T00:00:00+00:00"})
    stale_version = ssm.put_parameter(Name=NAME, Value=stale_value, Type="String")["Version"]
    stale = locks.parse_value(NAME, stale_value)
    winner = locks.acquire(clients, NAME, "owner-a", ttl_seconds=600)
    loser = locks.Lock(NAME, "owner-b", "host-b", 1, "bake", winner.acquired_at, winner.expires_at)

    # The loser read the same expired version as the winner, and writes after it.
    with pytest.raises(RejectedError) as raised:
        locks._take_over(ssm, loser, stale, stale_version)

    assert "owner-a" in str(raised.value)
    assert _stored(clients)["owner"] == "owner-a"  # type: ignore[index]


def test_wait_acquires_after_release(clients: ClientFactory) -> None:
    first = locks.acquire(clients, NAME, "owner-a", ttl_seconds=600)
    sleeps: list[float] = []

    def release_first(seconds: float) -> None:
        sleeps.append(seconds)
        locks.release(clients, first)

    second = locks.acquire(clients, NAME, "owner-b", ttl_seconds=600, wait_seconds=60, sleep=release_first)

    assert second.owner == "owner-b"
    assert len(sleeps) == 1
    assert _stored(clients)["owner"] == "owner-b"  # type: ignore[index]


def test_wait_backs_off_then_rejects(clients: ClientFactory) -> None:
    locks.acquire(clients, NAME, "owner-a", ttl_seconds=600)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    with pytest.raises(RejectedError) as raised:
        locks.acquire(clients, NAME, "owner-b", ttl_seconds=600, wait_seconds=2.5, sleep=sleep)

    assert "after waiting 2.5 s" in str(raised.value)
    assert sleeps[0] == 1.0
    assert 1.0 < sleeps[1] < 2.0, "the second poll waits for the rest of the wait, not the full backoff"
    assert len(sleeps) == 2


def test_release_by_non_owner_keeps_lock(clients: ClientFactory) -> None:
    locks.acquire(clients, NAME, "owner-a", ttl_seconds=600)
    impostor = locks.Lock(NAME, "owner-b", "host-b", 1, "bake", None, None)

    released = locks.release(clients, impostor)

    assert released is False
    assert _stored(clients)["owner"] == "owner-a"  # type: ignore[index]


def test_release_twice_is_success(clients: ClientFactory) -> None:
    lock = locks.acquire(clients, NAME, "owner-a", ttl_seconds=600)

    assert locks.release(clients, lock) is True
    assert locks.release(clients, lock) is False
    assert _stored(clients) is None


def test_held_releases_after_error(clients: ClientFactory) -> None:
    with pytest.raises(ValueError, match="body failed"):
        with locks.held(clients, NAME, ttl_seconds=600, purpose="bake") as lock:
            assert _stored(clients)["owner"] == lock.owner  # type: ignore[index]
            raise ValueError("body failed")

    assert _stored(clients) is None


def test_held_lock_of_other_live_owner_kept(clients: ClientFactory) -> None:
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    clients.client("ssm").put_parameter(
        Name=NAME, Value=json.dumps({"owner": "other", "expires_at": until}), Type="String"
    )

    with pytest.raises(RejectedError):
        with locks.held(clients, NAME, ttl_seconds=600, purpose="bake"):
            pytest.fail("the body ran without the lock")

    assert _stored(clients)["owner"] == "other"  # type: ignore[index]


@pytest.mark.parametrize(("ttl", "wait"), [(0, 0), (-5, 0), (60, -1)])
def test_acquire_rejects_invalid_times(clients: ClientFactory, ttl: float, wait: float) -> None:
    with pytest.raises(InvalidInputError):
        locks.acquire(clients, NAME, "owner-a", ttl_seconds=ttl, wait_seconds=wait)
