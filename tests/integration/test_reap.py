"""Reaping the resources of ended runs against a moto server."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto_seed import Seed, register_ami

from builder import provenance, reap, tags
from builder.aws import ClientFactory

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
OLD_RUN = "20261204t080000-0a0a0a"  # four hours before NOW
YOUNG_RUN = "20261204t113000-0b0b0b"  # thirty minutes before NOW
TWO_HOURS = 7200.0


@dataclass(frozen=True)
class RunResources:
    """Ids of the resources created for one run."""

    instance_id: str
    key_name: str
    group_id: str
    untested_ami: str
    tested_ami: str
    snapshot_id: str


def _make_run(clients: ClientFactory, seed: Seed, run_id: str) -> RunResources:
    ec2 = clients.client("ec2")
    run_tags = {tags.RUN_ID: run_id, tags.PURPOSE: "builder"}
    key_name = f"osb-image-{run_id}-builder"
    ec2.create_key_pair(KeyName=key_name, TagSpecifications=tags.tag_specifications("key-pair", run_tags))
    group_id = ec2.create_security_group(
        GroupName=key_name,
        Description="test",
        VpcId=seed.vpc_id,
        TagSpecifications=tags.tag_specifications("security-group", run_tags),
    )["GroupId"]
    instance_id = ec2.run_instances(
        ImageId=seed.untested_ami,
        InstanceType="t3.medium",
        MinCount=1,
        MaxCount=1,
        SubnetId=seed.subnet_ids[0],
        SecurityGroupIds=[group_id],
        KeyName=key_name,
        TagSpecifications=tags.tag_specifications("instance", run_tags),
    )["Instances"][0]["InstanceId"]
    untested_ami = register_ami(clients, f"osb-{run_id}-untested", {tags.RUN_ID: run_id, tags.LAYER: "base"})
    tested_ami = register_ami(
        clients, f"osb-{run_id}-tested", {tags.RUN_ID: run_id, tags.LAYER: "base", tags.TESTS: tags.TESTS_FAILED}
    )
    image = ec2.describe_images(ImageIds=[untested_ami])["Images"][0]
    snapshot_id = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    return RunResources(instance_id, key_name, group_id, untested_ami, tested_ami, snapshot_id)


def _instance_state(clients: ClientFactory, instance_id: str) -> str:
    reservations = clients.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    return str(reservations[0]["Instances"][0]["State"]["Name"])


def _key_exists(clients: ClientFactory, key_name: str) -> bool:
    pairs = clients.client("ec2").describe_key_pairs()["KeyPairs"]
    return key_name in {pair["KeyName"] for pair in pairs}


def _group_exists(clients: ClientFactory, group_id: str) -> bool:
    groups = clients.client("ec2").describe_security_groups()["SecurityGroups"]
    return group_id in {group["GroupId"] for group in groups}


def _image_exists(clients: ClientFactory, ami_id: str) -> bool:
    return bool(clients.client("ec2").describe_images(ImageIds=[ami_id])["Images"])


def _snapshot_exists(clients: ClientFactory, snapshot_id: str) -> bool:
    snapshots = clients.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
    return snapshot_id in {snapshot["SnapshotId"] for snapshot in snapshots}


def _assert_untouched(clients: ClientFactory, run: RunResources) -> None:
    assert _instance_state(clients, run.instance_id) == "running"
    assert _key_exists(clients, run.key_name)
    assert _group_exists(clients, run.group_id)
    assert _image_exists(clients, run.untested_ami)
    assert _snapshot_exists(clients, run.snapshot_id)


def _write_record(runs_dir: Path, run_id: str, record: dict[str, object]) -> None:
    (runs_dir / run_id).mkdir(parents=True)
    (runs_dir / run_id / reap.RUN_RECORD).write_text(json.dumps(record), encoding="utf-8")


def test_reap_removes_ended_old_run(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    run = _make_run(clients, seed, OLD_RUN)

    report = reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    assert report.reaped_runs == [OLD_RUN]
    assert _instance_state(clients, run.instance_id) == "terminated"
    assert not _key_exists(clients, run.key_name)
    assert not _group_exists(clients, run.group_id)
    assert not _image_exists(clients, run.untested_ami)
    assert not _snapshot_exists(clients, run.snapshot_id)
    assert report.images == [run.untested_ami]
    assert report.snapshots == [run.snapshot_id]
    assert report.failures == []


def test_reap_keeps_tested_ami(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    run = _make_run(clients, seed, OLD_RUN)

    reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    assert _image_exists(clients, run.tested_ami), "reap removed an AMI with a test result"


def test_reap_keeps_young_run(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    run = _make_run(clients, seed, YOUNG_RUN)

    report = reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    assert report.recent_runs == [YOUNG_RUN]
    assert report.reaped_runs == []
    _assert_untouched(clients, run)


def test_reap_keeps_live_run(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    run = _make_run(clients, seed, OLD_RUN)
    reap.mark_run_started(tmp_path, OLD_RUN)

    report = reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    assert report.live_runs == [OLD_RUN]
    _assert_untouched(clients, run)


def test_reap_keeps_active_run_id(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    run = _make_run(clients, seed, OLD_RUN)

    report = reap.reap(clients, TWO_HOURS, tmp_path, now=NOW, active_run_ids={OLD_RUN})

    assert report.live_runs == [OLD_RUN]
    _assert_untouched(clients, run)


@pytest.mark.parametrize(
    "record",
    [
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": "x",
            "finished_at": "2026-12-04T09:00:00+00:00",
        },
        {"pid": os.getpid(), "host": "another-host", "started_at": "x"},
        {"pid": 2**22 + 1, "host": socket.gethostname(), "started_at": "x"},
    ],
    ids=["finished", "other-host", "dead-pid"],
)
def test_reap_removes_ended_run_with_record(
    clients: ClientFactory, seed: Seed, tmp_path: Path, record: dict[str, object]
) -> None:
    run = _make_run(clients, seed, OLD_RUN)
    _write_record(tmp_path, OLD_RUN, record)

    report = reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    assert report.reaped_runs == [OLD_RUN]
    assert not _image_exists(clients, run.untested_ami)


def test_reap_twice_is_idempotent(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    _make_run(clients, seed, OLD_RUN)
    reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    second = reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    assert second.reaped_runs == []
    assert second.instances == []
    assert second.images == []
    assert second.failures == []


def test_reap_mixed_runs(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    old = _make_run(clients, seed, OLD_RUN)
    young = _make_run(clients, seed, YOUNG_RUN)
    live_run_id = "20261204t070000-0c0c0c"
    live = _make_run(clients, seed, live_run_id)
    reap.mark_run_started(tmp_path, live_run_id)

    report = reap.reap(clients, TWO_HOURS, tmp_path, now=NOW)

    assert report.reaped_runs == [OLD_RUN]
    assert report.instances == [old.instance_id]
    _assert_untouched(clients, young)
    _assert_untouched(clients, live)


def test_reap_uses_creation_time_without_timestamp(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    run = _make_run(clients, seed, "manual-run")

    soon = reap.reap(clients, TWO_HOURS, tmp_path)
    later = reap.reap(clients, TWO_HOURS, tmp_path, now=datetime.now(UTC) + timedelta(hours=3))

    assert soon.recent_runs == ["manual-run"]
    assert later.reaped_runs == ["manual-run"]
    assert not _key_exists(clients, run.key_name)


def test_reap_hooks_and_provenance(clients: ClientFactory, seed: Seed, tmp_path: Path) -> None:
    clients.client("s3").create_bucket(Bucket="artifacts")
    run = _make_run(clients, seed, OLD_RUN)
    provenance.write(clients, "artifacts", {"ami_id": run.untested_ami})
    local_only_run = "20261204t050000-0d0d0d"
    reaped: list[str] = []
    forgotten: list[str] = []

    report = reap.reap(
        clients,
        TWO_HOURS,
        tmp_path,
        now=NOW,
        known_run_ids=[local_only_run, YOUNG_RUN],
        on_run_reaped=reaped.append,
        on_deregister=forgotten.append,
        bucket="artifacts",
    )

    assert reaped == [local_only_run, OLD_RUN]
    assert forgotten == [run.untested_ami]
    assert report.recent_runs == [YOUNG_RUN]
    assert provenance.read(clients, "artifacts", run.untested_ami) is None


def test_reap_rejects_negative_age(clients: ClientFactory, tmp_path: Path) -> None:
    from builder.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        reap.reap(clients, -1, tmp_path)
