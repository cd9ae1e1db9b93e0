"""Temporary AWS resources of a run (key pairs, security groups) and cleanup by run id.

Every temporary resource is tagged with the run id when it is created, by the driver
or by Packer. A failed or interrupted run is then cleaned up by searching for that tag.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import tags
from builder.aws import error_code, paginate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemporaryAccess:
    """An imported key pair with its private key file and a security group for SSH."""

    key_name: str
    private_key_file: Path
    public_key: str
    security_group_id: str


@dataclass
class CleanupReport:
    """Ids of the resources that cleanup removed, by resource type."""

    instances: list[str] = field(default_factory=list)
    key_pairs: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any((self.instances, self.key_pairs, self.security_groups, self.images, self.snapshots))


def generate_key(directory: Path, comment: str) -> tuple[Path, str]:
    """Write a new RSA private key (mode 0600) into ``directory``; return its path and public key."""
    import paramiko

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = paramiko.RSAKey.generate(3072)
    private_path = directory / "id_rsa"
    private_path.touch(mode=0o600)
    key.write_private_key_file(str(private_path))
    public_key = f"{key.get_name()} {key.get_base64()} {comment}"
    # Kept after the run so that image tests can check this key was not left in the image.
    private_path.with_suffix(".pub").write_text(public_key + "\n", encoding="utf-8")
    return private_path, public_key


def create_temporary_access(
    clients: Any, run_id: str, purpose: str, vpc_id: str, ssh_cidr: str, key_directory: Path
) -> TemporaryAccess:
    """Import a fresh key pair and create an SSH security group, both tagged with the run id."""
    ec2 = clients.client("ec2")
    run_tags = {tags.RUN_ID: run_id, tags.PURPOSE: purpose, "Name": f"osb-image-{run_id}-{purpose}"}
    name = f"osb-image-{run_id}-{purpose}"

    private_key_file, public_key = generate_key(key_directory, name)
    ec2.import_key_pair(
        KeyName=name,
        PublicKeyMaterial=public_key.encode("ascii"),
        TagSpecifications=tags.tag_specifications("key-pair", run_tags),
    )
    logger.info("key pair %s: imported for run %s", name, run_id)

    group = ec2.create_security_group(
        GroupName=name,
        Description=f"osb-image {purpose} SSH access for run {run_id}",
        VpcId=vpc_id,
        TagSpecifications=tags.tag_specifications("security-group", run_tags),
    )
    group_id = str(group["GroupId"])
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": ssh_cidr, "Description": "SSH from the build network"}],
            }
        ],
    )
    logger.info("security group %s: created for run %s (SSH from %s)", group_id, run_id, ssh_cidr)
    return TemporaryAccess(
        key_name=name, private_key_file=private_key_file, public_key=public_key, security_group_id=group_id
    )


def cleanup_run(clients: Any, run_id: str, remove_images: bool) -> CleanupReport:
    """Remove every instance, key pair and security group tagged with ``run_id``.

    With ``remove_images`` (a failed or interrupted bake), AMIs tagged with the run id
    are deregistered and their snapshots deleted as well. Resources already gone are
    skipped, so cleanup can run any number of times.
    """
    ec2 = clients.client("ec2")
    run_filter = [{"Name": f"tag:{tags.RUN_ID}", "Values": [run_id]}]
    report = CleanupReport()

    reservations = paginate(ec2, "describe_instances", "Reservations", Filters=run_filter)
    live = [
        instance["InstanceId"]
        for reservation in reservations
        for instance in reservation["Instances"]
        if instance["State"]["Name"] not in {"terminated", "shutting-down"}
    ]
    if live:
        ec2.terminate_instances(InstanceIds=live)
        _wait_terminated(ec2, live)
        report.instances = live
        logger.info("run %s: terminated instances %s", run_id, ", ".join(live))

    if remove_images:
        images = ec2.describe_images(Owners=["self"], Filters=run_filter)["Images"]
        for image in images:
            report.images.append(image["ImageId"])
            report.snapshots.extend(deregister_image(ec2, image))

    for pair in ec2.describe_key_pairs(Filters=run_filter)["KeyPairs"]:
        ec2.delete_key_pair(KeyName=pair["KeyName"])
        report.key_pairs.append(pair["KeyName"])
        logger.info("run %s: deleted key pair %s", run_id, pair["KeyName"])

    for group in paginate(ec2, "describe_security_groups", "SecurityGroups", Filters=run_filter):
        try:
            ec2.delete_security_group(GroupId=group["GroupId"])
        except Exception as error:  # botocore ClientError; imported lazily with boto3
            if error_code(error) == "InvalidGroup.NotFound":
                continue
            raise
        report.security_groups.append(group["GroupId"])
        logger.info("run %s: deleted security group %s", run_id, group["GroupId"])
    return report


def deregister_image(ec2: Any, image: dict[str, Any]) -> list[str]:
    """Deregister an AMI and delete its EBS snapshots; return the snapshot ids.

    An AMI that is already deregistered counts as done, and its snapshots are still deleted.
    """
    image_id = image["ImageId"]
    snapshots = [
        mapping["Ebs"]["SnapshotId"]
        for mapping in image.get("BlockDeviceMappings", [])
        if mapping.get("Ebs", {}).get("SnapshotId")
    ]
    try:
        ec2.deregister_image(ImageId=image_id)
        logger.info("%s: deregistered", image_id)
    except Exception as error:  # botocore ClientError
        if error_code(error) not in {"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"}:
            raise
        logger.info("%s: already deregistered", image_id)
    for snapshot in snapshots:
        try:
            ec2.delete_snapshot(SnapshotId=snapshot)
        except Exception as error:  # botocore ClientError
            if error_code(error) != "InvalidSnapshot.NotFound":
                raise
        logger.info("%s: deleted snapshot %s", image_id, snapshot)
    return snapshots


def _wait_terminated(ec2: Any, instance_ids: list[str]) -> None:
    waiter = ec2.get_waiter("instance_terminated")
    waiter.wait(InstanceIds=instance_ids, WaiterConfig={"Delay": 2, "MaxAttempts": 150})
