"""Promote tested AMIs into per-environment channels and read the channels back.

A channel is one SSM String parameter, ``Channels.parameter_name(environment)``,
whose value is an AMI id. SSM keeps every value as a numbered version, so the
parameter's version history is the environment's release history and a rollback
promotes an earlier version's AMI again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from builder import tags
from builder.aws import ClientFactory, error_code, paginate
from builder.config import LoadedPipeline
from builder.errors import InvalidInputError, NotFoundError, RejectedError

logger = logging.getLogger(__name__)

# EC2 issues AMI ids with 8 (older) or 17 hexadecimal digits.
AMI_ID_PATTERN = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")

_IMAGE_NOT_FOUND_CODES = {"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"}


@dataclass(frozen=True)
class ChannelVersion:
    """One version of a channel parameter: the AMI id an environment should run."""

    name: str
    version: int
    ami_id: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def validate_ami_id(ami_id: str) -> str:
    """Return ``ami_id`` unchanged or raise InvalidInputError if it is not an AMI id."""
    if not AMI_ID_PATTERN.match(ami_id):
        raise InvalidInputError(
            f"AMI id {ami_id!r} is invalid; expected 'ami-' followed by 8 or 17 lowercase hexadecimal digits, "
            "e.g. ami-0123456789abcdef0"
        )
    return ami_id


def describe_image(clients: ClientFactory, ami_id: str) -> dict[str, Any]:
    """Return the EC2 description of ``ami_id``; raise NotFoundError if the region has no such AMI."""
    validate_ami_id(ami_id)
    try:
        images = clients.client("ec2").describe_images(ImageIds=[ami_id])["Images"]
    except ClientError as error:
        if error_code(error) in _IMAGE_NOT_FOUND_CODES:
            images = []
        else:
            raise
    if not images:
        raise NotFoundError(f"AMI {ami_id} not found in region {clients.region}; check the id and the region")
    image: dict[str, Any] = images[0]
    return image


def check_promotable(clients: ClientFactory, pipeline: LoadedPipeline, environment_name: str, ami_id: str) -> None:
    """Raise unless ``ami_id`` exists, passed its tests and, with promote_from, was in that channel.

    Raises InvalidInputError for a malformed id, NotFoundError for an unknown AMI or
    environment, and RejectedError when a guard fails.
    """
    environment = pipeline.environment(environment_name)
    image = describe_image(clients, ami_id)

    image_tags = tags.as_dict(image.get("Tags"))
    result = image_tags.get(tags.TESTS)
    if result != tags.TESTS_PASSED:
        found = "is missing" if result is None else f"is {result!r}"
        raise RejectedError(
            f"AMI {ami_id} is not tested for {environment_name}: tag {tags.TESTS} {found}, "
            f"expected {tags.TESTS_PASSED!r}; run `osb-image test {ami_id}` and use it once the tests pass"
        )

    layer = image_tags.get(tags.LAYER)
    if layer is not None and layer != "domain":
        raise RejectedError(
            f"AMI {ami_id} is a {layer} layer AMI with no OSB domain; promote the domain AMI of {environment_name} "
            f"(`osb-image release --env {environment_name}` bakes it on this base)"
        )
    baked_for = image_tags.get(tags.ENVIRONMENT)
    if layer == "domain" and baked_for != environment_name:
        raise RejectedError(
            f"AMI {ami_id} contains the domain of environment {baked_for!r}, not {environment_name!r}; "
            f"bake {environment_name}'s domain with `osb-image release --env {environment_name}`"
        )

    source = environment.promote_from
    if source is None:
        return
    source_parameter = pipeline.pipeline.channels.parameter_name(source)
    source_amis = {version.ami_id for version in history(clients, pipeline, source)}
    if ami_id in source_amis:
        return
    # Domain AMIs are built per environment, so "qa runs only what dev ran" compares the
    # base AMI (OS, JDK and Oracle binaries) that the domain layer was built on.
    base_ami = image_tags.get(tags.SOURCE_AMI) if image_tags.get(tags.LAYER) == "domain" else None
    if base_ami is not None and base_ami in _base_amis(clients, source_amis):
        return
    what = f"its base {base_ami} was never under an AMI of" if base_ami else f"{ami_id} was never in"
    raise RejectedError(
        f"AMI {ami_id} cannot be promoted to {environment_name}: environment {environment_name} takes only what "
        f"{source} ran, and {what} channel {source_parameter}; release {source} on that base first"
    )


def _base_amis(clients: ClientFactory, ami_ids: set[str]) -> set[str]:
    """Return the base AMIs that the given domain AMIs were built on."""
    bases: set[str] = set()
    for ami_id in sorted(ami_ids):
        try:
            image = describe_image(clients, ami_id)
        except NotFoundError:
            continue
        source = tags.as_dict(image.get("Tags")).get(tags.SOURCE_AMI)
        if source:
            bases.add(source)
    return bases


def history(clients: ClientFactory, pipeline: LoadedPipeline, environment_name: str) -> list[ChannelVersion]:
    """Return every version of the environment's channel, oldest first; empty if it was never promoted."""
    pipeline.environment(environment_name)
    return parameter_history(clients, pipeline.pipeline.channels.parameter_name(environment_name))


def parameter_history(clients: ClientFactory, name: str) -> list[ChannelVersion]:
    """Return every version of the channel parameter ``name``, oldest first; empty if it does not exist."""
    try:
        entries = paginate(clients.client("ssm"), "get_parameter_history", "Parameters", Name=name)
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return []
        raise
    versions = [ChannelVersion(name=name, version=int(entry["Version"]), ami_id=entry["Value"]) for entry in entries]
    return sorted(versions, key=lambda version: version.version)


def current(clients: ClientFactory, pipeline: LoadedPipeline, environment_name: str) -> ChannelVersion | None:
    """Return the channel's latest version, or None if the environment was never promoted."""
    pipeline.environment(environment_name)
    name = pipeline.pipeline.channels.parameter_name(environment_name)
    try:
        parameter = clients.client("ssm").get_parameter(Name=name)["Parameter"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return None
        raise
    return ChannelVersion(name=name, version=int(parameter["Version"]), ami_id=parameter["Value"])


def previous(clients: ClientFactory, pipeline: LoadedPipeline, environment_name: str) -> ChannelVersion | None:
    """Return the newest earlier version whose AMI differs from the current one, the target of a rollback.

    Versions that repeat the current AMI are skipped because rolling back to them
    would change nothing. Returns None when no such version exists.
    """
    versions = history(clients, pipeline, environment_name)
    if not versions:
        return None
    latest = versions[-1]
    for version in reversed(versions[:-1]):
        if version.ami_id != latest.ami_id:
            return version
    return None


def promote(
    clients: ClientFactory,
    pipeline: LoadedPipeline,
    environment_name: str,
    ami_id: str,
    run_id: str,
) -> ChannelVersion:
    """Write ``ami_id`` as the channel's new version after the checks of ``check_promotable``.

    Promoting the AMI that the channel already contains writes nothing and returns the
    current version. Tags are set only when the parameter is created, because SSM
    rejects tags together with Overwrite.
    """
    check_promotable(clients, pipeline, environment_name, ami_id)
    name = pipeline.pipeline.channels.parameter_name(environment_name)

    existing = current(clients, pipeline, environment_name)
    if existing is not None and existing.ami_id == ami_id:
        logger.info("%s: already version %d of channel %s; nothing written", ami_id, existing.version, name)
        return existing

    request: dict[str, Any] = {
        "Name": name,
        "Value": ami_id,
        "Type": "String",
        "Description": f"osb-image channel of environment {environment_name}: {ami_id}, promoted by run {run_id}",
    }
    if existing is None:
        request["Tags"] = tags.as_list({tags.ENVIRONMENT: environment_name, tags.RUN_ID: run_id})
    else:
        request["Overwrite"] = True

    try:
        response = clients.client("ssm").put_parameter(**request)
    except ClientError as error:
        if error_code(error) == "ParameterAlreadyExists":
            raise RejectedError(
                f"channel {name}: another promotion created the parameter while this one ran; "
                f"check its value and promote {ami_id} again if it is still wanted"
            ) from error
        raise

    promoted = ChannelVersion(name=name, version=int(response["Version"]), ami_id=ami_id)
    logger.info("%s: promoted to channel %s as version %d (run %s)", ami_id, name, promoted.version, run_id)
    return promoted
