"""Locks held as SSM parameters, so that two runs never do the same job at once.

A lock is a String parameter created with ``Overwrite=False``: SSM rejects the
second create with ParameterAlreadyExists, which makes creation atomic. The value is
JSON with the owner, host, pid, purpose and the times it was taken and expires. A
lock whose expiry has passed belongs to a run that crashed or hung, and may be taken
over. Releasing deletes the parameter only while it still names this owner.

SSM has no conditional delete, so a release that races with a takeover of an
expired lock can still delete the new owner's lock. Give each lock a time to live
well beyond the longest run that holds it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from builder.aws import ClientFactory, error_code
from builder.errors import InvalidInputError, RejectedError

logger = logging.getLogger(__name__)

LOCK_PREFIX = "/osb-image/locks/"

_FIRST_POLL_SECONDS = 1.0
_MAX_POLL_SECONDS = 15.0
_DESCRIPTION = "osb-image lock; delete it only if the process named in its value is no longer running"


@dataclass(frozen=True)
class Lock:
    """A lock as stored in its parameter's value.

    ``host``, ``pid``, ``purpose`` and ``acquired_at`` are empty or None when the
    value was written by an older version that stored only owner and expiry.
    """

    name: str
    owner: str
    host: str
    pid: int | None
    purpose: str
    acquired_at: datetime | None
    expires_at: datetime | None

    def is_expired(self, now: datetime) -> bool:
        """Return True when the expiry has passed or is unknown (an unreadable value)."""
        return self.expires_at is None or self.expires_at <= now

    def to_value(self) -> str:
        """Return the JSON value stored in the parameter."""
        return json.dumps(
            {
                "owner": self.owner,
                "host": self.host,
                "pid": self.pid,
                "purpose": self.purpose,
                "acquired_at": _iso(self.acquired_at),
                "expires_at": _iso(self.expires_at),
            },
            sort_keys=True,
        )

    def describe_holder(self) -> str:
        """Return the holder for messages, e.g. ``rollout (web1:4242:ab12…, pid 4242 on web1)``."""
        details = [self.owner]
        if self.pid is not None and self.host:
            details.append(f"pid {self.pid} on {self.host}")
        return f"{self.purpose or 'run'} ({', '.join(details)})"


def new_owner() -> str:
    """Return an owner id that is unique to this process and call: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def bake_lock_name(layer: str, fingerprint: str, prefix: str = LOCK_PREFIX) -> str:
    """Return the lock parameter of bakes of one layer with one fingerprint."""
    return f"{prefix.rstrip('/')}/bake-locks/{layer}/{fingerprint}"


def acquire(
    clients: ClientFactory,
    name: str,
    owner: str,
    ttl_seconds: float,
    wait_seconds: float = 0.0,
    purpose: str = "",
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Lock:
    """Create the lock parameter ``name`` for ``owner``, waiting up to ``wait_seconds`` for a live holder.

    A lock whose expiry has passed, or whose value cannot be read, is taken over
    with a logged warning. Raises RejectedError naming the holder when the lock is
    still held after the wait, or when another run took over the same expired lock
    at the same moment.
    """
    if ttl_seconds <= 0:
        raise InvalidInputError(
            f"lock {name}: time to live {ttl_seconds} s is invalid; give a positive number of seconds"
        )
    if wait_seconds < 0:
        raise InvalidInputError(f"lock {name}: wait {wait_seconds} s is invalid; give zero or more seconds")

    ssm = clients.client("ssm")
    deadline = time.monotonic() + wait_seconds
    delay = _FIRST_POLL_SECONDS
    while True:
        lock = _new_lock(name, owner, purpose, ttl_seconds)
        if _create(ssm, lock):
            logger.debug("lock %s: taken by %s until %s", name, owner, _iso(lock.expires_at))
            return lock

        found = _read(ssm, name)
        if found is None:
            # The holder released the lock between our create and our read: try again at once.
            continue
        holder, version = found
        if holder.is_expired(datetime.now(UTC)):
            return _take_over(ssm, lock, holder, version)
        if _holder_died_here(holder):
            logger.warning(
                "lock %s: holder pid %s on this host is gone (killed run); taking the lock over", name, holder.pid
            )
            return _take_over(ssm, lock, holder, version)

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RejectedError(_held_message(name, holder, wait_seconds))
        logger.info("lock %s: held by %s; waiting up to %.0f s more", name, holder.describe_holder(), remaining)
        sleep(min(delay, remaining))
        delay = min(delay * 2, _MAX_POLL_SECONDS)


def _holder_died_here(holder: Lock) -> bool:
    """Return whether the holder ran on this host and its process no longer exists.

    A holder on another host is trusted until its lock expires, because its process
    cannot be seen from here.
    """
    if holder.host != socket.gethostname() or holder.pid is None or holder.pid <= 0:
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release(clients: ClientFactory, lock: Lock) -> bool:
    """Delete the lock parameter if it still names ``lock.owner``; return whether it was deleted.

    A lock that is already gone counts as released. A lock that another owner took
    over is left in place with a warning.
    """
    ssm = clients.client("ssm")
    found = _read(ssm, lock.name)
    if found is None:
        logger.info("lock %s: already gone; nothing to release", lock.name)
        return False
    holder, _version = found
    if holder.owner != lock.owner:
        logger.warning(
            "lock %s: now held by %s, not by %s; left in place", lock.name, holder.describe_holder(), lock.owner
        )
        return False
    try:
        ssm.delete_parameter(Name=lock.name)
    except ClientError as error:
        if error_code(error) != "ParameterNotFound":
            raise
        logger.info("lock %s: already gone; nothing to release", lock.name)
        return False
    logger.debug("lock %s: released by %s", lock.name, lock.owner)
    return True


@contextmanager
def held(
    clients: ClientFactory,
    name: str,
    ttl_seconds: float,
    purpose: str,
    owner: str | None = None,
    wait_seconds: float = 0.0,
) -> Iterator[Lock]:
    """Hold the lock ``name`` for the body of a ``with`` block and release it afterwards.

    A failed release is logged, not raised, so that the caller gets the body's own
    error. The lock then expires after ``ttl_seconds``.
    """
    lock = acquire(clients, name, owner or new_owner(), ttl_seconds, wait_seconds, purpose)
    try:
        yield lock
    finally:
        try:
            release(clients, lock)
        except ClientError as error:
            logger.error("lock %s: releasing failed: %s; delete the parameter by hand", name, error)


def parse_value(name: str, value: str) -> Lock:
    """Read a lock parameter's value; an unreadable value gives a lock with no expiry, which counts as expired."""
    try:
        data = json.loads(value)
        owner = str(data["owner"])
        expires_at = _parse_time(data["expires_at"])
        acquired_at = _parse_time(data.get("acquired_at"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return Lock(name, f"unreadable lock value {value[:80]!r}", "", None, "", None, None)
    pid = data.get("pid")
    return Lock(
        name=name,
        owner=owner,
        host=str(data.get("host") or ""),
        pid=pid if isinstance(pid, int) else None,
        purpose=str(data.get("purpose") or ""),
        acquired_at=acquired_at,
        expires_at=expires_at,
    )


def _new_lock(name: str, owner: str, purpose: str, ttl_seconds: float) -> Lock:
    now = datetime.now(UTC).replace(microsecond=0)
    return Lock(
        name=name,
        owner=owner,
        host=socket.gethostname(),
        pid=os.getpid(),
        purpose=purpose,
        acquired_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )


def _create(ssm: Any, lock: Lock) -> bool:
    """Create the parameter unless it exists; return whether this call created it."""
    try:
        _put(ssm, lock.name, lock.to_value(), overwrite=False)
    except ClientError as error:
        if error_code(error) == "ParameterAlreadyExists":
            return False
        raise
    return True


def _put(ssm: Any, name: str, value: str, overwrite: bool) -> dict[str, Any]:
    response: dict[str, Any] = ssm.put_parameter(
        Name=name, Value=value, Type="String", Description=_DESCRIPTION, Overwrite=overwrite
    )
    return response


def _read(ssm: Any, name: str) -> tuple[Lock, int] | None:
    """Return the stored lock and its parameter version, or None if there is no lock."""
    try:
        parameter = ssm.get_parameter(Name=name)["Parameter"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return None
        raise
    return parse_value(name, str(parameter["Value"])), int(parameter["Version"])


def _take_over(ssm: Any, lock: Lock, stale: Lock, stale_version: int, stale_reason: str | None = None) -> Lock:
    """Overwrite a stale lock; the run whose write directly follows the stale version wins.

    ``stale_reason`` describes why the lock is stale; the default is its expiry.

    SSM numbers every write of a parameter, so of several runs that overwrite the
    same expired version, exactly one gets version ``stale_version + 1``. A run that
    gets a later version has overwritten the winner's lock, so it writes the
    winner's value back, if nothing was written after its own, and raises.
    """
    reason = stale_reason or f"expired at {_iso(stale.expires_at) or 'an unknown time'}"
    logger.warning("lock %s: %s %s; taking it over for %s", lock.name, stale.describe_holder(), reason, lock.owner)
    response = _put(ssm, lock.name, lock.to_value(), overwrite=True)
    version = int(response["Version"])
    if version == stale_version + 1:
        return lock

    winner_value = _history_value(ssm, lock.name, stale_version + 1)
    latest = _read(ssm, lock.name)
    if winner_value is not None and latest is not None and latest[1] == version:
        _put(ssm, lock.name, winner_value, overwrite=True)
    winner = parse_value(lock.name, winner_value) if winner_value is not None else stale
    raise RejectedError(
        f"lock {lock.name}: {winner.describe_holder()} took over the expired lock at the same time as this run; "
        "run this command again once that run has finished"
    )


def _history_value(ssm: Any, name: str, version: int) -> str | None:
    paginator = ssm.get_paginator("get_parameter_history")
    for page in paginator.paginate(Name=name):
        for entry in page.get("Parameters", []):
            if int(entry["Version"]) == version:
                return str(entry["Value"])
    return None


def _held_message(name: str, holder: Lock, wait_seconds: float) -> str:
    since = f" since {_iso(holder.acquired_at)}" if holder.acquired_at else ""
    waited = f" after waiting {wait_seconds:g} s" if wait_seconds > 0 else ""
    return (
        f"lock {name} is held by another {holder.describe_holder()}{since} until {_iso(holder.expires_at)}{waited}; "
        "wait for that run to finish and try again, or, if its process is gone, "
        f"delete the lock with `aws ssm delete-parameter --name {name}`"
    )


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
