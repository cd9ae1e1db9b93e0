"""Seed a moto server with what the local target provides: network, hosted zone and AMIs."""

from __future__ import annotations

import time
from dataclasses import dataclass

from builder import tags
from builder.aws import ClientFactory


@dataclass(frozen=True)
class Seed:
    """Ids of what the seeding created."""

    vpc_id: str
    subnet_ids: list[str]
    zone_id: str
    tested_ami: str
    untested_ami: str


def register_ami(clients: ClientFactory, name: str, image_tags: dict[str, str]) -> str:
    """Register an AMI from a fresh snapshot and tag it; return its id."""
    ec2 = clients.client("ec2")
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"])
    ami_id = str(
        ec2.register_image(
            Name=name,
            Architecture="x86_64",
            RootDeviceName="/dev/xvda",
            VirtualizationType="hvm",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot["SnapshotId"]}}],
        )["ImageId"]
    )
    if image_tags:
        ec2.create_tags(Resources=[ami_id], Tags=tags.as_list(image_tags))
    return ami_id


def register_tested_ami(clients: ClientFactory, name: str) -> str:
    """Register an AMI tagged as having passed its tests."""
    return register_ami(clients, name, {tags.TESTS: tags.TESTS_PASSED})


def seed_local_target(clients: ClientFactory) -> Seed:
    """Create the network, the hosted zone and the two AMIs of the local target."""
    ec2 = clients.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = []
    for name, zone, cidr in [
        ("osb-private-a", "us-east-1a", "10.20.1.0/24"),
        ("osb-private-b", "us-east-1b", "10.20.2.0/24"),
    ]:
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        ec2.create_tags(Resources=[subnet_id], Tags=[{"Key": "Name", "Value": name}])
        subnet_ids.append(subnet_id)

    zone = clients.client("route53").create_hosted_zone(
        Name="osb.internal",
        CallerReference=f"seed-{time.time_ns()}",
        HostedZoneConfig={"PrivateZone": True, "Comment": "osb-image local target"},
        VPC={"VPCRegion": "us-east-1", "VPCId": vpc_id},
    )
    zone_id = str(zone["HostedZone"]["Id"]).removeprefix("/hostedzone/")

    return Seed(
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        zone_id=zone_id,
        tested_ami=register_tested_ami(clients, "osb-image-tested"),
        untested_ami=register_ami(clients, "osb-image-untested", {}),
    )
