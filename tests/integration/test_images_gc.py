"""Listing and garbage collection of pipeline AMIs against a moto server."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from moto_seed import Seed, register_ami

from builder import channels, images, locks, provenance, rollout, tags
from builder.aws import ClientFactory
from builder.cli import Context
from builder.cli_images import images_group
from builder.config import LoadedPipeline
from builder.errors import RejectedError

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
_names = itertools.count()


@pytest.fixture
def bucket(clients: ClientFactory, pipeline: LoadedPipeline) -> str:
    name = pipeline.pipeline.artifact_bucket
    clients.client("s3").create_bucket(Bucket=name)
    return name


def _ami(
    clients: ClientFactory,
    layer: str,
    environment: str,
    hours_ago: float,
    tests: str | None = tags.TESTS_PASSED,
    source: str | None = None,
) -> str:
    """Register a pipeline AMI built ``hours_ago`` hours before NOW."""
    image_tags = {
        tags.LAYER: layer,
        tags.ENVIRONMENT: environment,
        tags.BUILT_AT: (NOW - timedelta(hours=hours_ago)).isoformat(timespec="seconds"),
        tags.RUN_ID: f"20261204t000000-{next(_names):06x}",
    }
    if tests is not None:
        image_tags[tags.TESTS] = tests
    if source is not None:
        image_tags[tags.SOURCE_AMI] = source
    return register_ami(clients, f"osb-{layer}-{environment}-{next(_names)}", image_tags)


def _exists(clients: ClientFactory, ami_id: str) -> bool:
    return bool(clients.client("ec2").describe_images(ImageIds=[ami_id])["Images"])


def _snapshots(clients: ClientFactory, ami_id: str) -> list[str]:
    image = clients.client("ec2").describe_images(ImageIds=[ami_id])["Images"][0]
    return images.snapshot_ids(image)


def _snapshot_exists(clients: ClientFactory, snapshot_id: str) -> bool:
    found = clients.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
    return snapshot_id in {snapshot["SnapshotId"] for snapshot in found}


def _kept(report: images.GcReport) -> dict[str, list[str]]:
    return {kept.ami_id: kept.reasons for kept in report.kept}


def _removed(report: images.GcReport) -> set[str]:
    return {removed.ami_id for removed in report.removed}


@pytest.mark.parametrize("keep", [0, 1, 2, 4])
def test_gc_keeps_newest_tested(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str, keep: int) -> None:
    # Registered out of age order, so that EC2's listing order cannot stand in for sorting.
    by_age = {hours: _ami(clients, "base", "all", hours_ago=hours) for hours in (3, 1, 4, 2)}
    newest_first = [by_age[hours] for hours in sorted(by_age)]

    report = images.gc(clients, pipeline, keep=keep, channel_depth=1)

    assert set(_kept(report)) == set(newest_first[:keep])
    assert _removed(report) == set(newest_first[keep:])
    for ami_id in newest_first[:keep]:
        assert _exists(clients, ami_id), f"{ami_id} is among the {keep} newest but was removed"
    for ami_id in newest_first[keep:]:
        assert not _exists(clients, ami_id), f"{ami_id} is older than the {keep} newest but was kept"


def test_gc_counts_newest_per_group(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    base_new, base_old = _ami(clients, "base", "all", 1), _ami(clients, "base", "all", 2)
    dev_new, dev_old = _ami(clients, "domain", "dev", 1), _ami(clients, "domain", "dev", 2)
    qa_old = _ami(clients, "domain", "qa", 50)

    report = images.gc(clients, pipeline, keep=1, channel_depth=1)

    assert set(_kept(report)) == {base_new, dev_new, qa_old}
    assert _removed(report) == {base_old, dev_old}


def test_gc_removes_failed_not_newest(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    failed = _ami(clients, "base", "all", 0.5, tests=tags.TESTS_FAILED)
    passed = _ami(clients, "base", "all", 1)

    report = images.gc(clients, pipeline, keep=1, channel_depth=1)

    assert set(_kept(report)) == {passed}
    assert _removed(report) == {failed}


@pytest.mark.parametrize(("depth", "kept_versions"), [(1, [3]), (2, [2, 3]), (3, [1, 2, 3])])
def test_gc_keeps_recent_channel_versions(
    clients: ClientFactory, pipeline: LoadedPipeline, bucket: str, depth: int, kept_versions: list[int]
) -> None:
    promoted = [_ami(clients, "domain", "dev", hours) for hours in (30, 20, 10)]
    for ami_id in promoted:
        channels.promote(clients, pipeline, "dev", ami_id, "run-test")

    report = images.gc(clients, pipeline, keep=0, channel_depth=depth)

    for version, ami_id in enumerate(promoted, start=1):
        if version in kept_versions:
            assert _exists(clients, ami_id), f"channel version {version} was removed with depth {depth}"
            assert any(
                f"channel /osb-image/channels/dev version {version}" in reason for reason in _kept(report)[ami_id]
            )
        else:
            assert not _exists(clients, ami_id), f"channel version {version} was kept with depth {depth}"


def test_gc_marks_current_channel_version(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    ami_id = _ami(clients, "domain", "dev", 100)
    channels.promote(clients, pipeline, "dev", ami_id, "run-test")

    report = images.gc(clients, pipeline, keep=0, channel_depth=1)

    assert _kept(report)[ami_id] == ["channel /osb-image/channels/dev version 1 (current)"]


def test_gc_keeps_launch_template_versions(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, bucket: str
) -> None:
    first, second, third = (_ami(clients, "domain", "dev", hours) for hours in (30, 20, 10))
    channels.promote(clients, pipeline, "dev", first, "run-1")
    rollout.rollout(clients, pipeline, "dev")
    channels.promote(clients, pipeline, "dev", second, "run-2")
    rollout.rollout(clients, pipeline, "dev")
    # The channel moves on without a rollout: the stack runs second and can roll back to first.
    channels.promote(clients, pipeline, "dev", third, "run-3")

    report = images.gc(clients, pipeline, keep=0, channel_depth=1)

    kept = _kept(report)
    assert _exists(clients, first), "launch template version 1 (a rollback target) lost its AMI"
    assert _exists(clients, second), "the launch template version in use lost its AMI"
    assert _exists(clients, third)
    assert any("launch template" in reason and "version 1 of stack osb-dev" in reason for reason in kept[first])
    assert any("launch template" in reason and "version 2 of stack osb-dev" in reason for reason in kept[second])
    assert _removed(report) == set()


def test_gc_protects_environments_missing_from_config(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, bucket: str
) -> None:
    first, second = (_ami(clients, "domain", "dev", hours) for hours in (30, 20))
    channels.promote(clients, pipeline, "dev", first, "run-1")
    rollout.rollout(clients, pipeline, "dev")
    channels.promote(clients, pipeline, "dev", second, "run-2")
    rollout.rollout(clients, pipeline, "dev")
    environments = {name: value for name, value in pipeline.pipeline.environments.items() if name != "dev"}
    without_dev = SimpleNamespace(pipeline=pipeline.pipeline.model_copy(update={"environments": environments}))

    report = images.gc(clients, without_dev, keep=0, channel_depth=1)  # type: ignore[arg-type]

    assert _exists(clients, first), "a rollback target of a stack missing from the configuration was removed"
    assert _exists(clients, second), "the channel AMI of an environment missing from the configuration was removed"
    assert _removed(report) == set()


def test_gc_keeps_recent_unreferenced_ami(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    recent = _ami(clients, "domain", "dev", 0.5)
    older = _ami(clients, "domain", "dev", 5)
    # NOW is fixed when the module is imported, so measure the minimum age from it too.
    since_now = (datetime.now(UTC) - NOW).total_seconds()

    report = images.gc(clients, pipeline, keep=0, channel_depth=1, min_age_seconds=int(3 * 3600 + since_now))

    assert _exists(clients, recent), "an AMI younger than the minimum age was removed"
    assert any("under the minimum age" in reason for reason in _kept(report)[recent])
    assert not _exists(clients, older)


def test_gc_keeps_source_of_kept_domain(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    old_base = _ami(clients, "base", "all", 40)
    new_base = _ami(clients, "base", "all", 1)
    domain = _ami(clients, "domain", "dev", 2, source=old_base)
    orphan_base = _ami(clients, "base", "all", 30)

    report = images.gc(clients, pipeline, keep=1, channel_depth=1)

    kept = _kept(report)
    assert set(kept) == {new_base, domain, old_base}
    assert kept[old_base] == [f"source AMI of kept {domain}"]
    assert _removed(report) == {orphan_base}


def test_gc_keeps_source_of_channel_ami(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    base = _ami(clients, "base", "all", 40)
    _ami(clients, "base", "all", 1)
    domain = _ami(clients, "domain", "dev", 30, source=base)
    _ami(clients, "domain", "dev", 2)
    channels.promote(clients, pipeline, "dev", domain, "run-1")

    images.gc(clients, pipeline, keep=1, channel_depth=1)

    assert _exists(clients, domain)
    assert _exists(clients, base), "the base of the channel's domain AMI was removed"


def test_gc_keeps_untested(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    untested = _ami(clients, "base", "all", 100, tests=None)

    report = images.gc(clients, pipeline, keep=0, channel_depth=1)

    assert _exists(clients, untested)
    assert "not tested yet" in _kept(report)[untested][0]


def test_gc_deletes_snapshots_and_provenance(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    kept = _ami(clients, "base", "all", 1)
    removed = _ami(clients, "base", "all", 2)
    for ami_id in (kept, removed):
        provenance.write(clients, bucket, {"ami_id": ami_id, "schema_version": 1})
    removed_snapshots = _snapshots(clients, removed)
    kept_snapshots = _snapshots(clients, kept)

    report = images.gc(clients, pipeline, keep=1, channel_depth=1)

    assert report.removed[0].snapshots == removed_snapshots
    for snapshot_id in removed_snapshots:
        assert not _snapshot_exists(clients, snapshot_id), f"snapshot {snapshot_id} of {removed} was left behind"
    for snapshot_id in kept_snapshots:
        assert _snapshot_exists(clients, snapshot_id)
    assert provenance.read(clients, bucket, removed) is None
    assert provenance.read(clients, bucket, kept) is not None


def test_gc_calls_deregister_hook(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    _ami(clients, "base", "all", 1)
    removed = _ami(clients, "base", "all", 2)
    forgotten: list[str] = []

    images.gc(clients, pipeline, keep=1, channel_depth=1, on_deregister=forgotten.append)

    assert forgotten == [removed]


def test_gc_dry_run_changes_nothing(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    all_amis = [_ami(clients, "domain", "dev", hours) for hours in (1, 2, 3)]
    channels.promote(clients, pipeline, "dev", all_amis[2], "run-1")
    forgotten: list[str] = []

    report = images.gc(clients, pipeline, keep=1, channel_depth=1, dry_run=True, on_deregister=forgotten.append)

    assert report.dry_run is True
    assert _removed(report) == {all_amis[1]}
    assert report.removed[0].snapshots == _snapshots(clients, all_amis[1])
    for ami_id in all_amis:
        assert _exists(clients, ami_id), f"dry run removed {ami_id}"
    assert forgotten == []
    for kept in report.kept:
        assert kept.reasons, f"dry run gives no reason to keep {kept.ami_id}"
    assert "newest tested" in _kept(report)[all_amis[0]][0]
    assert "channel /osb-image/channels/dev" in _kept(report)[all_amis[2]][0]


def test_gc_never_touches_untagged(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, bucket: str) -> None:
    _ami(clients, "base", "all", 1, tests=tags.TESTS_FAILED)

    report = images.gc(clients, pipeline, keep=0, channel_depth=1)

    listed = _removed(report) | set(_kept(report))
    assert seed.tested_ami not in listed
    assert seed.untested_ami not in listed
    assert _exists(clients, seed.tested_ami)
    assert _exists(clients, seed.untested_ami)


def test_gc_twice_removes_nothing_more(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    _ami(clients, "base", "all", 1)
    _ami(clients, "base", "all", 2)

    first = images.gc(clients, pipeline, keep=1, channel_depth=1)
    second = images.gc(clients, pipeline, keep=1, channel_depth=1)

    assert len(first.removed) == 1
    assert second.removed == []
    assert len(second.kept) == 1


def test_deregister_gone_image_deletes_snapshots(clients: ClientFactory) -> None:
    ami_id = _ami(clients, "base", "all", 1)
    image = clients.client("ec2").describe_images(ImageIds=[ami_id])["Images"][0]
    clients.client("ec2").deregister_image(ImageId=ami_id)

    snapshots = images.deregister(clients, image)

    assert snapshots == images.snapshot_ids(image)
    assert not _snapshot_exists(clients, snapshots[0])


def test_gc_rejected_while_locked(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    old = _ami(clients, "base", "all", 2)
    _ami(clients, "base", "all", 1)
    locks.acquire(clients, images.GC_LOCK_NAME, "other-gc", ttl_seconds=600, purpose="images gc")

    with pytest.raises(RejectedError) as raised:
        images.gc(clients, pipeline, keep=1, channel_depth=1)

    assert "other-gc" in str(raised.value)
    assert _exists(clients, old)


def test_list_images_groups_and_channels(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    base = _ami(clients, "base", "all", 3)
    dev_old = _ami(clients, "domain", "dev", 2, source=base)
    dev_new = _ami(clients, "domain", "dev", 1, tests=None, source=base)
    channels.promote(clients, pipeline, "dev", dev_old, "run-1")

    summaries = images.list_images(clients, pipeline, now=NOW)

    assert [summary.ami_id for summary in summaries] == [base, dev_new, dev_old]
    by_id = {summary.ami_id: summary for summary in summaries}
    assert by_id[dev_old].channels == ["dev"]
    assert by_id[dev_new].channels == []
    assert by_id[dev_new].tests is None
    assert by_id[base].age_seconds == 3 * 3600
    assert by_id[dev_old].source_ami == base


def test_show_returns_tags_and_provenance(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    ami_id = _ami(clients, "base", "all", 1)
    provenance.write(clients, bucket, {"ami_id": ami_id, "schema_version": 1, "run_id": "r"})

    details = images.show(clients, pipeline, ami_id)

    assert details["tags"][tags.LAYER] == "base"
    assert details["provenance"] == {"ami_id": ami_id, "schema_version": 1, "run_id": "r"}
    assert details["snapshots"] == _snapshots(clients, ami_id)


def _invoke(clients: ClientFactory, pipeline: LoadedPipeline, *arguments: str) -> Any:
    context = Context(pipeline.path, None, as_json=True, debug=False)
    context._loaded = pipeline
    context._target = SimpleNamespace(name="aws", clients=clients, forget_image=lambda _ami_id: None)
    result = CliRunner().invoke(images_group, list(arguments), obj=context)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_gc_dry_run_json(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    newest = _ami(clients, "base", "all", 1)
    older = _ami(clients, "base", "all", 2)

    report = _invoke(clients, pipeline, "gc", "--keep", "1", "--dry-run")

    assert report["dry_run"] is True
    assert [item["ami_id"] for item in report["removed"]] == [older]
    assert [item["ami_id"] for item in report["kept"]] == [newest]
    assert _exists(clients, older)


def test_cli_list_json(clients: ClientFactory, pipeline: LoadedPipeline, bucket: str) -> None:
    ami_id = _ami(clients, "base", "all", 1)

    listed = _invoke(clients, pipeline, "list")

    assert [item["ami_id"] for item in listed["images"]] == [ami_id]
