"""Compare each environment's channel with the AMI that its stack actually runs."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from builder import channels, rollout
from builder.aws import ClientFactory
from builder.config import LoadedPipeline

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnvironmentStatus:
    """Channel and stack state of one environment.

    ``stack_status`` is ``absent`` when the stack does not exist. ``in_sync`` is
    true only when the channel has an AMI and the Auto Scaling Group's launch
    template version uses that same AMI.
    """

    environment: str
    channel_parameter: str
    channel_version: int | None
    channel_ami: str | None
    stack_name: str
    stack_status: str
    stack_ami: str | None
    launch_template_version: int | None
    in_sync: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def environment_status(clients: ClientFactory, pipeline: LoadedPipeline) -> list[EnvironmentStatus]:
    """Read the channel and the deployed AMI of every environment, in pipeline.yaml order."""
    statuses: list[EnvironmentStatus] = []
    for name, environment in pipeline.pipeline.environments.items():
        channel = channels.current(clients, pipeline, name)
        image = rollout.stack_image(clients, pipeline, name)
        channel_ami = channel.ami_id if channel else None
        status = EnvironmentStatus(
            environment=name,
            channel_parameter=pipeline.pipeline.channels.parameter_name(name),
            channel_version=channel.version if channel else None,
            channel_ami=channel_ami,
            stack_name=environment.stack_name,
            stack_status=image.stack_status,
            stack_ami=image.ami_id,
            launch_template_version=image.launch_template_version,
            in_sync=channel_ami is not None and channel_ami == image.ami_id,
        )
        logger.debug("%s: channel %s, stack %s runs %s", name, channel_ami, image.stack_status, image.ami_id)
        statuses.append(status)
    return statuses
