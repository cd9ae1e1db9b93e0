"""The pipeline's AMIs: list them, show one, and garbage-collect the ones nothing needs.

Only AMIs owned by this account and tagged ``osb-image:layer`` are considered, so
that base OS images and AMIs made by anything else are never listed or removed.

Garbage collection keeps, per layer and environment, the newest tested AMIs. It
also keeps every AMI that something may still launch: a recent version of a
channel, any version of an environment stack's launch template (a rollback target)
and the source AMI of a kept domain AMI. AMIs not tested yet may belong to a bake
in progress, so they are kept too and left to ``builder.reap``. Every other AMI is
deregistered, and its snapshots and provenance document are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from builder import channels, locks, provenance, resources, tags
from builder.aws import ClientFactory, error_code, paginate
from builder.config import LoadedPipeline
from builder.errors import InvalidInputError

logger = logging.getLogger(__name__)

DEFAULT_KEEP = 3
DEFAULT_CHANNEL_DEPTH = 5
GC_LOCK_NAME = f"{locks.LOCK_PREFIX}images-gc"
# A gc that crashed keeps others out until its lock expires after this many seconds.
_GC_LOCK_SECONDS = 3600.0
_LAUNCH_TEMPLATE_TYPE = "AWS::EC2::LaunchTemplate"
_LAUNCH_TEMPLATE_GONE_CODES = {"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException"}

DeregisterHook = Callable[[str], None]


@dataclass(frozen=True)
class ImageSummary:
    """One pipeline AMI as ``images list`` shows it.

    ``created_at`` is the ``osb-image:built-at`` tag, or EC2's CreationDate when the
    tag is missing. ``channels`` names the environments whose channel has the AMI
    among its recent versions.
    """

    ami_id: str
    name: str
    layer: str
    environment: str
    state: str
    created_at: str
    age_seconds: int
    tests: str | None
    tested_at: str | None
    fingerprint: str | None
    run_id: str | None
    source_ami: str | None
    channels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class KeptImage:
    """An AMI that garbage collection keeps, with every reason it stays."""

    ami_id: str
    layer: str
    environment: str
    reasons: list[str]


@dataclass(frozen=True)
class RemovedImage:
    """An AMI that garbage collection deregistered, or would deregister in a dry run."""

    ami_id: str
    layer: str
    environment: str
    snapshots: list[str]


@dataclass
class GcReport:
    """Outcome of one garbage collection; in a dry run, ``removed`` lists what would go."""

    dry_run: bool
    keep: int
    channel_depth: int
    kept: list[KeptImage] = field(default_factory=list)
    removed: list[RemovedImage] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


@dataclass
class _References:
    """Reasons per referenced AMI, and the environments whose channels reference it."""

    reasons: dict[str, list[str]] = field(default_factory=dict)
    channel_environments: dict[str, list[str]] = field(default_factory=dict)

    def add(self, ami_id: str, reason: str) -> None:
        self.reasons.setdefault(ami_id, []).append(reason)


def list_images(
    clients: ClientFactory,
    pipeline: LoadedPipeline,
    channel_depth: int = DEFAULT_CHANNEL_DEPTH,
    now: datetime | None = None,
) -> list[ImageSummary]:
    """Return every pipeline AMI, sorted by layer, environment and newest first."""
    _check_positive("channel depth", channel_depth)
    now = now or datetime.now(UTC)
    references = _References()
    _add_channel_references(clients, pipeline, channel_depth, references)
    summaries = [_summarize(image, references, now) for image in _pipeline_images(clients)]
    summaries.sort(key=lambda summary: summary.ami_id)
    summaries.sort(key=lambda summary: summary.created_at, reverse=True)
    summaries.sort(key=lambda summary: (summary.layer, summary.environment))
    return summaries


def show(clients: ClientFactory, pipeline: LoadedPipeline, ami_id: str) -> dict[str, Any]:
    """Return an AMI's description, tags, snapshots, referencing channels and provenance document.

    Raises NotFoundError for an unknown AMI. ``provenance`` is None for an AMI baked
    before provenance documents were written.
    """
    image = channels.describe_image(clients, ami_id)
    references = _References()
    _add_channel_references(clients, pipeline, DEFAULT_CHANNEL_DEPTH, references)
    return {
        "ami_id": ami_id,
        "name": image.get("Name"),
        "state": image.get("State"),
        "creation_date": image.get("CreationDate"),
        "tags": tags.as_dict(image.get("Tags")),
        "snapshots": snapshot_ids(image),
        "channels": references.channel_environments.get(ami_id, []),
        "provenance": provenance.read(clients, pipeline.pipeline.artifact_bucket, ami_id),
    }


def gc(
    clients: ClientFactory,
    pipeline: LoadedPipeline,
    keep: int = DEFAULT_KEEP,
    channel_depth: int = DEFAULT_CHANNEL_DEPTH,
    dry_run: bool = False,
    on_deregister: DeregisterHook | None = None,
    min_age_seconds: int = 0,
) -> GcReport:
    """Deregister the pipeline AMIs that nothing needs, with their snapshots and provenance documents.

    AMIs built less than ``min_age_seconds`` ago are kept: a release running at the
    same time may have baked or reused one and be about to promote it.

    Keeps, per layer and environment, the ``keep`` newest AMIs whose tests passed.
    Also keeps every AMI in the last ``channel_depth`` versions of a channel, in any
    version of an environment stack's launch template, or not tested yet, and the
    source AMI of each kept AMI. ``on_deregister`` runs with each removed AMI id
    after its deregistration. A dry run changes nothing and takes no lock. Raises
    RejectedError when another gc holds the lock.
    """
    if keep < 0:
        raise InvalidInputError(f"keep {keep} is invalid; give the number of newest tested AMIs to keep, 0 or more")
    _check_positive("channel depth", channel_depth)
    if min_age_seconds < 0:
        raise InvalidInputError(f"minimum age {min_age_seconds} s is invalid; give zero or more seconds")
    if dry_run:
        return _collect(
            clients, pipeline, keep, channel_depth, dry_run=True, on_deregister=None, min_age_seconds=min_age_seconds
        )
    with locks.held(clients, GC_LOCK_NAME, _GC_LOCK_SECONDS, purpose="images gc"):
        return _collect(
            clients,
            pipeline,
            keep,
            channel_depth,
            dry_run=False,
            on_deregister=on_deregister,
            min_age_seconds=min_age_seconds,
        )


def _collect(
    clients: ClientFactory,
    pipeline: LoadedPipeline,
    keep: int,
    channel_depth: int,
    dry_run: bool,
    on_deregister: DeregisterHook | None,
    min_age_seconds: int = 0,
) -> GcReport:
    images = {str(image["ImageId"]): image for image in _pipeline_images(clients)}
    references = _References()
    _add_channel_references(clients, pipeline, channel_depth, references)
    _add_launch_template_references(clients, pipeline, references)

    reasons: dict[str, list[str]] = {}
    for ami_id, found in references.reasons.items():
        if ami_id in images:
            reasons[ami_id] = list(found)
    _keep_newest_tested(images, keep, reasons)
    _keep_untested(images, reasons)
    _keep_recent(images, min_age_seconds, reasons)
    _keep_sources(images, reasons)

    report = GcReport(dry_run=dry_run, keep=keep, channel_depth=channel_depth)
    for ami_id, image in sorted(images.items(), key=lambda item: _group_and_age(item[1])):
        layer, environment = _group(image)
        if ami_id in reasons:
            report.kept.append(KeptImage(ami_id, layer, environment, reasons[ami_id]))
            logger.debug("%s: kept (%s)", ami_id, "; ".join(reasons[ami_id]))
            continue
        if dry_run:
            report.removed.append(RemovedImage(ami_id, layer, environment, snapshot_ids(image)))
            logger.info("%s: would be deregistered (%s %s)", ami_id, layer, environment)
            continue
        # NOTE: a promotion or rollout that lands after the references were read is not
        # seen here. Such an AMI is protected only if it is among the newest tested.
        snapshots = deregister(clients, image)
        provenance.delete(clients, pipeline.pipeline.artifact_bucket, ami_id)
        if on_deregister is not None:
            on_deregister(ami_id)
        report.removed.append(RemovedImage(ami_id, layer, environment, snapshots))
    return report


def _keep_newest_tested(images: dict[str, dict[str, Any]], keep: int, reasons: dict[str, list[str]]) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for image in images.values():
        if tags.as_dict(image.get("Tags")).get(tags.TESTS) == tags.TESTS_PASSED:
            groups.setdefault(_group(image), []).append(image)
    for (layer, environment), members in groups.items():
        members.sort(key=_newest_first_key)
        for rank, image in enumerate(members[:keep], start=1):
            reasons.setdefault(str(image["ImageId"]), []).append(
                f"among the {keep} newest tested AMIs of layer {layer}, environment {environment} (rank {rank})"
            )


def _keep_recent(images: dict[str, dict[str, Any]], min_age_seconds: int, reasons: dict[str, list[str]]) -> None:
    if min_age_seconds <= 0:
        return
    now = datetime.now(UTC)
    for ami_id, image in images.items():
        age = (now - created_at(image)).total_seconds()
        if age < min_age_seconds:
            reasons.setdefault(ami_id, []).append(
                f"built {age / 3600:.1f} h ago, under the minimum age of {min_age_seconds / 3600:.1f} h; a release may be about to promote it"
            )


def _keep_untested(images: dict[str, dict[str, Any]], reasons: dict[str, list[str]]) -> None:
    for ami_id, image in images.items():
        if tags.TESTS not in tags.as_dict(image.get("Tags")):
            reasons.setdefault(ami_id, []).append("not tested yet; `osb-image reap` removes those of ended runs")


def _keep_sources(images: dict[str, dict[str, Any]], reasons: dict[str, list[str]]) -> None:
    """Keep the source AMI of every kept AMI, repeating until no new AMI is kept."""
    pending = list(reasons)
    while pending:
        ami_id = pending.pop()
        source = tags.as_dict(images[ami_id].get("Tags")).get(tags.SOURCE_AMI)
        if not source or source not in images:
            continue
        if source not in reasons:
            pending.append(source)
        reasons.setdefault(source, []).append(f"source AMI of kept {ami_id}")


def _channel_environments(clients: ClientFactory, pipeline: LoadedPipeline) -> list[str]:
    """Return the environments of pipeline.yaml plus every other channel under the prefix.

    A channel left by an environment that this pipeline.yaml does not name (another
    copy of the file, a removed environment) still protects its AMIs.
    """
    prefix = pipeline.pipeline.channels.parameter_prefix.rstrip("/") + "/"
    names = list(pipeline.pipeline.environments)
    parameters = paginate(
        clients.client("ssm"),
        "describe_parameters",
        "Parameters",
        ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [prefix]}],
    )
    for parameter in parameters:
        environment_name = str(parameter["Name"])[len(prefix) :]
        if environment_name and "/" not in environment_name and environment_name not in names:
            names.append(environment_name)
    return names


def _add_channel_references(
    clients: ClientFactory, pipeline: LoadedPipeline, depth: int, references: _References
) -> None:
    for environment_name in _channel_environments(clients, pipeline):
        versions = channels.parameter_history(clients, pipeline.pipeline.channels.parameter_name(environment_name))
        recent = versions[-depth:]
        for version in reversed(recent):
            current = " (current)" if version is versions[-1] else ""
            references.add(version.ami_id, f"channel {version.name} version {version.version}{current}")
            environments = references.channel_environments.setdefault(version.ami_id, [])
            if environment_name not in environments:
                environments.append(environment_name)


def _add_launch_template_references(clients: ClientFactory, pipeline: LoadedPipeline, references: _References) -> None:
    """Add the AMI of every version of every launch template in the region.

    Every version counts, not only the one in use, because a rollback or a
    CloudFormation update rollback can return the group to any earlier version. All
    launch templates count, not only those of the stacks pipeline.yaml names, so a
    stack that another configuration manages keeps its AMIs too.
    """
    ec2 = clients.client("ec2")
    owners: dict[str, str] = {}
    for environment in pipeline.pipeline.environments.values():
        for template_id in _stack_launch_templates(clients, environment.stack_name):
            owners[template_id] = f"stack {environment.stack_name}"
    for template in paginate(ec2, "describe_launch_templates", "LaunchTemplates"):
        owners.setdefault(
            str(template["LaunchTemplateId"]), f"launch template {template.get('LaunchTemplateName', '')}"
        )
    for template_id, owner in owners.items():
        try:
            versions = paginate(
                ec2, "describe_launch_template_versions", "LaunchTemplateVersions", LaunchTemplateId=template_id
            )
        except ClientError as error:
            if error_code(error) in _LAUNCH_TEMPLATE_GONE_CODES:
                logger.info("%s: launch template %s no longer exists", owner, template_id)
                continue
            raise
        for version in versions:
            image_id = version.get("LaunchTemplateData", {}).get("ImageId")
            if image_id:
                references.add(
                    str(image_id),
                    f"launch template {template_id} version {version['VersionNumber']} of {owner}",
                )


def _stack_launch_templates(clients: ClientFactory, stack_name: str) -> list[str]:
    try:
        stack_resources = paginate(
            clients.client("cloudformation"), "list_stack_resources", "StackResourceSummaries", StackName=stack_name
        )
    except ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in str(error):
            return []
        raise
    return [
        str(resource["PhysicalResourceId"])
        for resource in stack_resources
        if resource.get("ResourceType") == _LAUNCH_TEMPLATE_TYPE and resource.get("PhysicalResourceId")
    ]


def _pipeline_images(clients: ClientFactory) -> list[dict[str, Any]]:
    """Return the AMIs of this account that carry the layer tag; the filter and the check both guard it."""
    images = paginate(
        clients.client("ec2"),
        "describe_images",
        "Images",
        Owners=["self"],
        Filters=[{"Name": "tag-key", "Values": [tags.LAYER]}],
    )
    return [image for image in images if tags.as_dict(image.get("Tags")).get(tags.LAYER)]


def deregister(clients: ClientFactory, image: dict[str, Any]) -> list[str]:
    """Deregister the AMI described by ``image`` and delete its snapshots; return the snapshot ids."""
    return resources.deregister_image(clients.client("ec2"), image)


def _summarize(image: dict[str, Any], references: _References, now: datetime) -> ImageSummary:
    image_tags = tags.as_dict(image.get("Tags"))
    ami_id = str(image["ImageId"])
    created = created_at(image)
    return ImageSummary(
        ami_id=ami_id,
        name=str(image.get("Name", "")),
        layer=image_tags.get(tags.LAYER, ""),
        environment=image_tags.get(tags.ENVIRONMENT, ""),
        state=str(image.get("State", "")),
        created_at=created.isoformat(timespec="seconds"),
        age_seconds=max(0, int((now - created).total_seconds())),
        tests=image_tags.get(tags.TESTS),
        tested_at=image_tags.get(tags.TESTED_AT),
        fingerprint=image_tags.get(tags.FINGERPRINT),
        run_id=image_tags.get(tags.RUN_ID),
        source_ami=image_tags.get(tags.SOURCE_AMI),
        channels=references.channel_environments.get(ami_id, []),
    )


def created_at(image: dict[str, Any]) -> datetime:
    """Return when the AMI was built: its built-at tag, else CreationDate, else the epoch."""
    for value in (tags.as_dict(image.get("Tags")).get(tags.BUILT_AT), image.get("CreationDate")):
        if not value:
            continue
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(0, UTC)


def _group(image: dict[str, Any]) -> tuple[str, str]:
    image_tags = tags.as_dict(image.get("Tags"))
    return image_tags.get(tags.LAYER, ""), image_tags.get(tags.ENVIRONMENT, "")


def _newest_first_key(image: dict[str, Any]) -> tuple[float, str]:
    return -created_at(image).timestamp(), str(image["ImageId"])


def _group_and_age(image: dict[str, Any]) -> tuple[str, str, float, str]:
    return (*_group(image), *_newest_first_key(image))


def snapshot_ids(image: dict[str, Any]) -> list[str]:
    """Return the EBS snapshot ids in the AMI's block device mappings."""
    return [
        str(mapping["Ebs"]["SnapshotId"])
        for mapping in image.get("BlockDeviceMappings", [])
        if mapping.get("Ebs", {}).get("SnapshotId")
    ]


def _check_positive(what: str, value: int) -> None:
    if value < 1:
        raise InvalidInputError(f"{what} {value} is invalid; give 1 or more")
