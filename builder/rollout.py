"""Roll an environment's Auto Scaling Group onto its channel's AMI with CloudFormation.

The first rollout creates the stack from ``cloudformation/osb-environment.yaml``.
Later rollouts create a change set, report its changes, execute it and follow the
stack events until the stack reaches a final state. The template's rolling update
replaces the instances and waits for each new instance's cfn-signal. Every template
parameter is passed explicitly on every call, never with UsePreviousValue.

Two rollouts of one environment never run at once: each holds the environment's
lock parameter (``builder.locks``) while it changes the stack, and the lock of a
crashed run can be taken over once it has expired.
"""

from __future__ import annotations

import logging
import posixpath
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from builder import channels, locks, tags
from builder.aws import ClientFactory, error_code, paginate
from builder.config import Environment, LoadedPipeline
from builder.domain_render import ENVIRONMENT_FILE, render_domain_spec, render_unit_files
from builder.errors import InvalidInputError, NotFoundError, RejectedError, StepFailedError
from builder.network import resolve_subnets

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str], None]

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "cloudformation" / "osb-environment.yaml"
# CloudFormation accepts at most 51,200 bytes in TemplateBody; larger templates need S3.
_TEMPLATE_BODY_LIMIT = 51_200

STACK_ABSENT = "absent"
STATUS_UNCHANGED = "unchanged"
_SUCCESS_STATES = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
# ROLLBACK_COMPLETE is the end of a failed creation; CloudFormation can only delete such a stack.
_DELETE_FIRST_STATES = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}
# A stack whose update rollback failed accepts no update until its rollback is continued.
_CONTINUE_ROLLBACK_STATES = {"UPDATE_ROLLBACK_FAILED"}
# Logical id of the group in the template; stack_image() reads the AMI through it.
_GROUP_LOGICAL_ID = "AutoScalingGroup"

# Change set failure reasons that mean there is nothing to do.
_NO_CHANGES_REASONS = ("didn't contain changes", "No updates are to be performed")

_FIRST_POLL_SECONDS = 2.0
_MAX_POLL_SECONDS = 20.0
# A lock outlives the rollout's own timeout by this margin before others may take it over.
_LOCK_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class ResourceChange:
    """One entry of a change set: what CloudFormation will do to a resource."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str | None = None

    def describe(self) -> str:
        """Return a one-line, human-readable form for progress output."""
        text = f"{self.action} {self.logical_id} ({self.resource_type})"
        if self.replacement not in (None, "False"):
            text += f", replacement: {self.replacement}"
        return text


@dataclass(frozen=True)
class RolloutResult:
    """Outcome of a successful rollout; status is the stack's final state or ``unchanged``."""

    stack_name: str
    status: str
    ami_id: str
    changes: list[ResourceChange] = field(default_factory=list)
    launch_template_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


class StackImage(NamedTuple):
    """The AMI that an environment's Auto Scaling Group launches, as deployed."""

    ami_id: str | None
    launch_template_version: int | None
    stack_status: str


@dataclass(frozen=True)
class _Network:
    subnet_ids: list[str]
    vpc_id: str
    vpc_cidr: str


def rollout(
    clients: ClientFactory,
    pipeline: LoadedPipeline,
    environment_name: str,
    ami_id: str | None = None,
    progress: ProgressCallback | None = None,
    *,
    timeout_seconds: float = 3600.0,
    template_path: Path = TEMPLATE_PATH,
) -> RolloutResult:
    """Deploy the environment's stack with ``ami_id`` or, when None, the channel's current AMI.

    The AMI must pass the same checks as a promotion. ``progress`` receives one line
    per change and per new stack event. ``timeout_seconds`` bounds the wait for the
    stack; on timeout the stack keeps going in CloudFormation. Raises
    RejectedError when another rollout holds the lock or the stack is busy, and
    StepFailedError when CloudFormation fails. The channel is never written.
    """
    if timeout_seconds <= 0:
        raise InvalidInputError(f"rollout timeout {timeout_seconds} s is invalid; give a positive number of seconds")
    report = progress or (lambda _line: None)
    environment = pipeline.environment(environment_name)
    _check_sizes(environment_name, environment)
    ami_id = _resolve_ami(clients, pipeline, environment_name, ami_id)
    template_body = _read_template(template_path)

    network = _resolve_network(clients, environment_name, environment)
    zone_id = _resolve_hosted_zone(clients, environment.dns.zone, network.vpc_id)
    parameters = _stack_parameters(pipeline, environment_name, environment, ami_id, network, zone_id)

    lock_name = lock_parameter_name(pipeline, environment_name)
    with locks.held(clients, lock_name, timeout_seconds + _LOCK_MARGIN_SECONDS, purpose="rollout"):
        status = _stack_status(clients, environment.stack_name)
        _check_stack_ready(environment.stack_name, status)
        deadline = time.monotonic() + timeout_seconds
        if status == STACK_ABSENT:
            return _create(clients, environment_name, environment, ami_id, template_body, parameters, report, deadline)
        return _update(clients, environment, ami_id, template_body, parameters, report, deadline)


def stack_image(clients: ClientFactory, pipeline: LoadedPipeline, environment_name: str) -> StackImage:
    """Read the AMI that the stack's Auto Scaling Group launches: group, launch template version, ImageId.

    The AMI and the version are None when the stack or the group does not exist.
    The stack status is ``absent`` when there is no stack.
    """
    environment = pipeline.environment(environment_name)
    status = _stack_status(clients, environment.stack_name)
    if status == STACK_ABSENT:
        return StackImage(None, None, status)
    return _stack_image(clients, environment.stack_name, status)


def lock_parameter_name(pipeline: LoadedPipeline, environment_name: str) -> str:
    """Return the SSM parameter that serves as the environment's rollout lock.

    Locks sit beside the channel prefix, not below it, so that listing the channel
    path never returns a lock: /osb-image/channels gives /osb-image/rollout-locks/ENV.
    """
    parent = posixpath.dirname(pipeline.pipeline.channels.parameter_prefix).rstrip("/")
    return f"{parent}/rollout-locks/{environment_name}"


def secrets_parameter_prefix(environment_name: str) -> str:
    """Return the SSM path of an environment's secret parameters, e.g. /osb/dev."""
    return f"/osb/{environment_name}"


def secret_name_prefix(environment_name: str) -> str:
    """Return the Secrets Manager name prefix of an environment's secrets, e.g. osb/dev."""
    return f"osb/{environment_name}"


# Preparation: everything is resolved and checked before the lock is taken.


def _check_sizes(environment_name: str, environment: Environment) -> None:
    if environment.asg.min >= environment.asg.max:
        raise InvalidInputError(
            f"environment {environment_name}: asg.min ({environment.asg.min}) must be less than asg.max "
            f"({environment.asg.max}), because the rolling update keeps asg.min instances in service "
            "while it starts a replacement; raise asg.max in pipeline.yaml"
        )


def _resolve_ami(clients: ClientFactory, pipeline: LoadedPipeline, environment_name: str, ami_id: str | None) -> str:
    if ami_id is None:
        channel = channels.current(clients, pipeline, environment_name)
        if channel is None:
            name = pipeline.pipeline.channels.parameter_name(environment_name)
            raise NotFoundError(
                f"channel {name} of environment {environment_name} does not exist; "
                f"promote a tested AMI with `osb-image promote --env {environment_name} AMI` first"
            )
        ami_id = channel.ami_id
        logger.info("%s: version %d of channel %s", ami_id, channel.version, channel.name)
    channels.check_promotable(clients, pipeline, environment_name, ami_id)
    return ami_id


def _read_template(template_path: Path) -> str:
    try:
        body = template_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(
            f"CloudFormation template {template_path} not found; run osb-image from a checkout of the repository"
        ) from None
    size = len(body.encode("utf-8"))
    if size > _TEMPLATE_BODY_LIMIT:
        raise InvalidInputError(
            f"CloudFormation template {template_path} has {size} bytes, more than the {_TEMPLATE_BODY_LIMIT} "
            "that CloudFormation accepts inline; shorten it"
        )
    return body


def _resolve_network(clients: ClientFactory, environment_name: str, environment: Environment) -> _Network:
    """Resolve the configured subnets to ids, their VPC and the VPC's CIDR block."""
    subnets = resolve_subnets(clients, list(environment.network.subnets))
    zones = {subnet.availability_zone for subnet in subnets}
    if len(zones) < 2:
        raise InvalidInputError(
            f"environment {environment_name}: network.subnets are all in {', '.join(sorted(zones))}, but an "
            "Application Load Balancer needs subnets in at least two Availability Zones; add a subnet of another zone"
        )
    vpc_id = subnets[0].vpc_id
    vpc = clients.client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    return _Network(subnet_ids=[subnet.subnet_id for subnet in subnets], vpc_id=vpc_id, vpc_cidr=vpc["CidrBlock"])


def _resolve_hosted_zone(clients: ClientFactory, zone: str, vpc_id: str) -> str:
    """Return the id of the hosted zone named ``zone``; among several, the private one of ``vpc_id``."""
    route53 = clients.client("route53")
    fqdn = zone.rstrip(".") + "."
    response = route53.list_hosted_zones_by_name(DNSName=fqdn)
    candidates = [item for item in response["HostedZones"] if item["Name"] == fqdn]
    if len(candidates) > 1:
        candidates = [item for item in candidates if _zone_serves_vpc(route53, item, vpc_id)]
    if not candidates:
        raise NotFoundError(f"hosted zone {fqdn} not found; create it in Route53 or correct dns.zone in pipeline.yaml")
    if len(candidates) > 1:
        listed = ", ".join(item["Id"] for item in candidates)
        raise InvalidInputError(
            f"hosted zone {fqdn} is ambiguous: {listed} all serve VPC {vpc_id}; remove the duplicate"
        )
    return str(candidates[0]["Id"]).removeprefix("/hostedzone/")


def _zone_serves_vpc(route53: Any, zone: dict[str, Any], vpc_id: str) -> bool:
    if not zone.get("Config", {}).get("PrivateZone"):
        return False
    vpcs = route53.get_hosted_zone(Id=zone["Id"]).get("VPCs", [])
    return any(vpc.get("VPCId") == vpc_id for vpc in vpcs)


def _stack_parameters(
    pipeline: LoadedPipeline,
    environment_name: str,
    environment: Environment,
    ami_id: str,
    network: _Network,
    zone_id: str,
) -> list[dict[str, str]]:
    """Build every template parameter; moto 5.2.5 fails on UsePreviousValue in create_change_set."""
    chef_dir = pipeline.root / "chef"
    values = {
        "EnvironmentName": environment_name,
        "ChannelParameterName": pipeline.pipeline.channels.parameter_name(environment_name),
        "SecretsParameterPrefix": secrets_parameter_prefix(environment_name),
        "SecretNamePrefix": secret_name_prefix(environment_name),
        "SlotTableName": _slot_table_name(chef_dir, environment_name),
        "AdminDnsName": _admin_dns_name(chef_dir, environment_name),
        "ImageId": ami_id,
        "InstanceType": environment.instance_type,
        # The AMI's root snapshot has the builder's volume size, and a volume cannot be smaller than its snapshot.
        "RootVolumeSize": str(pipeline.pipeline.builder.volume_size_gb),
        "MinSize": str(environment.asg.min),
        "MaxSize": str(environment.asg.max),
        "DesiredCapacity": str(environment.asg.desired),
        "RequestsPerTarget": str(environment.scaling.requests_per_target),
        "VpcId": network.vpc_id,
        "SubnetIds": ",".join(network.subnet_ids),
        "IngressCidr": network.vpc_cidr,
        "HealthCheckPath": environment.health_check_path,
        # The pipeline has no certificate setting yet, so the listener is HTTP on port 80.
        "CertificateArn": "",
        "HostedZoneId": zone_id,
        "DnsName": environment.dns.name.rstrip("."),
    }
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def _slot_table_name(chef_dir: Path, environment_name: str) -> str:
    """Return OSB_SLOT_TABLE of the first-boot.env that a domain image of ``environment_name`` carries."""
    first_boot_env = render_unit_files(chef_dir, environment_name)[ENVIRONMENT_FILE]
    for line in first_boot_env.splitlines():
        name, separator, value = line.partition("=")
        if separator and name == "OSB_SLOT_TABLE" and value:
            return value
    raise InvalidInputError(
        f"{ENVIRONMENT_FILE} rendered for environment {environment_name} sets no OSB_SLOT_TABLE; "
        "set osb.first_boot.slot_table in the Chef cookbook attributes or the environment"
    )


def _admin_dns_name(chef_dir: Path, environment_name: str) -> str:
    """Return the admin server's listen address, the only record that the instance role may UPSERT."""
    address = render_domain_spec(chef_dir, environment_name)["adminServer"].get("listenAddress")
    if not address:
        raise InvalidInputError(
            f"environment {environment_name}: the domain spec has no adminServer.listenAddress, the Route53 name "
            f"that the admin server updates at first boot; set osb.admin.listen_address in chef/environments/"
            f"{environment_name}.json"
        )
    return str(address).rstrip(".")


# Stack operations


def _stack_status(clients: ClientFactory, stack_name: str) -> str:
    try:
        stacks = clients.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in str(error):
            return STACK_ABSENT
        raise
    return str(stacks[0]["StackStatus"]) if stacks else STACK_ABSENT


def _check_stack_ready(stack_name: str, status: str) -> None:
    if status.endswith("_IN_PROGRESS"):
        raise RejectedError(
            f"stack {stack_name} is in {status}; wait until CloudFormation finishes "
            f"(aws cloudformation describe-stacks --stack-name {stack_name}) and run the rollout again"
        )
    if status in _CONTINUE_ROLLBACK_STATES:
        raise RejectedError(
            f"stack {stack_name} is in {status} and cannot be updated; fix the resource that blocked the rollback, "
            f"run `aws cloudformation continue-update-rollback --stack-name {stack_name}` and run the rollout again"
        )
    if status in _DELETE_FIRST_STATES:
        raise RejectedError(
            f"stack {stack_name} is in {status} and cannot be updated; delete it "
            f"(aws cloudformation delete-stack --stack-name {stack_name}) and run the rollout again"
        )


def _create(
    clients: ClientFactory,
    environment_name: str,
    environment: Environment,
    ami_id: str,
    template_body: str,
    parameters: list[dict[str, str]],
    report: ProgressCallback,
    deadline: float,
) -> RolloutResult:
    """Create the stack with create_stack.

    A CREATE change set would also work on CloudFormation, but moto 5.2.5 executes
    one without recording the stack's outputs.
    """
    cloudformation = clients.client("cloudformation")
    stack_name = environment.stack_name
    report(f"stack {stack_name}: creating with {ami_id}")
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=template_body,
            Parameters=parameters,
            Capabilities=["CAPABILITY_IAM"],
            OnFailure="ROLLBACK",
            Tags=tags.as_list({tags.ENVIRONMENT: environment_name}),
        )
    except ClientError as error:
        raise _request_failure(clients, stack_name, "creating the stack", ami_id, error) from error

    status = _wait_for_stack(clients, stack_name, set(), report, deadline)
    image = _stack_image(clients, stack_name, status)
    # moto 5.2.5 lists a resource type that it cannot create (AWS::AutoScaling::ScalingPolicy)
    # with an empty logical id, so such entries are left out.
    changes = [
        ResourceChange("Add", resource["LogicalResourceId"], resource["ResourceType"])
        for resource in paginate(cloudformation, "list_stack_resources", "StackResourceSummaries", StackName=stack_name)
        if resource.get("LogicalResourceId")
    ]
    logger.info("%s: %s with %s, launch template version %s", stack_name, status, ami_id, image.launch_template_version)
    return RolloutResult(stack_name, status, ami_id, changes, image.launch_template_version)


def _update(
    clients: ClientFactory,
    environment: Environment,
    ami_id: str,
    template_body: str,
    parameters: list[dict[str, str]],
    report: ProgressCallback,
    deadline: float,
) -> RolloutResult:
    """Update the stack through a change set; a change set without changes is a success.

    NOTE: moto 5.2.5 lists no changes for an update that changes only parameters,
    although executing it updates the resources. It also keeps comparing later
    change sets with the parameters of the stack's creation, so a repeated rollout
    after an update executes an empty change set and ends in UPDATE_COMPLETE.
    """
    cloudformation = clients.client("cloudformation")
    stack_name = environment.stack_name
    change_set_name = f"osb-image-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    seen_events = _event_ids(clients, stack_name)

    try:
        change_set_id = cloudformation.create_change_set(
            StackName=stack_name,
            ChangeSetName=change_set_name,
            ChangeSetType="UPDATE",
            TemplateBody=template_body,
            Parameters=parameters,
            Capabilities=["CAPABILITY_IAM"],
            Description=f"osb-image rollout of {ami_id}",
        )["Id"]
    except ClientError as error:
        if _is_no_changes(str(error)):
            return _unchanged(clients, environment, ami_id, template_body, parameters, report, deadline)
        raise _request_failure(clients, stack_name, "creating a change set", ami_id, error) from error

    executed = False
    try:
        change_set = _wait_for_change_set(cloudformation, change_set_id, deadline)
        if change_set["Status"] == "FAILED":
            reason = str(change_set.get("StatusReason", ""))
            if _is_no_changes(reason):
                _delete_change_set(cloudformation, stack_name, change_set_id)
                executed = True
                return _unchanged(clients, environment, ami_id, template_body, parameters, report, deadline)
            raise StepFailedError(
                f"stack {stack_name}: change set {change_set_name} for {ami_id} failed: {reason}; "
                "fix the template or parameters and run the rollout again"
            )

        changes = _change_set_changes(cloudformation, change_set_id)
        report(f"stack {stack_name}: change set {change_set_name} with {len(changes)} change(s)")
        for change in changes:
            report(f"stack {stack_name}: {change.describe()}")

        logger.info("%s: executing change set %s for %s", stack_name, change_set_name, ami_id)
        try:
            cloudformation.execute_change_set(ChangeSetName=change_set_id)
        except ClientError as error:
            raise _request_failure(
                clients, stack_name, f"executing change set {change_set_name}", ami_id, error
            ) from error
        executed = True
    finally:
        if not executed:
            _delete_change_set(cloudformation, stack_name, change_set_id)

    status = _wait_for_stack(clients, stack_name, seen_events, report, deadline)
    image = _stack_image(clients, stack_name, status)
    logger.info("%s: %s with %s, launch template version %s", stack_name, status, ami_id, image.launch_template_version)
    return RolloutResult(stack_name, status, ami_id, changes, image.launch_template_version)


def _unchanged(
    clients: ClientFactory,
    environment: Environment,
    ami_id: str,
    template_body: str,
    parameters: list[dict[str, str]],
    report: ProgressCallback,
    deadline: float,
) -> RolloutResult:
    """Confirm that the stack really runs ``ami_id`` before calling "no changes" a success.

    NOTE: moto 5.2.5 compares a change set with the parameters of the stack's creation,
    so rolling back to the AMI the stack was created with reports no changes while the
    group still runs a later AMI. Then the stack is updated directly, and if that too
    changes nothing the rollout fails rather than report a false success.
    """
    stack_name = environment.stack_name
    image = _stack_image(clients, stack_name, _stack_status(clients, stack_name))
    if image.ami_id in (None, ami_id):
        logger.info("%s: already runs %s with this template and these parameters; no changes", stack_name, ami_id)
        report(f"stack {stack_name}: no changes")
        return RolloutResult(stack_name, STATUS_UNCHANGED, ami_id, [], image.launch_template_version)

    logger.warning(
        "%s: change set reports no changes but the group runs %s, not %s; updating the stack directly",
        stack_name,
        image.ami_id,
        ami_id,
    )
    cloudformation = clients.client("cloudformation")
    seen_events = _event_ids(clients, stack_name)
    try:
        cloudformation.update_stack(
            StackName=stack_name, TemplateBody=template_body, Parameters=parameters, Capabilities=["CAPABILITY_IAM"]
        )
    except ClientError as error:
        if _is_no_changes(str(error)):
            raise StepFailedError(
                f"stack {stack_name}: CloudFormation reports no changes, but its group runs {image.ami_id}, not {ami_id}; "
                "inspect the stack's launch template"
            ) from error
        raise _request_failure(clients, stack_name, "updating the stack", ami_id, error) from error
    status = _wait_for_stack(clients, stack_name, seen_events, report, deadline)
    updated = _stack_image(clients, stack_name, status)
    if updated.ami_id != ami_id:
        raise StepFailedError(f"stack {stack_name}: {status}, but its group runs {updated.ami_id}, not {ami_id}")
    return RolloutResult(stack_name, status, ami_id, [], updated.launch_template_version)


def _is_no_changes(text: str) -> bool:
    return any(reason in text for reason in _NO_CHANGES_REASONS)


def _wait_for_change_set(cloudformation: Any, change_set_id: str, deadline: float) -> dict[str, Any]:
    delay = _FIRST_POLL_SECONDS
    while True:
        change_set: dict[str, Any] = cloudformation.describe_change_set(ChangeSetName=change_set_id)
        if change_set["Status"] in {"CREATE_COMPLETE", "FAILED"}:
            return change_set
        if time.monotonic() + delay > deadline:
            raise StepFailedError(
                f"change set {change_set_id} still {change_set['Status']} when the rollout timed out; "
                "check it in CloudFormation and run the rollout again"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, _MAX_POLL_SECONDS)


def _change_set_changes(cloudformation: Any, change_set_id: str) -> list[ResourceChange]:
    changes: list[ResourceChange] = []
    token: str | None = None
    while True:
        request: dict[str, Any] = {"ChangeSetName": change_set_id}
        if token:
            request["NextToken"] = token
        page = cloudformation.describe_change_set(**request)
        for change in page.get("Changes", []):
            detail = change.get("ResourceChange", {})
            changes.append(
                ResourceChange(
                    action=str(detail.get("Action", "")),
                    logical_id=str(detail.get("LogicalResourceId", "")),
                    resource_type=str(detail.get("ResourceType", "")),
                    replacement=detail.get("Replacement"),
                )
            )
        token = page.get("NextToken")
        if not token:
            return changes


def _delete_change_set(cloudformation: Any, stack_name: str, change_set_id: str) -> None:
    try:
        cloudformation.delete_change_set(ChangeSetName=change_set_id)
    except ClientError as error:
        logger.warning("%s: deleting change set %s failed: %s", stack_name, change_set_id, error)


def _event_ids(clients: ClientFactory, stack_name: str) -> set[str]:
    events = paginate(clients.client("cloudformation"), "describe_stack_events", "StackEvents", StackName=stack_name)
    return {str(event["EventId"]) for event in events}


def _wait_for_stack(
    clients: ClientFactory,
    stack_name: str,
    seen_events: set[str],
    report: ProgressCallback,
    deadline: float,
) -> str:
    """Follow the stack's new events until a final state; return a success state or raise StepFailedError.

    ``seen_events`` contains the ids of events from before this operation, so that only
    this operation's events are reported and searched for the cause of a failure.
    """
    cloudformation = clients.client("cloudformation")
    new_events: list[dict[str, Any]] = []
    delay = _FIRST_POLL_SECONDS
    while True:
        # describe_stack_events lists the newest event first.
        fresh = [
            event
            for event in paginate(cloudformation, "describe_stack_events", "StackEvents", StackName=stack_name)
            if str(event["EventId"]) not in seen_events
        ]
        for event in reversed(fresh):
            seen_events.add(str(event["EventId"]))
            new_events.append(event)
            report(_describe_event(stack_name, event))

        status = _stack_status(clients, stack_name)
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() + delay > deadline:
            raise StepFailedError(
                f"stack {stack_name}: still {status} when the rollout timed out; CloudFormation carries on, "
                f"so follow it with `aws cloudformation describe-stack-events --stack-name {stack_name}`"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, _MAX_POLL_SECONDS)

    if status in _SUCCESS_STATES:
        return status
    raise StepFailedError(f"stack {stack_name}: rollout ended in {status}: {_failure_cause(new_events)}")


def _describe_event(stack_name: str, event: dict[str, Any]) -> str:
    text = f"stack {stack_name}: {event.get('LogicalResourceId')} {event.get('ResourceStatus')}"
    reason = event.get("ResourceStatusReason")
    return f"{text}: {reason}" if reason else text


def _failure_cause(events: list[dict[str, Any]]) -> str:
    """Name the first failed resource and its reason, which CloudFormation reports before the rollback."""
    failed = [event for event in events if str(event.get("ResourceStatus", "")).endswith("_FAILED")]
    # Resources that CloudFormation cancelled because another one failed are effects, not the cause.
    causes = [event for event in failed if "cancelled" not in str(event.get("ResourceStatusReason", "")).lower()]
    for event in causes or failed:
        if event.get("ResourceType") != "AWS::CloudFormation::Stack":
            return (
                f"resource {event.get('LogicalResourceId')} ({event.get('ResourceType')}) "
                f"{event.get('ResourceStatus')}: {event.get('ResourceStatusReason', 'no reason given')}; "
                "fix the cause and run the rollout again"
            )
    if failed:
        return f"{failed[0].get('ResourceStatusReason', 'no reason given')}; fix the cause and run the rollout again"
    return "no failed resource in the stack events; read them with `aws cloudformation describe-stack-events`"


def _request_failure(
    clients: ClientFactory, stack_name: str, action: str, ami_id: str, error: ClientError
) -> StepFailedError:
    """Turn a rejected CloudFormation request into StepFailedError, naming the resource if the message has its id.

    NOTE: moto 5.2.5 never rolls a stack back. A resource that fails makes the
    create_stack or execute_change_set request itself fail, with the resource's
    service error, and the stack keeps its previous status.
    """
    message = str(error.response.get("Error", {}).get("Message") or error)
    resource = _resource_in_message(clients, stack_name, message)
    where = f"resource {resource}: " if resource else ""
    return StepFailedError(
        f"stack {stack_name}: {action} for {ami_id} failed: {where}{error_code(error) or 'error'}: {message}; "
        "fix the cause and run the rollout again"
    )


def _resource_in_message(clients: ClientFactory, stack_name: str, message: str) -> str | None:
    try:
        resources = paginate(
            clients.client("cloudformation"), "list_stack_resources", "StackResourceSummaries", StackName=stack_name
        )
    except ClientError:
        return None
    for resource in resources:
        physical_id = resource.get("PhysicalResourceId")
        if physical_id and physical_id in message:
            return f"{resource['LogicalResourceId']} ({resource['ResourceType']}, {physical_id})"
    return None


def _stack_image(clients: ClientFactory, stack_name: str, status: str) -> StackImage:
    try:
        resource = clients.client("cloudformation").describe_stack_resource(
            StackName=stack_name, LogicalResourceId=_GROUP_LOGICAL_ID
        )["StackResourceDetail"]
    except ClientError as error:
        if error_code(error) == "ValidationError":
            return StackImage(None, None, status)
        raise
    return _group_image(clients, str(resource.get("PhysicalResourceId") or ""), status)


def _group_image(clients: ClientFactory, group_name: str, status: str) -> StackImage:
    if not group_name:
        return StackImage(None, None, status)
    groups = clients.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])
    if not groups["AutoScalingGroups"]:
        return StackImage(None, None, status)
    specification = groups["AutoScalingGroups"][0].get("LaunchTemplate")
    if not specification:
        return StackImage(None, None, status)

    # A version of $Latest or $Default is resolved here to the number it stands for.
    versions = clients.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=specification["LaunchTemplateId"],
        Versions=[str(specification.get("Version") or "$Default")],
    )["LaunchTemplateVersions"]
    if not versions:
        return StackImage(None, None, status)
    version = versions[0]
    return StackImage(version["LaunchTemplateData"].get("ImageId"), int(version["VersionNumber"]), status)
