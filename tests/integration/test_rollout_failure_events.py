"""How a rollout reads CloudFormation's stack events, with the API responses stubbed.

moto 5.2.5 never rolls a stack back and records no per-resource events, so the
rollback states that real CloudFormation reaches are fed in through botocore's
Stubber here. The stubbed client sends no request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from builder import rollout
from builder.aws import ClientFactory
from builder.errors import StepFailedError

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/osb-dev/0f8be1fe-5eb7-4415-9763-8e0238d3445a"
_START = datetime(2026, 1, 1, tzinfo=UTC)


def _event(number: int, logical_id: str, resource_type: str, status: str, reason: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "StackId": STACK_ID,
        "EventId": f"event-{number}",
        "StackName": "osb-dev",
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceStatus": status,
        "Timestamp": _START + timedelta(seconds=number),
    }
    if reason is not None:
        event["ResourceStatusReason"] = reason
    return event


def _stack(status: str) -> dict[str, Any]:
    return {"Stacks": [{"StackId": STACK_ID, "StackName": "osb-dev", "CreationTime": _START, "StackStatus": status}]}


@pytest.fixture
def stubbed() -> Iterator[tuple[ClientFactory, Stubber]]:
    """Return a factory whose CloudFormation client returns only the stubbed responses."""
    clients = ClientFactory(
        region="us-east-1", endpoint_url="http://127.0.0.1:9", static_credentials=("testing", "testing")
    )
    with Stubber(clients.client("cloudformation")) as stubber:
        yield clients, stubber
        stubber.assert_no_pending_responses()


def _poll(stubber: Stubber, events_newest_first: list[dict[str, Any]], status: str) -> None:
    stubber.add_response("describe_stack_events", {"StackEvents": events_newest_first}, {"StackName": "osb-dev"})
    stubber.add_response("describe_stacks", _stack(status), {"StackName": "osb-dev"})


UPDATE_ROLLBACK = [
    _event(1, "osb-dev", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated"),
    _event(2, "LaunchTemplate", "AWS::EC2::LaunchTemplate", "UPDATE_COMPLETE"),
    _event(
        3,
        "AutoScalingGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        "UPDATE_FAILED",
        "Received 0 SUCCESS signal(s) out of 1. Unable to satisfy 100% MinSuccessfulInstancesPercent requirement",
    ),
    _event(4, "DnsRecord", "AWS::Route53::RecordSet", "UPDATE_FAILED", "Resource update cancelled"),
    _event(
        5,
        "osb-dev",
        "AWS::CloudFormation::Stack",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to update: [AutoScalingGroup].",
    ),
    _event(6, "osb-dev", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE"),
]
CREATE_ROLLBACK = [
    _event(1, "osb-dev", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
    _event(
        2,
        "TargetGroup",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "CREATE_FAILED",
        "Health check path must start with /",
    ),
    _event(
        3, "LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "CREATE_FAILED", "Resource creation cancelled"
    ),
    _event(4, "osb-dev", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE"),
]


@pytest.mark.parametrize(
    ("events", "final_status", "expected_parts"),
    [
        (
            UPDATE_ROLLBACK,
            "UPDATE_ROLLBACK_COMPLETE",
            [
                "UPDATE_ROLLBACK_COMPLETE",
                "resource AutoScalingGroup (AWS::AutoScaling::AutoScalingGroup) UPDATE_FAILED",
                "Received 0 SUCCESS signal(s)",
            ],
        ),
        (
            CREATE_ROLLBACK,
            "ROLLBACK_COMPLETE",
            ["ROLLBACK_COMPLETE", "resource TargetGroup", "Health check path must start with /"],
        ),
    ],
)
def test_rollback_names_failed_resource(
    stubbed: tuple[ClientFactory, Stubber],
    events: list[dict[str, Any]],
    final_status: str,
    expected_parts: list[str],
) -> None:
    clients, stubber = stubbed
    _poll(stubber, list(reversed(events)), final_status)

    with pytest.raises(StepFailedError) as raised:
        rollout._wait_for_stack(clients, "osb-dev", set(), lambda _line: None, time.monotonic() + 60)

    for part in expected_parts:
        assert part in str(raised.value)
    assert "cancelled" not in str(raised.value)


def test_old_failures_are_not_the_cause(stubbed: tuple[ClientFactory, Stubber]) -> None:
    clients, stubber = stubbed
    old_failure = _event(0, "OldResource", "AWS::EC2::SecurityGroup", "UPDATE_FAILED", "failure of an earlier update")
    _poll(stubber, [*reversed(UPDATE_ROLLBACK), old_failure], "UPDATE_ROLLBACK_COMPLETE")

    with pytest.raises(StepFailedError) as raised:
        rollout._wait_for_stack(clients, "osb-dev", {"event-0"}, lambda _line: None, time.monotonic() + 60)

    assert "OldResource" not in str(raised.value)
    assert "AutoScalingGroup" in str(raised.value)


def test_progress_reports_events_oldest_first(
    stubbed: tuple[ClientFactory, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    clients, stubber = stubbed
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    first = [_event(1, "osb-dev", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated")]
    second = [
        *first,
        _event(2, "LaunchTemplate", "AWS::EC2::LaunchTemplate", "UPDATE_COMPLETE"),
        _event(3, "osb-dev", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE"),
    ]
    _poll(stubber, list(reversed(first)), "UPDATE_IN_PROGRESS")
    _poll(stubber, list(reversed(second)), "UPDATE_COMPLETE")
    lines: list[str] = []

    status = rollout._wait_for_stack(clients, "osb-dev", set(), lines.append, time.monotonic() + 60)

    assert status == "UPDATE_COMPLETE"
    assert lines == [
        "stack osb-dev: osb-dev UPDATE_IN_PROGRESS: User Initiated",
        "stack osb-dev: LaunchTemplate UPDATE_COMPLETE",
        "stack osb-dev: osb-dev UPDATE_COMPLETE",
    ]


def test_wait_times_out_in_progress(stubbed: tuple[ClientFactory, Stubber]) -> None:
    clients, stubber = stubbed
    _poll(stubber, [], "UPDATE_IN_PROGRESS")

    with pytest.raises(StepFailedError) as raised:
        rollout._wait_for_stack(clients, "osb-dev", set(), lambda _line: None, time.monotonic())

    assert "still UPDATE_IN_PROGRESS when the rollout timed out" in str(raised.value)
