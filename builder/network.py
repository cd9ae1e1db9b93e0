"""Resolve subnets named in pipeline.yaml (ids or Name tags) to ids and their VPC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from builder import tags
from builder.errors import NotFoundError


@dataclass(frozen=True)
class Subnet:
    """A resolved subnet."""

    subnet_id: str
    vpc_id: str
    name: str | None
    availability_zone: str


def resolve_subnets(clients: Any, references: list[str]) -> list[Subnet]:
    """Return the subnets for ids (``subnet-...``) or Name tags, in the given order.

    Raises NotFoundError naming the reference that matches no subnet, or that matches
    more than one by name, and when the subnets are not all in one VPC.
    """
    ec2 = clients.client("ec2")
    resolved: list[Subnet] = []
    for reference in references:
        if reference.startswith("subnet-"):
            found = ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": [reference]}])["Subnets"]
        else:
            found = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": [reference]}])["Subnets"]
        if not found:
            raise NotFoundError(
                f"subnet {reference!r} not found in region {clients.region}; check network.subnets in pipeline.yaml"
            )
        if len(found) > 1:
            ids = ", ".join(subnet["SubnetId"] for subnet in found)
            raise NotFoundError(
                f"subnet name {reference!r} matches {len(found)} subnets ({ids}); use subnet ids instead"
            )
        subnet = found[0]
        resolved.append(
            Subnet(
                subnet_id=subnet["SubnetId"],
                vpc_id=subnet["VpcId"],
                name=tags.as_dict(subnet.get("Tags")).get("Name"),
                availability_zone=subnet["AvailabilityZone"],
            )
        )
    vpcs = {subnet.vpc_id for subnet in resolved}
    if len(vpcs) > 1:
        raise NotFoundError(
            f"subnets {', '.join(references)} are in different VPCs ({', '.join(sorted(vpcs))}); list subnets of one VPC"
        )
    return resolved
