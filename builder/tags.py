"""Tag keys that osb-image writes on AWS resources, and helpers to read them."""

from __future__ import annotations

from typing import Any

PREFIX = "osb-image:"
RUN_ID = "osb-image:run-id"
FINGERPRINT = "osb-image:fingerprint"
GIT_REVISION = "osb-image:git-revision"
ENVIRONMENT = "osb-image:environment"
LAYER = "osb-image:layer"
SOURCE_AMI = "osb-image:source-ami"
TESTS = "osb-image:tests"  # "passed" or "failed"; absent until the AMI was tested
TESTED_AT = "osb-image:tested-at"
BUILT_AT = "osb-image:built-at"
PURPOSE = "osb-image:purpose"  # builder, test or seed: what a temporary resource was for

TESTS_PASSED = "passed"
TESTS_FAILED = "failed"


def as_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """Turn an AWS ``[{"Key": k, "Value": v}]`` tag list into a dict."""
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def as_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """Turn a dict into an AWS tag list, sorted by key for stable output."""
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def tag_specifications(resource_type: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    """Return a TagSpecifications value that tags ``resource_type`` at creation."""
    return [{"ResourceType": resource_type, "Tags": as_list(tags)}]
