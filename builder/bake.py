"""Bake an AMI: resolve inputs, fingerprint them, render, run Packer, tag, clean up.

Whatever happens after the first AWS call, the ``finally`` block removes every
instance, key pair and security group tagged with this run's id, and a bake that did
not finish also deregisters any AMI of the run, so nothing half-made is left behind.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder import packer, render, resources, tags
from builder.aws import error_code
from builder.config import Installer, LoadedPipeline
from builder.errors import NotFoundError, StepFailedError
from builder.fingerprint import Fingerprint
from builder.network import resolve_subnets
from builder.runs import git_revision, new_run_id, run_directory
from builder.targets.base import Target

logger = logging.getLogger(__name__)

LAYER = "base"
BUILD_NAME = "osb"
PRESIGNED_URL_SECONDS = 3600
REMOTE_ARTIFACTS_DIR = "/tmp/osb-image-artifacts"


@dataclass(frozen=True)
class Artifact:
    """An installer to fetch on the builder, with the SHA-256 it must have."""

    name: str
    key: str
    sha256: str
    sha256_source: str  # "pipeline.yaml" or "bucket checksum"


@dataclass
class BakeResult:
    """Outcome of a bake: the AMI and whether it was reused from an earlier run."""

    ami_id: str
    fingerprint: str
    reused: bool
    run_id: str
    source_ami: str
    inputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ami_id": self.ami_id,
            "fingerprint": self.fingerprint,
            "reused": self.reused,
            "run_id": self.run_id,
            "source_ami": self.source_ami,
            "seconds": round(self.seconds, 1),
        }


def resolve_source_ami(clients: Any, loaded: LoadedPipeline) -> str:
    """Return the newest available AMI that matches ``base_image``."""
    base = loaded.pipeline.base_image
    images = clients.client("ec2").describe_images(
        Owners=base.owners,
        Filters=[
            {"Name": "name", "Values": [base.name]},
            {"Name": "state", "Values": ["available"]},
        ],
    )["Images"]
    # NOTE: filtered here rather than with an "architecture" filter because moto 5.2
    # does not store the Architecture of registered images, which then match nothing.
    images = [image for image in images if image.get("Architecture", base.architecture) == base.architecture]
    if not images:
        raise NotFoundError(
            f"{loaded.path.name}: base_image: no available AMI named {base.name!r} owned by {', '.join(base.owners)}; check the filter"
        )
    newest = max(images, key=lambda image: (image.get("CreationDate", ""), image["ImageId"]))
    return str(newest["ImageId"])


def resolve_artifacts(clients: Any, loaded: LoadedPipeline) -> list[Artifact]:
    """Check that every installer exists in the bucket and settle the SHA-256 to expect."""
    s3 = clients.client("s3")
    bucket = loaded.pipeline.artifact_bucket
    installers = loaded.pipeline.installers
    artifacts = []
    for name, installer in (("jdk", installers.jdk), ("fmw_infrastructure", installers.fmw_infrastructure), ("osb", installers.osb)):
        try:
            head = s3.head_object(Bucket=bucket, Key=installer.key, ChecksumMode="ENABLED")
        except Exception as error:  # botocore ClientError
            if error_code(error) in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}:
                raise NotFoundError(f"installers.{name}: s3://{bucket}/{installer.key} not found; upload it or fix the key") from None
            raise
        artifacts.append(_artifact(name, installer, head, bucket))
    return artifacts


def _artifact(name: str, installer: Installer, head: dict[str, Any], bucket: str) -> Artifact:
    if installer.sha256 is not None:
        return Artifact(name=name, key=installer.key, sha256=installer.sha256, sha256_source="pipeline.yaml")
    stored = head.get("ChecksumSHA256")
    if not stored or "-" in stored:
        reason = "a composite multipart checksum" if stored else "no stored SHA-256 checksum"
        raise NotFoundError(
            f"installers.{name}: s3://{bucket}/{installer.key} has {reason}; record its sha256 in pipeline.yaml"
        )
    try:
        digest = base64.b64decode(stored, validate=True).hex()
    except (binascii.Error, ValueError):
        raise NotFoundError(f"installers.{name}: s3://{bucket}/{installer.key} has an unreadable checksum; record its sha256 in pipeline.yaml") from None
    return Artifact(name=name, key=installer.key, sha256=digest, sha256_source="bucket checksum")


def compute_fingerprint(
    loaded: LoadedPipeline, environment: str, source_ami: str, artifacts: list[Artifact], packer_version: render.PackerVersion
) -> Fingerprint:
    """Hash every input that can change the image: source AMI, templates, scripts, installers, settings."""
    fingerprint = Fingerprint()
    root = loaded.root
    fingerprint.add_value("source_ami", source_ami)
    fingerprint.add_value("packer_version", str(packer_version))
    for path in sorted((root / "packer").rglob("*")):
        if path.is_file():
            fingerprint.add_file(f"file:{path.relative_to(root)}", path)
    for artifact in artifacts:
        fingerprint.add_digest(f"installer:{artifact.name}", artifact.sha256)
    pipeline = loaded.pipeline
    fingerprint.add_value(
        "config",
        {
            "target": pipeline.target,
            "environment": environment,
            "builder": pipeline.builder.model_dump(),
            "installer_versions": {name: getattr(pipeline.installers, name).version for name in ("jdk", "fmw_infrastructure", "osb")},
            "ssh_username": pipeline.base_image.ssh_username,
        },
    )
    return fingerprint


def find_tested_ami(clients: Any, fingerprint: str) -> str | None:
    """Return the newest available AMI of this account with ``fingerprint`` whose tests passed."""
    images = clients.client("ec2").describe_images(
        Owners=["self"],
        Filters=[
            {"Name": f"tag:{tags.FINGERPRINT}", "Values": [fingerprint]},
            {"Name": f"tag:{tags.TESTS}", "Values": [tags.TESTS_PASSED]},
            {"Name": "state", "Values": ["available"]},
        ],
    )["Images"]
    if not images:
        return None
    return str(max(images, key=lambda image: (image.get("CreationDate", ""), image["ImageId"]))["ImageId"])


def bake(target: Target, loaded: LoadedPipeline, environment: str, rebake: bool = False) -> BakeResult:
    """Bake the image for ``environment`` unless a tested AMI with the same fingerprint exists."""
    started = time.monotonic()
    loaded.environment(environment)
    pipeline = loaded.pipeline
    version = render.packer_version()
    clients = target.clients
    run_id = new_run_id()

    source_ami = resolve_source_ami(clients, loaded)
    artifacts = resolve_artifacts(clients, loaded)
    fingerprint = compute_fingerprint(loaded, environment, source_ami, artifacts, version)
    digest = fingerprint.digest()
    logger.info("bake %s: source AMI %s, fingerprint %s", environment, source_ami, digest[:16])

    if not rebake:
        cached = find_tested_ami(clients, digest)
        if cached is not None and _has_local_files(target, cached):
            logger.info("%s: already baked and tested with fingerprint %s; reusing it (use --rebake to force)", cached, digest[:16])
            return BakeResult(cached, digest, True, run_id, source_ami, fingerprint.inputs, time.monotonic() - started)

    directory = run_directory(run_id)
    subnet_reference = pipeline.aws.builder_subnet or pipeline.environments[environment].network.subnets[0]
    subnet = resolve_subnets(clients, [subnet_reference])[0]
    succeeded = False
    ami_id: str | None = None
    try:
        access = resources.create_temporary_access(
            clients, run_id, "builder", subnet.vpc_id, target.ssh_cidr(), directory / "builder-key"
        )
        artifacts_dir = _write_fetch_config(clients, loaded, artifacts, directory / "artifacts")
        with target.builder_host(run_id, source_ami, access.public_key) as endpoint:
            ami_tags = {
                "Name": f"osb-{environment}-{run_id}",
                tags.RUN_ID: run_id,
                tags.FINGERPRINT: digest,
                tags.GIT_REVISION: str(git_revision(loaded.root)),
                tags.ENVIRONMENT: environment,
                tags.LAYER: LAYER,
                tags.SOURCE_AMI: source_ami,
                tags.BUILT_AT: datetime.now(UTC).isoformat(timespec="seconds"),
                "osb-image:jdk-version": pipeline.installers.jdk.version,
                "osb-image:osb-version": pipeline.installers.osb.version,
            }
            variables = {
                "run_id": run_id,
                "ami_name": f"osb-{environment}-{LAYER}-{run_id}",
                "region": pipeline.region,
                "source_ami": source_ami,
                "instance_type": pipeline.builder.instance_type,
                "subnet_id": subnet.subnet_id,
                "security_group_id": access.security_group_id,
                "ssh_username": endpoint.user if endpoint else pipeline.base_image.ssh_username,
                "ssh_keypair_name": access.key_name,
                "ssh_private_key_file": str(access.private_key_file),
                "ssh_timeout": f"{pipeline.builder.ssh_timeout_minutes}m",
                "volume_size_gb": pipeline.builder.volume_size_gb,
                "ami_tags": ami_tags,
                "run_tags": {tags.RUN_ID: run_id, tags.PURPOSE: "builder", "Name": f"osb-image-{run_id}-builder"},
                "manifest_path": str(directory / "manifest.json"),
                "artifacts_dir": str(artifacts_dir),
                "jdk_version": pipeline.installers.jdk.version,
                "fmw_version": pipeline.installers.fmw_infrastructure.version,
                "osb_version": pipeline.installers.osb.version,
                "stand_in_installers": target.stand_in_installers,
                "scripts_dir": str(directory / "packer" / "scripts"),
                "jdk_archive_name": _file_name(pipeline.installers.jdk.key),
                "fmw_installer_name": _file_name(pipeline.installers.fmw_infrastructure.key),
                "osb_installer_name": _file_name(pipeline.installers.osb.key),
                **target.packer_variables(endpoint),
            }
            context = {
                "packer_version": version.as_tuple,
                "needs_required_plugins": version.needs_required_plugins,
                "target": target.name,
                "layer": LAYER,
            }
            rendered = directory / "packer"
            render.render_templates(loaded.root / "packer" / "templates", rendered, context, variables)
            shutil.copytree(loaded.root / "packer" / "scripts", rendered / "scripts", dirs_exist_ok=True)
            environment_vars = _packer_process_environment(target)
            render.validate(rendered, env=environment_vars)
            logger.info("bake %s: packer validate passed; building (log: %s)", environment, directory / "packer.log")

            run = packer.PackerRun(rendered, environment_vars, _report_progress, directory / "packer.log")
            run.run()
            artifact = packer.read_manifest(directory / "manifest.json", run_id, BUILD_NAME, run.packer_run_uuid)
            ami_id = artifact.ami_id
            target.store_image(endpoint, ami_id)
        _check_tagged(clients, ami_id, digest)
        succeeded = True
        logger.info("%s: baked for %s in %.0f s", ami_id, environment, time.monotonic() - started)
        return BakeResult(ami_id, digest, False, run_id, source_ami, fingerprint.inputs, time.monotonic() - started)
    finally:
        _clean_up(target, run_id, succeeded, ami_id, directory)


def _file_name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def _has_local_files(target: Target, ami_id: str) -> bool:
    if target.name != "local":
        return True
    image_root = getattr(target, "image_root", None)
    try:
        return bool(image_root and image_root(ami_id))
    except NotFoundError:
        return False


def _write_fetch_config(clients: Any, loaded: LoadedPipeline, artifacts: list[Artifact], directory: Path) -> Path:
    """Write curl's config (presigned URLs) and SHA256SUMS; neither reaches a command line."""
    s3 = clients.client("s3")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    curl_lines = []
    sums = []
    for artifact in artifacts:
        file_name = _file_name(artifact.key)
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": loaded.pipeline.artifact_bucket, "Key": artifact.key}, ExpiresIn=PRESIGNED_URL_SECONDS
        )
        curl_lines.append(f'url = "{url}"\noutput = "{file_name}"\n')
        sums.append(f"{artifact.sha256}  {file_name}\n")
    fetch = directory / "fetch.curl"
    fetch.touch(mode=0o600)
    fetch.write_text("".join(curl_lines), encoding="utf-8")
    (directory / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
    return directory


def _packer_process_environment(target: Target) -> dict[str, str]:
    keep = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "USER", "SSL_CERT_FILE", "PACKER_PLUGIN_PATH", "PACKER_CACHE_DIR")
    environment = {key: os.environ[key] for key in keep if key in os.environ}
    if target.name == "aws":
        environment.update({key: value for key, value in os.environ.items() if key.startswith("AWS_")})
    environment.update(target.packer_environment())
    environment["CHECKPOINT_DISABLE"] = "1"  # no version check calls to HashiCorp
    environment["PACKER_NO_COLOR"] = "1"
    return environment


def _report_progress(line: packer.MachineReadableLine) -> None:
    if line.kind == "ui" and len(line.data) >= 2 and line.data[0] in {"say", "message", "error"}:
        text = line.data[1].strip()
        if text and packer.RUN_UUID_MARKER not in text:
            logger.info("packer: %s", text)


def _check_tagged(clients: Any, ami_id: str, fingerprint: str) -> None:
    images = clients.client("ec2").describe_images(ImageIds=[ami_id])["Images"]
    if not images:
        raise StepFailedError(f"{ami_id}: Packer reported this AMI but it does not exist")
    found = tags.as_dict(images[0].get("Tags")).get(tags.FINGERPRINT)
    if found != fingerprint:
        raise StepFailedError(f"{ami_id}: fingerprint tag is {found!r}, expected {fingerprint}; the AMI is removed")


def _clean_up(target: Target, run_id: str, succeeded: bool, ami_id: str | None, directory: Path) -> None:
    """Remove the run's temporary resources; on failure also its AMIs and stored files."""
    try:
        report = resources.cleanup_run(target.clients, run_id, remove_images=not succeeded)
        if not succeeded:
            for image_id in report.images + ([ami_id] if ami_id else []):
                target.forget_image(image_id)
    finally:
        shutil.rmtree(directory / "artifacts", ignore_errors=True)
        for key_file in directory.glob("*-key/id_rsa"):
            key_file.unlink(missing_ok=True)
