"""Remove what ended runs left behind: instances, key pairs, security groups and untested AMIs.

A run's own cleanup removes its temporary resources, but a run killed with SIGKILL,
or a machine that lost power, leaves them behind. Every such resource carries the
``osb-image:run-id`` tag. ``reap`` finds them, groups them by run and removes those
of runs that have ended and are older than a threshold. AMIs tagged with a test
result are never reaped: they are the pipeline's output, which ``builder.images.gc``
manages.

A run is live while its record ``<runs_dir>/<run-id>/run.json``, written by
``mark_run_started``, names this host and a running pid and has no ``finished_at``.
A run of another host therefore counts as ended, so the age threshold is what
protects it. A reused pid makes an ended run look live, which only delays its reaping.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, WaiterError

from builder import images, provenance, tags
from builder.aws import ClientFactory, error_code, paginate
from builder.errors import InvalidInputError, StepFailedError

if TYPE_CHECKING:
    from builder.local.paths import LocalPaths

logger = logging.getLogger(__name__)

RUN_RECORD = "run.json"
# Run ids start with their UTC start time, e.g. 20261204t201500-3fa2c1 (builder.runs.new_run_id).
RUN_ID_PATTERN = re.compile(r"^(?P<started>\d{8}t\d{6})-[0-9a-z]+$")
_RUN_ID_TIME_FORMAT = "%Y%m%dt%H%M%S"
# Local hosts are directories named after the run and their role (builder.targets.local).
LOCAL_HOST_SUFFIXES = ("-builder", "-test")
_INSTANCE_GONE_STATES = {"terminated", "shutting-down"}

RunHook = Callable[[str], None]


@dataclass
class ReapReport:
    """Result of one reap: the resources removed and the runs left alone, by reason."""

    older_than_seconds: float
    reaped_runs: list[str] = field(default_factory=list)
    live_runs: list[str] = field(default_factory=list)
    recent_runs: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)
    key_pairs: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


@dataclass
class _RunResources:
    """The tagged resources of one run, as described by EC2."""

    instances: list[dict[str, Any]] = field(default_factory=list)
    key_pairs: list[dict[str, Any]] = field(default_factory=list)
    security_groups: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)

    def newest_creation(self) -> datetime | None:
        """Return the latest launch or creation time; security groups have none."""
        moments = [_as_utc(instance.get("LaunchTime")) for instance in self.instances]
        moments += [_as_utc(pair.get("CreateTime")) for pair in self.key_pairs]
        moments += [images.created_at(image) for image in self.images]
        known = [moment for moment in moments if moment is not None]
        return max(known) if known else None


# Run records


def mark_run_started(runs_dir: Path, run_id: str, now: datetime | None = None) -> Path:
    """Write ``<runs_dir>/<run-id>/run.json`` with this process's pid and host; return its path."""
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    return _write_record(runs_dir, run_id, record)


def mark_run_finished(runs_dir: Path, run_id: str, now: datetime | None = None) -> Path:
    """Add ``finished_at`` to the run's record, creating the record if it is missing; return its path."""
    record = read_run_record(runs_dir, run_id) or {"pid": os.getpid(), "host": socket.gethostname()}
    record["finished_at"] = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return _write_record(runs_dir, run_id, record)


def read_run_record(runs_dir: Path, run_id: str) -> dict[str, Any] | None:
    """Return the run's record, or None when it is missing or unreadable."""
    path = runs_dir / run_id / RUN_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        logger.warning("run %s: record %s is unreadable (%s); the run counts as ended", run_id, path, error)
        return None
    return record if isinstance(record, dict) else None


def run_is_live(runs_dir: Path, run_id: str) -> bool:
    """Return True when the run's record names this host and a running pid, and the run has not finished."""
    record = read_run_record(runs_dir, run_id)
    if record is None or record.get("finished_at"):
        return False
    if record.get("host") != socket.gethostname():
        return False
    pid = record.get("pid")
    return isinstance(pid, int) and not isinstance(pid, bool) and _pid_alive(pid)


def run_started_at(run_id: str) -> datetime | None:
    """Return the UTC start time encoded at the front of a run id, or None if the id has none."""
    match = RUN_ID_PATTERN.match(run_id)
    if match is None:
        return None
    try:
        return datetime.strptime(match["started"], _RUN_ID_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


# Reaping


def reap(
    clients: ClientFactory,
    older_than_seconds: float,
    runs_dir: Path,
    now: datetime | None = None,
    active_run_ids: Iterable[str] = (),
    known_run_ids: Iterable[str] = (),
    on_run_reaped: RunHook | None = None,
    on_deregister: RunHook | None = None,
    bucket: str | None = None,
) -> ReapReport:
    """Remove the tagged resources of every ended run older than ``older_than_seconds``.

    Removes instances that are not terminated (and waits until they are), key pairs,
    security groups, and AMIs without an ``osb-image:tests`` tag with their
    snapshots and, when ``bucket`` is given, their provenance documents.
    ``active_run_ids`` count as live whatever their records contain.
    ``known_run_ids`` adds runs that may have left only local files, such as the
    local target's hosts. ``on_run_reaped`` runs with each reaped run id, and
    ``on_deregister`` with each deregistered AMI id. A run whose removal fails is
    listed in ``failures`` and the other runs go on. Safe to run again.
    """
    if older_than_seconds < 0:
        raise InvalidInputError(f"age threshold {older_than_seconds} s is invalid; give zero or more seconds")
    now = now or datetime.now(UTC)
    threshold = timedelta(seconds=older_than_seconds)
    active = set(active_run_ids)
    report = ReapReport(older_than_seconds=older_than_seconds)

    runs = _find_run_resources(clients)
    for run_id in known_run_ids:
        runs.setdefault(run_id, _RunResources())

    for run_id in sorted(runs):
        found = runs[run_id]
        if run_id in active or run_is_live(runs_dir, run_id):
            logger.info("run %s: still running; its resources are left alone", run_id)
            report.live_runs.append(run_id)
            continue
        started = run_started_at(run_id) or found.newest_creation()
        if started is None or now - started < threshold:
            age = "unknown age" if started is None else f"started {started.isoformat(timespec='seconds')}"
            logger.info("run %s: ended but not older than %.0f s (%s); left alone", run_id, older_than_seconds, age)
            report.recent_runs.append(run_id)
            continue
        try:
            _remove_run(clients, run_id, found, report, on_deregister, bucket)
            if on_run_reaped is not None:
                on_run_reaped(run_id)
        except (ClientError, WaiterError, StepFailedError) as error:
            logger.error("run %s: reaping failed: %s", run_id, error)
            report.failures.append(f"run {run_id}: {error}")
            continue
        report.reaped_runs.append(run_id)
    _remove_run_secrets(runs_dir, active, now, threshold)
    return report


def _remove_run_secrets(runs_dir: Path, active: set[str], now: datetime, threshold: timedelta) -> None:
    """Delete presigned-URL files and private keys that ended runs left in their folders.

    A run removes them itself on every exit path it controls; after SIGKILL, this does.
    """
    if not runs_dir.is_dir():
        return
    for directory in sorted(path for path in runs_dir.iterdir() if path.is_dir()):
        run_id = directory.name
        if run_id in active or run_is_live(runs_dir, run_id):
            continue
        started = run_started_at(run_id)
        if started is not None and now - started < threshold:
            continue
        leftovers = [directory / "artifacts", *directory.glob("*-key/id_rsa")]
        for path in leftovers:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            else:
                continue
            logger.info("run %s: deleted %s", run_id, path)


def _find_run_resources(clients: ClientFactory) -> dict[str, _RunResources]:
    ec2 = clients.client("ec2")
    tagged = [{"Name": "tag-key", "Values": [tags.RUN_ID]}]
    runs: dict[str, _RunResources] = {}

    def run_of(resource: dict[str, Any]) -> _RunResources | None:
        run_id = tags.as_dict(resource.get("Tags")).get(tags.RUN_ID)
        return runs.setdefault(run_id, _RunResources()) if run_id else None

    for reservation in paginate(ec2, "describe_instances", "Reservations", Filters=tagged):
        for instance in reservation["Instances"]:
            run = run_of(instance)
            if run is not None and instance["State"]["Name"] not in _INSTANCE_GONE_STATES:
                run.instances.append(instance)
    # DescribeKeyPairs has no pagination.
    for pair in ec2.describe_key_pairs(Filters=tagged)["KeyPairs"]:
        run = run_of(pair)
        if run is not None:
            run.key_pairs.append(pair)
    for group in paginate(ec2, "describe_security_groups", "SecurityGroups", Filters=tagged):
        run = run_of(group)
        if run is not None:
            run.security_groups.append(group)
    for image in paginate(ec2, "describe_images", "Images", Owners=["self"], Filters=tagged):
        run = run_of(image)
        if run is not None and tags.TESTS not in tags.as_dict(image.get("Tags")):
            run.images.append(image)
    return {run_id: run for run_id, run in runs.items() if _has_any(run)}


def _has_any(run: _RunResources) -> bool:
    return bool(run.instances or run.key_pairs or run.security_groups or run.images)


def _remove_run(
    clients: ClientFactory,
    run_id: str,
    found: _RunResources,
    report: ReapReport,
    on_deregister: RunHook | None,
    bucket: str | None,
) -> None:
    """Remove one run's resources: instances first, because they hold the security groups."""
    ec2 = clients.client("ec2")
    instance_ids = [str(instance["InstanceId"]) for instance in found.instances]
    report.instances.extend(_terminate(ec2, run_id, instance_ids))

    for image in found.images:
        ami_id = str(image["ImageId"])
        report.snapshots.extend(images.deregister(clients, image))
        if bucket is not None:
            provenance.delete(clients, bucket, ami_id)
        if on_deregister is not None:
            on_deregister(ami_id)
        report.images.append(ami_id)
        logger.info("run %s: deregistered untested AMI %s", run_id, ami_id)

    for pair in found.key_pairs:
        # DeleteKeyPair succeeds for a key pair that is already gone.
        ec2.delete_key_pair(KeyName=pair["KeyName"])
        report.key_pairs.append(str(pair["KeyName"]))
        logger.info("run %s: deleted key pair %s", run_id, pair["KeyName"])

    for group in found.security_groups:
        group_id = str(group["GroupId"])
        try:
            ec2.delete_security_group(GroupId=group_id)
        except ClientError as error:
            if error_code(error) != "InvalidGroup.NotFound":
                raise
            logger.info("run %s: security group %s already deleted", run_id, group_id)
            continue
        report.security_groups.append(group_id)
        logger.info("run %s: deleted security group %s", run_id, group_id)


def _terminate(ec2: Any, run_id: str, instance_ids: list[str]) -> list[str]:
    """Terminate the instances one by one, so that one already gone does not fail the rest; wait for them."""
    terminated = []
    for instance_id in instance_ids:
        try:
            ec2.terminate_instances(InstanceIds=[instance_id])
        except ClientError as error:
            if error_code(error) != "InvalidInstanceID.NotFound":
                raise
            logger.info("run %s: instance %s already gone", run_id, instance_id)
            continue
        terminated.append(instance_id)
    if terminated:
        waiter = ec2.get_waiter("instance_terminated")
        waiter.wait(InstanceIds=terminated, WaiterConfig={"Delay": 2, "MaxAttempts": 150})
        logger.info("run %s: terminated instances %s", run_id, ", ".join(terminated))
    return terminated


# Local target


def local_run_ids(paths: LocalPaths) -> list[str]:
    """Return the run ids of the local target's host directories (``<run-id>-builder``, ``<run-id>-test``)."""
    if not paths.hosts.is_dir():
        return []
    run_ids = set()
    for directory in paths.hosts.iterdir():
        for suffix in LOCAL_HOST_SUFFIXES:
            if directory.is_dir() and directory.name.endswith(suffix):
                run_ids.add(directory.name.removesuffix(suffix))
    return sorted(run_ids)


def stop_local_hosts(paths: LocalPaths, run_id: str) -> list[str]:
    """Stop the local target's hosts of ``run_id`` and remove their files; return the stopped host ids."""
    from builder.local import hosts

    stopped = []
    for suffix in LOCAL_HOST_SUFFIXES:
        host_id = f"{run_id}{suffix}"
        if (paths.hosts / host_id).exists():
            hosts.stop_host(paths, host_id)
            stopped.append(host_id)
    return stopped


def _write_record(runs_dir: Path, run_id: str, record: dict[str, Any]) -> Path:
    directory = runs_dir / run_id
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / RUN_RECORD
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # the process exists but belongs to another user
    return True


def _as_utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
