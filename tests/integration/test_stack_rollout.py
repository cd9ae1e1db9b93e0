"""Rollouts against a moto server: create, no-op, update, failure, lock and status."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto_seed import Seed, register_tested_ami

from builder import channels, rollout, status
from builder.aws import ClientFactory
from builder.config import LoadedPipeline
from builder.errors import NotFoundError, RejectedError, StepFailedError

LOCK = "/osb-image/rollout-locks/dev"


def _group(clients: ClientFactory, stack_name: str) -> dict[str, Any]:
    resource = clients.client("cloudformation").describe_stack_resource(
        StackName=stack_name, LogicalResourceId="AutoScalingGroup"
    )["StackResourceDetail"]
    groups = clients.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[resource["PhysicalResourceId"]]
    )
    group: dict[str, Any] = groups["AutoScalingGroups"][0]
    return group


def _group_image_id(clients: ClientFactory, stack_name: str) -> tuple[str, str]:
    """Return the group's launch template version as stored and that version's ImageId."""
    specification = _group(clients, stack_name)["LaunchTemplate"]
    version = clients.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=specification["LaunchTemplateId"], Versions=[specification["Version"]]
    )["LaunchTemplateVersions"][0]
    return specification["Version"], version["LaunchTemplateData"]["ImageId"]


def _lock_exists(clients: ClientFactory) -> bool:
    return bool(clients.client("ssm").get_parameters(Names=[LOCK])["Parameters"])


@pytest.fixture
def deployed(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> rollout.RolloutResult:
    """Promote the tested AMI to dev and create the dev stack."""
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    return rollout.rollout(clients, pipeline, "dev")


def test_first_rollout_creates_stack(clients: ClientFactory, seed: Seed, deployed: rollout.RolloutResult) -> None:
    assert deployed.stack_name == "osb-dev"
    assert deployed.status == "CREATE_COMPLETE"
    assert deployed.ami_id == seed.tested_ami
    assert deployed.launch_template_version == 1
    assert "AutoScalingGroup" in {change.logical_id for change in deployed.changes}


def test_group_uses_numbered_version(clients: ClientFactory, seed: Seed, deployed: rollout.RolloutResult) -> None:
    version, image_id = _group_image_id(clients, "osb-dev")

    assert version.isdigit(), f"group uses launch template version {version!r}, not a number"
    assert image_id == seed.tested_ami


def test_stack_gets_resolved_network(clients: ClientFactory, seed: Seed, deployed: rollout.RolloutResult) -> None:
    parameters = {
        item["ParameterKey"]: item["ParameterValue"]
        for item in clients.client("cloudformation").describe_stacks(StackName="osb-dev")["Stacks"][0]["Parameters"]
    }

    assert parameters["VpcId"] == seed.vpc_id
    assert parameters["HostedZoneId"] == seed.zone_id
    assert parameters["IngressCidr"] == "10.20.0.0/16"
    for subnet_id in seed.subnet_ids:
        assert subnet_id in parameters["SubnetIds"]


def test_dns_record_aliases_load_balancer(clients: ClientFactory, seed: Seed, deployed: rollout.RolloutResult) -> None:
    records = clients.client("route53").list_resource_record_sets(HostedZoneId=seed.zone_id)["ResourceRecordSets"]

    names = {record["Name"].rstrip(".") for record in records if "AliasTarget" in record}
    assert "osb-dev.osb.internal" in names


def test_same_ami_again_is_unchanged(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    lines: list[str] = []

    again = rollout.rollout(clients, pipeline, "dev", progress=lines.append)

    assert again.status == rollout.STATUS_UNCHANGED
    assert again.changes == []
    assert again.launch_template_version == 1
    assert "stack osb-dev: no changes" in lines
    assert clients.client("cloudformation").list_change_sets(StackName="osb-dev")["Summaries"] == []


def test_new_ami_updates_group(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    second_ami = register_tested_ami(clients, "osb-image-second")
    channels.promote(clients, pipeline, "dev", second_ami, "run-2")

    updated = rollout.rollout(clients, pipeline, "dev")

    version, image_id = _group_image_id(clients, "osb-dev")
    assert updated.status == "UPDATE_COMPLETE"
    assert updated.ami_id == second_ami
    assert updated.launch_template_version == 2
    assert version == "2"
    assert image_id == second_ami


def test_rollback_to_first_ami_updates_group(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    second_ami = register_tested_ami(clients, "osb-image-second")
    channels.promote(clients, pipeline, "dev", second_ami, "run-2")
    rollout.rollout(clients, pipeline, "dev")
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-3")

    rolled_back = rollout.rollout(clients, pipeline, "dev")

    assert rolled_back.ami_id == seed.tested_ami
    assert rolled_back.status == "UPDATE_COMPLETE"
    assert _group_image_id(clients, "osb-dev")[1] == seed.tested_ami


def test_explicit_ami_overrides_channel(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    second_ami = register_tested_ami(clients, "osb-image-second")

    updated = rollout.rollout(clients, pipeline, "dev", ami_id=second_ami)

    assert updated.status == "UPDATE_COMPLETE"
    assert _group_image_id(clients, "osb-dev")[1] == second_ami
    assert channels.current(clients, pipeline, "dev").ami_id == seed.tested_ami  # type: ignore[union-attr]


@pytest.mark.parametrize(("ami", "error"), [("untested", RejectedError), ("ami-0123456789abcdef0", NotFoundError)])
def test_explicit_ami_must_be_tested(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, ami: str, error: type[Exception]
) -> None:
    ami_id = seed.untested_ami if ami == "untested" else ami

    with pytest.raises(error):
        rollout.rollout(clients, pipeline, "dev", ami_id=ami_id)

    assert rollout.stack_image(clients, pipeline, "dev").stack_status == rollout.STACK_ABSENT


def test_qa_rollout_rejects_ami_outside_chain(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    with pytest.raises(RejectedError) as raised:
        rollout.rollout(clients, pipeline, "qa", ami_id=seed.tested_ami)

    assert "takes only what dev ran" in str(raised.value)


def test_rollout_without_channel_not_found(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    with pytest.raises(NotFoundError) as raised:
        rollout.rollout(clients, pipeline, "dev")

    assert "/osb-image/channels/dev" in str(raised.value)


@pytest.mark.parametrize("missing", ["hosted zone", "subnet tag"])
def test_unresolvable_network_not_found(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, missing: str
) -> None:
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    if missing == "hosted zone":
        clients.client("route53").delete_hosted_zone(Id=seed.zone_id)
    else:
        clients.client("ec2").delete_tags(Resources=[seed.subnet_ids[1]], Tags=[{"Key": "Name"}])

    with pytest.raises(NotFoundError) as raised:
        rollout.rollout(clients, pipeline, "dev")

    assert ("osb.internal" if missing == "hosted zone" else "osb-private-b") in str(raised.value)
    assert rollout.stack_image(clients, pipeline, "dev").stack_status == rollout.STACK_ABSENT


def test_failed_update_raises_and_keeps_channel(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    # Deleting the group behind CloudFormation's back makes moto's update of it fail.
    group_name = _group(clients, "osb-dev")["AutoScalingGroupName"]
    clients.client("autoscaling").delete_auto_scaling_group(AutoScalingGroupName=group_name, ForceDelete=True)
    second_ami = register_tested_ami(clients, "osb-image-second")
    promoted = channels.promote(clients, pipeline, "dev", second_ami, "run-2")

    with pytest.raises(StepFailedError) as raised:
        rollout.rollout(clients, pipeline, "dev")

    message = str(raised.value)
    assert "resource AutoScalingGroup (AWS::AutoScaling::AutoScalingGroup" in message
    assert "not found" in message
    assert channels.current(clients, pipeline, "dev") == promoted
    assert not _lock_exists(clients)
    assert clients.client("cloudformation").list_change_sets(StackName="osb-dev")["Summaries"] == []


def test_lock_rejects_concurrent_rollout(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    second_ami = register_tested_ami(clients, "osb-image-second")
    channels.promote(clients, pipeline, "dev", second_ami, "run-2")
    nested_errors: list[Exception] = []

    def start_second_rollout(line: str) -> None:
        # The progress callback runs while the first rollout holds the lock.
        if nested_errors or "change set" not in line:
            return
        try:
            rollout.rollout(clients, pipeline, "dev")
        except RejectedError as error:
            nested_errors.append(error)

    first = rollout.rollout(clients, pipeline, "dev", progress=start_second_rollout)

    assert first.status == "UPDATE_COMPLETE"
    assert len(nested_errors) == 1
    assert f"lock {LOCK} is held by another rollout" in str(nested_errors[0])
    assert not _lock_exists(clients)


def test_held_lock_is_left_alone(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    until = datetime.now(UTC) + timedelta(hours=1)
    held = json.dumps({"owner": "other-host:42:abc", "expires_at": until.isoformat()})
    clients.client("ssm").put_parameter(Name=LOCK, Value=held, Type="String")

    with pytest.raises(RejectedError) as raised:
        rollout.rollout(clients, pipeline, "dev")

    assert "other-host:42:abc" in str(raised.value)
    assert clients.client("ssm").get_parameter(Name=LOCK)["Parameter"]["Value"] == held
    assert rollout.stack_image(clients, pipeline, "dev").stack_status == rollout.STACK_ABSENT


@pytest.mark.parametrize(
    "stale_value",
    [
        json.dumps({"owner": "crashed-host:7:def", "expires_at": "2020-01-01T00:00:00+00:00"}),
        "not json",
    ],
)
def test_stale_lock_is_taken_over(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, stale_value: str, caplog: pytest.LogCaptureFixture
) -> None:
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    clients.client("ssm").put_parameter(Name=LOCK, Value=stale_value, Type="String")

    with caplog.at_level(logging.WARNING, logger="builder.rollout"):
        created = rollout.rollout(clients, pipeline, "dev")

    assert created.status == "CREATE_COMPLETE"
    assert any("taking it over" in record.getMessage() for record in caplog.records)
    assert not _lock_exists(clients)


def test_stack_in_progress_is_rejected(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    # A CREATE change set that was never executed leaves the stack in REVIEW_IN_PROGRESS.
    clients.client("cloudformation").create_change_set(
        StackName="osb-dev",
        ChangeSetName="pending",
        ChangeSetType="CREATE",
        TemplateBody=rollout.TEMPLATE_PATH.read_text(encoding="utf-8"),
    )

    with pytest.raises(RejectedError) as raised:
        rollout.rollout(clients, pipeline, "dev")

    assert "stack osb-dev is in REVIEW_IN_PROGRESS" in str(raised.value)
    assert not _lock_exists(clients)


def test_stack_image_of_absent_stack(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    assert rollout.stack_image(clients, pipeline, "prod") == rollout.StackImage(None, None, "absent")


def test_status_lists_channel_and_stack(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    second_ami = register_tested_ami(clients, "osb-image-second")
    channels.promote(clients, pipeline, "dev", second_ami, "run-2")

    by_name = {item.environment: item for item in status.environment_status(clients, pipeline)}

    dev = by_name["dev"]
    assert list(by_name) == ["dev", "qa", "prod"]
    assert dev.channel_parameter == "/osb-image/channels/dev"
    assert dev.channel_version == 2
    assert dev.channel_ami == second_ami
    assert dev.stack_status == "CREATE_COMPLETE"
    assert dev.stack_ami == seed.tested_ami
    assert dev.launch_template_version == 1
    assert dev.in_sync is False


def test_status_in_sync_after_rollout(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, deployed: rollout.RolloutResult
) -> None:
    by_name = {item.environment: item.to_dict() for item in status.environment_status(clients, pipeline)}

    assert by_name["dev"]["in_sync"] is True
    assert by_name["dev"]["stack_ami"] == seed.tested_ami
    assert by_name["qa"] == {
        "environment": "qa",
        "channel_parameter": "/osb-image/channels/qa",
        "channel_version": None,
        "channel_ami": None,
        "stack_name": "osb-qa",
        "stack_status": "absent",
        "stack_ami": None,
        "launch_template_version": None,
        "in_sync": False,
    }
