"""Lint cloudformation/osb-environment.yaml with the pinned cfn-lint and check its rollout contract.

No cfn-lint rule is ignored. Informational (I) findings are not run because the
requirement is zero errors and zero warnings.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

from builder import rollout
from builder.config import load_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "cloudformation" / "osb-environment.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """Return the template parsed with cfn-lint's decoder, which understands the short-form tags."""
    parsed, problems = decode(str(TEMPLATE))
    assert problems == [], f"cfn-lint cannot parse {TEMPLATE}: {problems}"
    return dict(parsed)


def _pinned_cfn_lint() -> str:
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [item.split("==", 1)[1] for item in dependencies if re.match(r"^cfn-lint\s*==", item)]
    assert len(pins) == 1, "pyproject.toml must pin cfn-lint with == so that lint results are reproducible"
    return str(pins[0]).strip()


def test_cfn_lint_matches_pin() -> None:
    assert version("cfn-lint") == _pinned_cfn_lint()


def test_template_passes_cfn_lint() -> None:
    region = load_pipeline(REPO_ROOT / "pipeline.yaml").pipeline.region

    matches = lint_file(TEMPLATE, config=ManualArgs(regions=[region]))

    findings = [f"{match.rule.id} line {match.linenumber}: {match.message}" for match in matches]
    assert findings == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("Parameters", "ImageId", "Type"), "AWS::EC2::Image::Id"),
        (("Parameters", "SubnetIds", "Type"), "List<AWS::EC2::Subnet::Id>"),
        (("Parameters", "HostedZoneId", "Type"), "AWS::Route53::HostedZone::Id"),
        (("Resources", "LaunchTemplate", "Properties", "LaunchTemplateData", "ImageId"), {"Ref": "ImageId"}),
        (
            ("Resources", "LaunchTemplate", "Properties", "LaunchTemplateData", "MetadataOptions", "HttpTokens"),
            "required",
        ),
        (
            (
                "Resources",
                "LaunchTemplate",
                "Properties",
                "LaunchTemplateData",
                "BlockDeviceMappings",
                0,
                "Ebs",
                "Encrypted",
            ),
            True,
        ),
        (
            ("Resources", "AutoScalingGroup", "Properties", "LaunchTemplate", "Version"),
            {"Fn::GetAtt": ["LaunchTemplate", "LatestVersionNumber"]},
        ),
        (("Resources", "AutoScalingGroup", "UpdatePolicy", "AutoScalingRollingUpdate", "WaitOnResourceSignals"), True),
        (
            ("Resources", "AutoScalingGroup", "UpdatePolicy", "AutoScalingRollingUpdate", "MinInstancesInService"),
            {"Ref": "MinSize"},
        ),
        (("Resources", "TargetGroup", "Properties", "HealthCheckPath"), {"Ref": "HealthCheckPath"}),
        (
            (
                "Resources",
                "ScalingPolicy",
                "Properties",
                "TargetTrackingConfiguration",
                "PredefinedMetricSpecification",
                "PredefinedMetricType",
            ),
            "ALBRequestCountPerTarget",
        ),
        (("Resources", "DnsRecord", "Properties", "HostedZoneId"), {"Ref": "HostedZoneId"}),
    ],
)
def test_template_property(template: dict[str, Any], path: tuple[str | int, ...], expected: object) -> None:
    value: Any = template
    for key in path:
        value = value[key]

    assert value == expected


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in [str(key), *_strings(value)]]
    if isinstance(node, list):
        return [text for item in node for text in _strings(item)]
    return [node] if isinstance(node, str) else []


def test_template_never_uses_floating_version(template: dict[str, Any]) -> None:
    floating = {text for text in _strings(template) if text in {"$Latest", "$Default"}}

    assert floating == set()


def test_template_arns_use_partition() -> None:
    assert "arn:aws:" not in TEMPLATE.read_text(encoding="utf-8")


def test_parameter_groups_cover_parameters(template: dict[str, Any]) -> None:
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]

    assert sorted(grouped) == sorted(template["Parameters"])
    assert len(grouped) == len(set(grouped))


def test_outputs_described_and_exported(template: dict[str, Any]) -> None:
    for key, output in template["Outputs"].items():
        assert output.get("Description"), f"output {key} has no Description"
        assert output["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{key}"}


def test_rollout_passes_every_parameter(template: dict[str, Any]) -> None:
    pipeline = load_pipeline(REPO_ROOT / "pipeline.yaml")
    environment = pipeline.environment("dev")
    network = rollout._Network(subnet_ids=["subnet-0123abcd"], vpc_id="vpc-0123abcd", vpc_cidr="10.0.0.0/16")

    parameters = rollout._stack_parameters(pipeline, "dev", environment, "ami-0123abcd", network, "Z0123")

    assert sorted(item["ParameterKey"] for item in parameters) == sorted(template["Parameters"])
