"""``osb-image release --env dev`` on the local target, run twice, checked with boto3."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.conftest import Cli, mounts_under, processes_rooted_under

pytestmark = pytest.mark.e2e

RUN_TAG = "osb-image:run-id"


@pytest.fixture(scope="module")
def first_release(cli: Cli) -> dict[str, Any]:
    result = cli.run("--json", "release", "--env", "dev")
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout))


@pytest.fixture(scope="module")
def second_release(cli: Cli, first_release: dict[str, Any]) -> dict[str, Any]:
    result = cli.run("--json", "release", "--env", "dev")
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout))


def image_tags(cli: Cli, ami_id: str) -> dict[str, str]:
    image = cli.clients()("ec2").describe_images(ImageIds=[ami_id])["Images"][0]
    return {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}


def asg_image(cli: Cli, stack_name: str) -> tuple[str, str]:
    """Return the launch-template version the stack's ASG uses and that version's AMI."""
    client = cli.clients()
    resources = client("cloudformation").describe_stack_resources(StackName=stack_name)["StackResources"]
    group_name = next(
        item["PhysicalResourceId"] for item in resources if item["ResourceType"] == "AWS::AutoScaling::AutoScalingGroup"
    )
    group = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])["AutoScalingGroups"][
        0
    ]
    template = group["LaunchTemplate"]
    version = template["Version"]
    data = client("ec2").describe_launch_template_versions(
        LaunchTemplateId=template["LaunchTemplateId"], Versions=[version]
    )
    return version, data["LaunchTemplateVersions"][0]["LaunchTemplateData"]["ImageId"]


def test_release_summary_shape(first_release: dict[str, Any]) -> None:
    assert set(first_release) >= {"env", "ami_id", "tested", "channel", "stack", "steps"}
    assert first_release["env"] == "dev"
    assert first_release["tested"] is True
    assert [step["name"] for step in first_release["steps"]] == [
        "bake:base",
        "test:base",
        "bake:domain",
        "test:domain",
        "promote",
        "rollout",
    ]
    assert all(step["status"] in {"ok", "reused", "skipped"} for step in first_release["steps"])


def test_baked_ami_carries_provenance_tags(cli: Cli, first_release: dict[str, Any]) -> None:
    found = image_tags(cli, first_release["ami_id"])

    assert re.fullmatch(r"[0-9a-f]{64}", found["osb-image:fingerprint"])
    assert found["osb-image:environment"] == "dev"
    assert found["osb-image:layer"] == "domain"
    assert found["osb-image:source-ami"].startswith("ami-")
    assert found[RUN_TAG]
    assert found["osb-image:git-revision"]
    assert found["osb-image:tests"] == "passed"


def test_channel_holds_baked_ami(cli: Cli, first_release: dict[str, Any]) -> None:
    parameter = cli.clients()("ssm").get_parameter(Name=first_release["channel"]["name"])["Parameter"]

    assert parameter["Value"] == first_release["ami_id"]
    assert parameter["Version"] == first_release["channel"]["version"]


def test_stack_runs_baked_ami(cli: Cli, first_release: dict[str, Any]) -> None:
    stack = cli.clients()("cloudformation").describe_stacks(StackName=first_release["stack"]["name"])["Stacks"][0]
    version, ami_id = asg_image(cli, first_release["stack"]["name"])

    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    assert first_release["stack"]["status"] == stack["StackStatus"]
    assert version.isdigit(), f"ASG uses launch template version {version!r}, not an explicit number"
    assert ami_id == first_release["ami_id"]


def test_second_release_reuses_everything(second_release: dict[str, Any], first_release: dict[str, Any]) -> None:
    steps = {step["name"]: step["status"] for step in second_release["steps"]}

    assert second_release["ami_id"] == first_release["ami_id"]
    assert steps["bake:base"] == "reused"
    assert steps["bake:domain"] == "reused"
    assert steps["test:base"] == "skipped"
    assert steps["test:domain"] == "skipped"
    assert second_release["channel"]["version"] == first_release["channel"]["version"]
    assert second_release["stack"]["status"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


def test_release_leaves_no_temporary_resources(cli: Cli, second_release: dict[str, Any]) -> None:
    client = cli.clients()
    ec2 = client("ec2")
    run_filter = [{"Name": "tag-key", "Values": [RUN_TAG]}]
    live_instances = [
        instance["InstanceId"]
        for reservation in ec2.describe_instances(Filters=run_filter)["Reservations"]
        for instance in reservation["Instances"]
        if instance["State"]["Name"] != "terminated"
    ]

    assert live_instances == []
    assert ec2.describe_key_pairs(Filters=run_filter)["KeyPairs"] == []
    assert ec2.describe_security_groups(Filters=run_filter)["SecurityGroups"] == []
    assert list((cli.state_dir / "local" / "hosts").glob("*")) == []
    assert mounts_under(cli.state_dir) == []
    assert processes_rooted_under(cli.state_dir) == []


def test_status_reports_channel_and_stack(cli: Cli, second_release: dict[str, Any]) -> None:
    status = cli.json("status")
    dev = next(item for item in status["environments"] if item["environment"] == "dev")

    assert dev["channel_ami"] == second_release["ami_id"]
    assert dev["stack_ami"] == second_release["ami_id"]


def test_base_ami_is_tested_base_layer(cli: Cli, first_release: dict[str, Any]) -> None:
    domain_tags = image_tags(cli, first_release["ami_id"])
    base_tags = image_tags(cli, domain_tags["osb-image:source-ami"])

    assert base_tags["osb-image:layer"] == "base"
    assert base_tags["osb-image:environment"] == "all"
    assert base_tags["osb-image:tests"] == "passed"


def test_provenance_document_in_bucket(cli: Cli, first_release: dict[str, Any]) -> None:
    body = (
        cli.clients()("s3")
        .get_object(Bucket="osb-image-artifacts", Key=f"provenance/{first_release['ami_id']}.json")["Body"]
        .read()
    )
    document = json.loads(body)

    assert document["layer"] == "domain"
    assert document["fingerprint"] == image_tags(cli, first_release["ami_id"])["osb-image:fingerprint"]
    assert "file:chef/environments/dev.json" in document["inputs"]
    assert "file:chef/environments/qa.json" not in document["inputs"]
    assert document["tests"]["result"] == "passed"


def test_local_status_shows_endpoint(cli: Cli) -> None:
    status = cli.json("local", "status")

    assert status["endpoint"].startswith("http://127.0.0.1:")
