"""The embedded local target: AWS APIs from a moto server, instances as chroot hosts.

Packer's real amazon-ebs builder talks to the emulator and provisions a chroot host
over real SSH. When Packer has registered the AMI, the host's files move into the
image store under the AMI id. Launching that AMI copies them into a new host.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from builder import tags
from builder.aws import ClientFactory, error_code
from builder.config import LoadedPipeline
from builder.errors import NotFoundError, StepFailedError
from builder.layers import Artifact
from builder.local import emulator, hosts, rootfs
from builder.local.paths import LocalPaths
from builder.targets.base import SshEndpoint

logger = logging.getLogger(__name__)

WLST_STANDIN_ARCHIVE = "wlst-standin-jython-2.7.3-runtime.tar.gz"
WLST_STANDIN_KEY = f"standins/{WLST_STANDIN_ARCHIVE}"
SEED_VPC_NAME = "osb-local"
SEED_VPC_CIDR = "10.80.0.0/16"
SEED_IMAGE_NAME = "debian-12-amd64-bookworm-osb-image-local"
SEED_IMAGE_ID = "ami-0deb12b00c5eed001"
DEBIAN_OWNER_ID = "136693071363"


class LocalTarget:
    """Target whose AWS is the embedded emulator and whose instances are chroot hosts."""

    name = "local"
    stand_in_installers = True

    def __init__(self, loaded: LoadedPipeline, paths: LocalPaths | None = None) -> None:
        self.loaded = loaded
        self.paths = paths or LocalPaths.from_environment()
        self._clients: ClientFactory | None = None

    @property
    def clients(self) -> ClientFactory:
        """Return clients bound to the emulator, starting and seeding it on first use."""
        if self._clients is None:
            hosts.require_root()
            state, started = emulator.ensure_running(self.paths, base_image_definitions())
            if started:
                self._forget_image_store()
            self._clients = ClientFactory(
                region=self.loaded.pipeline.region,
                endpoint_url=state.endpoint,
                static_credentials=emulator.CREDENTIALS,
            )
            seed(self._clients, self.loaded, self.paths)
        return self._clients

    @property
    def endpoint(self) -> str:
        endpoint = self.clients.endpoint_url
        assert endpoint is not None
        return endpoint

    def packer_variables(self, endpoint: SshEndpoint | None) -> dict[str, Any]:
        """Return the variables that point Packer at the emulator and the chroot host."""
        assert endpoint is not None
        return {"custom_endpoint_ec2": self.endpoint, "ssh_host": endpoint.host, "ssh_port": endpoint.port}

    def packer_environment(self) -> dict[str, str]:
        """Return the credentials for Packer: dummy ones that only the emulator accepts."""
        access_key, secret_key = emulator.CREDENTIALS
        return {
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def ssh_cidr(self) -> str:
        return "127.0.0.1/32"

    def stand_in_artifacts(self, layer: str) -> list[Artifact]:
        """Return the stand-ins a layer fetches on this target: the WLST runtime for the domain."""
        if layer != "domain":
            return []
        archive = self.paths.seed_cache / WLST_STANDIN_ARCHIVE
        return [Artifact("wlst_standin_runtime", WLST_STANDIN_KEY, rootfs.sha256_of(archive), "local seed")]

    @contextmanager
    def builder_host(self, run_id: str, source_ami: str, public_key: str) -> Iterator[SshEndpoint]:
        """Start the chroot host that Packer provisions; stop it on exit."""
        host_id = f"{run_id}-builder"
        host = hosts.start_host(self.paths, host_id, self.image_root(source_ami), public_key)
        try:
            yield SshEndpoint(host=host.address, port=host.port, user=host.ssh_user, host_id=host_id)
        finally:
            hosts.stop_host(self.paths, host_id)

    def store_image(self, endpoint: SshEndpoint | None, ami_id: str) -> None:
        """Move the stopped builder host's files into the image store under ``ami_id``."""
        assert endpoint is not None and endpoint.host_id is not None
        root = hosts.stop_host(self.paths, endpoint.host_id, keep_files=True)
        if root is None:
            raise StepFailedError(f"host {endpoint.host_id}: files are gone; cannot store {ami_id}")
        destination = self.paths.images / ami_id
        destination.mkdir(parents=True, exist_ok=True)
        root.rename(destination / "root")
        shutil.rmtree(root.parent)
        logger.info("%s: stored the builder host's file system in %s", ami_id, destination)

    def forget_image(self, ami_id: str) -> None:
        """Remove an AMI's files from the image store, if present."""
        directory = self.paths.images / ami_id
        if directory.is_symlink() or directory.is_file():
            directory.unlink()
        elif directory.exists():
            shutil.rmtree(directory)

    def image_root(self, ami_id: str) -> Path:
        """Return the stored root file system of ``ami_id``."""
        root = self.paths.images / ami_id / "root"
        if not root.exists():
            raise NotFoundError(f"{ami_id}: no files in the local image store ({root}); bake it on this machine first")
        return root.resolve()

    @contextmanager
    def test_instance(self, run_id: str, ami_id: str, access: Any, subnet_id: str) -> Iterator[SshEndpoint]:
        """Launch ``ami_id`` as an emulated instance plus a chroot host; remove both on exit."""
        ec2 = self.clients.client("ec2")
        host_id = f"{run_id}-test"
        instance_tags = {tags.RUN_ID: run_id, tags.PURPOSE: "test", "Name": f"osb-image-{run_id}-test"}
        reservation = ec2.run_instances(
            ImageId=ami_id,
            InstanceType="t3.medium",
            MinCount=1,
            MaxCount=1,
            KeyName=access.key_name,
            SecurityGroupIds=[access.security_group_id],
            SubnetId=subnet_id,
            TagSpecifications=tags.tag_specifications("instance", instance_tags),
        )
        instance_id = reservation["Instances"][0]["InstanceId"]
        logger.info("%s: launched %s for testing (host %s)", ami_id, instance_id, host_id)
        try:
            host = hosts.start_host(self.paths, host_id, self.image_root(ami_id), access.public_key)
            try:
                yield SshEndpoint(
                    host=host.address, port=host.port, user=host.ssh_user, host_id=host_id, instance_id=instance_id
                )
            finally:
                hosts.stop_host(self.paths, host_id)
        finally:
            ec2.terminate_instances(InstanceIds=[instance_id])
            logger.info("%s: terminated test instance %s", ami_id, instance_id)

    def _forget_image_store(self) -> None:
        """Drop stored images: a new emulator has none of the AMIs they belong to."""
        if self.paths.images.exists():
            shutil.rmtree(self.paths.images)
        hosts.stop_all_hosts(self.paths)


def seed(clients: ClientFactory, loaded: LoadedPipeline, paths: LocalPaths) -> None:
    """Create what the example pipeline expects to find in an account; safe to rerun."""
    pipeline = loaded.pipeline
    _seed_bucket(clients, loaded, paths)
    vpc_id = _seed_vpc(clients)
    names = sorted(
        {
            subnet
            for environment in pipeline.environments.values()
            for subnet in environment.network.subnets
            if not subnet.startswith("subnet-")
        }
    )
    _seed_subnets(clients, vpc_id, names, pipeline.region)
    for zone in sorted({environment.dns.zone.rstrip(".") for environment in pipeline.environments.values()}):
        _seed_hosted_zone(clients, zone, vpc_id, pipeline.region)
    _seed_base_image(paths)


def _seed_bucket(clients: ClientFactory, loaded: LoadedPipeline, paths: LocalPaths) -> None:
    s3 = clients.client("s3")
    bucket = loaded.pipeline.artifact_bucket
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as error:  # botocore ClientError
        if error_code(error) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        s3.create_bucket(Bucket=bucket)
        logger.info("bucket %s: created in the emulator", bucket)

    rootfs.ensure_rootfs(paths)
    files = {rootfs.JDK_ARCHIVE: paths.seed_cache / rootfs.JDK_ARCHIVE, **rootfs.ensure_stand_in_installers(paths)}
    _upload_if_missing(s3, bucket, WLST_STANDIN_KEY, _wlst_standin_runtime(paths))
    for installer in (
        loaded.pipeline.installers.jdk,
        loaded.pipeline.installers.fmw_infrastructure,
        loaded.pipeline.installers.osb,
    ):
        name = installer.key.rsplit("/", 1)[-1]
        source = files.get(name)
        if source is None:
            logger.warning("bucket %s: no local seed for %s; upload it yourself to test with it", bucket, installer.key)
            continue
        _upload_if_missing(s3, bucket, installer.key, source)


def _wlst_standin_runtime(paths: LocalPaths) -> Path:
    """Return the Jython runtime archive that replaces Oracle's wlst.sh, building it once."""
    archive = paths.seed_cache / WLST_STANDIN_ARCHIVE
    if not archive.is_file():
        from builder.domain_render import build_wlst_standin_runtime

        paths.seed_cache.mkdir(parents=True, exist_ok=True)
        build_wlst_standin_runtime(archive)
    return archive


def _upload_if_missing(s3: Any, bucket: str, key: str, source: Path) -> None:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return
    except Exception as error:  # botocore ClientError
        if error_code(error) not in {"404", "NoSuchKey", "NotFound"}:
            raise
    with source.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")
    logger.info("bucket %s: uploaded %s", bucket, key)


def _seed_vpc(clients: ClientFactory) -> str:
    ec2 = clients.client("ec2")
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [SEED_VPC_NAME]}])["Vpcs"]
    if found:
        return str(found[0]["VpcId"])
    vpc = ec2.create_vpc(
        CidrBlock=SEED_VPC_CIDR, TagSpecifications=tags.tag_specifications("vpc", {"Name": SEED_VPC_NAME})
    )["Vpc"]
    logger.info("vpc %s: created %s (%s)", vpc["VpcId"], SEED_VPC_NAME, SEED_VPC_CIDR)
    return str(vpc["VpcId"])


def _seed_subnets(clients: ClientFactory, vpc_id: str, names: list[str], region: str) -> None:
    ec2 = clients.client("ec2")
    existing = {
        tags.as_dict(subnet.get("Tags")).get("Name"): subnet
        for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    }
    for index, name in enumerate(names):
        if name in existing:
            continue
        zone = f"{region}{'abc'[index % 3]}"
        subnet = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=f"10.80.{index + 1}.0/24",
            AvailabilityZone=zone,
            TagSpecifications=tags.tag_specifications("subnet", {"Name": name}),
        )["Subnet"]
        logger.info("subnet %s: created %s in %s", subnet["SubnetId"], name, zone)


def _seed_hosted_zone(clients: ClientFactory, zone: str, vpc_id: str, region: str) -> None:
    route53 = clients.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName=zone)["HostedZones"]
    if any(found["Name"].rstrip(".") == zone for found in zones):
        return
    created = route53.create_hosted_zone(
        Name=zone,
        CallerReference=f"osb-image-local-{zone}",
        HostedZoneConfig={"Comment": "osb-image local target", "PrivateZone": True},
        VPC={"VPCRegion": region, "VPCId": vpc_id},
    )
    logger.info("hosted zone %s: created %s", created["HostedZone"]["Id"], zone)


def base_image_definitions() -> list[dict[str, Any]]:
    """Return the AMI list handed to moto through MOTO_AMIS_PATH: only the base OS image.

    moto registers images made by RegisterImage or CreateImage with root device type
    "standard", which Packer's amazon-ebs builder rejects as a source, so the base image
    is defined at emulator start instead, with an EBS root as on AWS. Its owner is the
    account that publishes Debian's official AMIs, so the base_image filter of
    pipeline.yaml is the one that works on AWS too.
    """
    return [
        {
            "ami_id": SEED_IMAGE_ID,
            "name": SEED_IMAGE_NAME,
            "description": "Debian 12 (bookworm) minbase root file system made with debootstrap by osb-image",
            "owner_id": DEBIAN_OWNER_ID,
            "public": True,
            "virtualization_type": "hvm",
            "architecture": "x86_64",
            "state": "available",
            "hypervisor": "xen",
            "image_type": "machine",
            "root_device_type": "ebs",
            "root_device_name": "/dev/xvda",
            "creation_date": "2026-01-01T00:00:00.000Z",
        }
    ]


def _seed_base_image(paths: LocalPaths) -> None:
    """Point the image store entry of the base OS AMI at the cached root file system."""
    link = paths.images / SEED_IMAGE_ID / "root"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(paths.rootfs_cache)
