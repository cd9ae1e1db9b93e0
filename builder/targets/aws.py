"""The aws target: boto3's normal credential chain, EC2 instances for builds and tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from builder import tags
from builder.aws import ClientFactory
from builder.config import LoadedPipeline
from builder.targets.base import SshEndpoint

logger = logging.getLogger(__name__)

INSTANCE_RUNNING_TIMEOUT_ATTEMPTS = 60  # 5 s apart: five minutes


class AwsTarget:
    """Target for a real AWS account; Packer launches the builder instance itself."""

    name = "aws"
    stand_in_installers = False

    def __init__(self, loaded: LoadedPipeline) -> None:
        self.loaded = loaded
        self._clients: ClientFactory | None = None

    @property
    def clients(self) -> ClientFactory:
        if self._clients is None:
            pipeline = self.loaded.pipeline
            self._clients = ClientFactory(region=pipeline.region, profile=pipeline.aws.profile)
        return self._clients

    def packer_variables(self, endpoint: SshEndpoint | None) -> dict[str, Any]:
        return {}

    def packer_environment(self) -> dict[str, str]:
        profile = self.loaded.pipeline.aws.profile
        return {"AWS_PROFILE": profile} if profile else {}

    def ssh_cidr(self) -> str:
        """Return the CIDR of the builder subnet's VPC: the driver runs inside that network."""
        ec2 = self.clients.client("ec2")
        subnet_name = self.loaded.pipeline.aws.builder_subnet
        assert subnet_name is not None
        from builder.network import resolve_subnets

        subnets = resolve_subnets(self.clients, [subnet_name])
        vpc = ec2.describe_vpcs(VpcIds=[subnets[0].vpc_id])["Vpcs"][0]
        return str(vpc["CidrBlock"])

    def stand_in_artifacts(self, layer: str) -> list[Any]:
        """Return nothing: on AWS every layer fetches the real installers."""
        return []

    @contextmanager
    def builder_host(self, run_id: str, source_ami: str, public_key: str) -> Iterator[SshEndpoint | None]:
        yield None

    def store_image(self, endpoint: SshEndpoint | None, ami_id: str) -> None:
        """Do nothing: on AWS the AMI's snapshots are the image store."""

    def forget_image(self, ami_id: str) -> None:
        """Do nothing: deregistering the AMI is enough on AWS."""

    @contextmanager
    def test_instance(self, run_id: str, ami_id: str, access: Any, subnet_id: str) -> Iterator[SshEndpoint]:
        """Launch ``ami_id`` in the test subnet and always terminate it."""
        ec2 = self.clients.client("ec2")
        instance_tags = {tags.RUN_ID: run_id, tags.PURPOSE: "test", "Name": f"osb-image-{run_id}-test"}
        reservation = ec2.run_instances(
            ImageId=ami_id,
            InstanceType="t3.large",
            MinCount=1,
            MaxCount=1,
            KeyName=access.key_name,
            SecurityGroupIds=[access.security_group_id],
            SubnetId=subnet_id,
            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
            TagSpecifications=tags.tag_specifications("instance", instance_tags),
        )
        instance_id = reservation["Instances"][0]["InstanceId"]
        logger.info("%s: launched %s for testing", ami_id, instance_id)
        try:
            ec2.get_waiter("instance_status_ok").wait(
                InstanceIds=[instance_id], WaiterConfig={"Delay": 5, "MaxAttempts": INSTANCE_RUNNING_TIMEOUT_ATTEMPTS}
            )
            instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
            user = self.loaded.pipeline.base_image.ssh_username
            yield SshEndpoint(host=instance["PrivateIpAddress"], port=22, user=user, instance_id=instance_id)
        finally:
            ec2.terminate_instances(InstanceIds=[instance_id])
            logger.info("%s: terminated test instance %s", ami_id, instance_id)
