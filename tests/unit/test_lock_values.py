"""Reading lock parameter values, including values written by older versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from builder import locks

NAME = "/osb-image/locks/test"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_value_round_trip() -> None:
    lock = locks.Lock(NAME, "h:1:abc", "h", 1, "bake", NOW, datetime(2026, 12, 4, 13, 0, tzinfo=UTC))

    assert locks.parse_value(NAME, lock.to_value()) == lock


@pytest.mark.parametrize(
    ("value", "expired"),
    [
        (json.dumps({"owner": "a", "expires_at": "2026-12-04T12:30:00+00:00"}), False),
        (json.dumps({"owner": "a", "expires_at": "2026-12-04T11:59:59+00:00"}), True),
        (json.dumps({"owner": "a", "expires_at": "2026-12-04T12:30:00"}), False),
        (json.dumps({"owner": "a"}), True),
        (json.dumps({"owner": "a", "expires_at": "tomorrow"}), True),
        (json.dumps({"owner": "a", "expires_at": "2026-12-04T12:30:00+00:00", "acquired_at": "bad"}), True),
        ("[]", True),
        ("", True),
    ],
    ids=["live", "expired", "naive-time", "no-expiry", "bad-expiry", "bad-acquired", "list", "empty"],
)
def test_parse_value_expiry(value: str, expired: bool) -> None:
    assert locks.parse_value(NAME, value).is_expired(NOW) is expired


def test_old_value_holder_description() -> None:
    lock = locks.parse_value(NAME, json.dumps({"owner": "web1:42:abc", "expires_at": "2026-12-04T12:30:00+00:00"}))

    assert lock.describe_holder() == "run (web1:42:abc)"


def test_full_value_holder_description() -> None:
    lock = locks.Lock(NAME, "web1:42:abc", "web1", 42, "rollout", NOW, NOW)

    assert lock.describe_holder() == "rollout (web1:42:abc, pid 42 on web1)"
