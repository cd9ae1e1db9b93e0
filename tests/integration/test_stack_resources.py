"""Resources that first boot needs from the environment stack, checked on a moto server after a rollout."""

from __future__ import annotations

import ast
import base64
import json
from typing import Any

import pytest
from moto_seed import Seed, register_tested_ami

from builder import channels, rollout
from builder.aws import ClientFactory
from builder.config import LoadedPipeline

STACK = "osb-dev"
SLOT_TABLE = "osb-dev-dynamic-server-slots"
ADMIN_DNS_NAME = "admin.dev.osb.internal"


@pytest.fixture
def deployed(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> rollout.RolloutResult:
    """Promote the tested AMI to dev and create the dev stack."""
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    return rollout.rollout(clients, pipeline, "dev")


def _physical_id(clients: ClientFactory, logical_id: str) -> str:
    resource = clients.client("cloudformation").describe_stack_resource(StackName=STACK, LogicalResourceId=logical_id)
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


def _logical_ids(clients: ClientFactory) -> set[str]:
    summaries = clients.client("cloudformation").list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return {str(item.get("LogicalResourceId")) for item in summaries}


def _group(clients: ClientFactory, logical_id: str) -> dict[str, Any]:
    groups = clients.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[_physical_id(clients, logical_id)]
    )["AutoScalingGroups"]
    assert len(groups) == 1, f"group of {logical_id} not found"
    return dict(groups[0])


def _launch_template_version(clients: ClientFactory, group: dict[str, Any]) -> dict[str, Any]:
    specification = group["LaunchTemplate"]
    versions = clients.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=specification["LaunchTemplateId"], Versions=[specification["Version"]]
    )["LaunchTemplateVersions"]
    return dict(versions[0])


def _user_data(clients: ClientFactory, logical_id: str) -> str:
    data = _launch_template_version(clients, _group(clients, logical_id))["LaunchTemplateData"]
    return base64.b64decode(data["UserData"]).decode("utf-8")


def _policy_document(raw: object) -> dict[str, Any]:
    """Parse a policy document as boto3 returns it.

    moto 5.2.5 stores the inline policies of an AWS::IAM::Role as the Python repr of
    the template's mapping, which is not JSON, so boto3 returns that text unparsed.
    """
    if isinstance(raw, dict):
        return raw
    assert isinstance(raw, str), f"unexpected policy document type {type(raw).__name__}"
    try:
        return dict(json.loads(raw))
    except json.JSONDecodeError:
        return dict(ast.literal_eval(raw))


def _role_statements(clients: ClientFactory) -> list[dict[str, Any]]:
    iam = clients.client("iam")
    role_name = _physical_id(clients, "InstanceRole")
    statements: list[dict[str, Any]] = []
    for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        raw = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        statement = _policy_document(raw)["Statement"]
        statements.extend(statement if isinstance(statement, list) else [statement])
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    return statements


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _statements_for(statements: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    return [item for item in statements if any(action.startswith(f"{service}:") for action in _as_list(item["Action"]))]


def test_admin_group_size_one(clients: ClientFactory, deployed: rollout.RolloutResult) -> None:
    group = _group(clients, "AdminAutoScalingGroup")

    assert group["MinSize"] == 1
    assert group["MaxSize"] == 1
    assert group["DesiredCapacity"] == 1
    assert group.get("TargetGroupARNs", []) == []


def test_admin_group_numbered_version(clients: ClientFactory, seed: Seed, deployed: rollout.RolloutResult) -> None:
    group = _group(clients, "AdminAutoScalingGroup")
    version = _launch_template_version(clients, group)

    assert group["LaunchTemplate"]["Version"].isdigit(), (
        f"admin group uses version {group['LaunchTemplate']['Version']!r}"
    )
    assert group["LaunchTemplate"]["LaunchTemplateId"] == _physical_id(clients, "AdminLaunchTemplate")
    assert version["LaunchTemplateData"]["ImageId"] == seed.tested_ami


def test_admin_group_follows_new_ami(
    clients: ClientFactory, pipeline: LoadedPipeline, deployed: rollout.RolloutResult
) -> None:
    second_ami = register_tested_ami(clients, "osb-image-second")
    channels.promote(clients, pipeline, "dev", second_ami, "run-2")

    rollout.rollout(clients, pipeline, "dev")

    group = _group(clients, "AdminAutoScalingGroup")
    assert group["LaunchTemplate"]["Version"] == "2"
    assert _launch_template_version(clients, group)["LaunchTemplateData"]["ImageId"] == second_ami


@pytest.mark.parametrize(
    ("logical_id", "expected_lines"),
    [
        (
            "AdminAutoScalingGroup",
            ["OSB_ROLE=admin", "OSB_SIGNAL_RESOURCE=AdminAutoScalingGroup", "OSB_STACK=osb-dev"],
        ),
        (
            "AutoScalingGroup",
            [
                "OSB_ROLE=managed",
                "OSB_SIGNAL_RESOURCE=AutoScalingGroup",
                "OSB_STACK=osb-dev",
                f"OSB_SLOT_TABLE={SLOT_TABLE}",
            ],
        ),
    ],
)
def test_user_data_writes_role(
    clients: ClientFactory, deployed: rollout.RolloutResult, logical_id: str, expected_lines: list[str]
) -> None:
    lines = [line.strip() for line in _user_data(clients, logical_id).splitlines()]

    for expected in expected_lines:
        assert expected in lines, f"{logical_id} user data lacks {expected}"


def test_admin_user_data_names_zone(clients: ClientFactory, seed: Seed, deployed: rollout.RolloutResult) -> None:
    lines = [line.strip() for line in _user_data(clients, "AdminAutoScalingGroup").splitlines()]

    assert f"OSB_HOSTED_ZONE_ID={seed.zone_id}" in lines


def test_slot_table_key(clients: ClientFactory, deployed: rollout.RolloutResult) -> None:
    if "SlotTable" not in _logical_ids(clients):
        pytest.skip("the CloudFormation server did not create AWS::DynamoDB::Table")

    table = clients.client("dynamodb").describe_table(TableName=_physical_id(clients, "SlotTable"))["Table"]

    assert table["TableName"] == SLOT_TABLE
    assert table["KeySchema"] == [{"AttributeName": "slot", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "slot", "AttributeType": "N"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_role_slot_access_only_table(clients: ClientFactory, deployed: rollout.RolloutResult) -> None:
    table_arn = clients.client("dynamodb").describe_table(TableName=SLOT_TABLE)["Table"]["TableArn"]

    statements = _statements_for(_role_statements(clients), "dynamodb")

    assert len(statements) == 1
    assert _as_list(statements[0]["Resource"]) == [table_arn]
    assert sorted(_as_list(statements[0]["Action"])) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
    ]


def test_role_route53_only_admin_record(clients: ClientFactory, seed: Seed, deployed: rollout.RolloutResult) -> None:
    statements = _statements_for(_role_statements(clients), "route53")

    assert len(statements) == 1
    statement = statements[0]
    assert _as_list(statement["Action"]) == ["route53:ChangeResourceRecordSets"]
    assert _as_list(statement["Resource"]) == [f"arn:aws:route53:::hostedzone/{seed.zone_id}"]
    conditions = statement["Condition"]["ForAllValues:StringEquals"]
    assert conditions["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == [ADMIN_DNS_NAME]
    assert conditions["route53:ChangeResourceRecordSetsRecordTypes"] == ["A"]
    assert conditions["route53:ChangeResourceRecordSetsActions"] == ["UPSERT"]


def test_role_lifecycle_only_managed_group(clients: ClientFactory, deployed: rollout.RolloutResult) -> None:
    group = _group(clients, "AutoScalingGroup")

    statements = _statements_for(_role_statements(clients), "autoscaling")

    assert len(statements) == 1
    assert _as_list(statements[0]["Action"]) == ["autoscaling:CompleteLifecycleAction"]
    resources = _as_list(statements[0]["Resource"])
    assert len(resources) == 1
    assert resources[0].endswith(f":autoScalingGroupName/{group['AutoScalingGroupName']}")
    assert resources[0].startswith("arn:aws:autoscaling:us-east-1:")


def test_role_has_no_wildcard_action(clients: ClientFactory, deployed: rollout.RolloutResult) -> None:
    statements = _role_statements(clients)

    actions = [action for item in statements for action in _as_list(item["Action"])]
    assert [action for action in actions if "*" in action] == []
    assert [item for item in statements if item["Effect"] != "Allow"] == []


def test_role_resources_are_scoped(clients: ClientFactory, deployed: rollout.RolloutResult) -> None:
    # Only a bare "*" is rejected here. The role's other wildcards sit below a name: the KMS
    # keys (limited by kms:ViaService), the secret and parameter prefixes, the log group's
    # streams and the group id part of the Auto Scaling ARN.
    resources = [resource for item in _role_statements(clients) for resource in _as_list(item["Resource"])]

    assert "*" not in resources
    for resource in resources:
        assert resource.startswith("arn:aws:"), f"resource {resource} is not an ARN"


def test_termination_hook_on_managed_group(clients: ClientFactory, deployed: rollout.RolloutResult) -> None:
    if "ManagedTerminationHook" not in _logical_ids(clients):
        pytest.skip("moto 5.2.5 has no CloudFormation model for AWS::AutoScaling::LifecycleHook and skips it")

    group_name = _group(clients, "AutoScalingGroup")["AutoScalingGroupName"]
    hooks = clients.client("autoscaling").describe_lifecycle_hooks(AutoScalingGroupName=group_name)["LifecycleHooks"]

    assert len(hooks) == 1
    assert hooks[0]["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert hooks[0]["HeartbeatTimeout"] == 300
    assert hooks[0]["DefaultResult"] == "CONTINUE"
