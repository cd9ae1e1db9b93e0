"""Bake an AMI: resolve inputs, fingerprint them, render, run Packer, tag, clean up.

Whatever happens after the first AWS call, the ``finally`` block removes every
instance, key pair and security group tagged with this run's id. A bake that did not
finish also deregisters any AMI of the run, so nothing half-made is left behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder import layers, locks, packer, reap, render, resources, tags
from builder.config import LoadedPipeline
from builder.errors import NotFoundError, StepFailedError
from builder.layers import BASE, DOMAIN, Artifact, LayerPlan
from builder.network import resolve_subnets
from builder.runs import git_revision, new_run_id, run_directory, runs_directory
from builder.signals import shielded
from builder.targets.base import Target

logger = logging.getLogger(__name__)

BUILD_NAME = "osb"
PRESIGNED_URL_SECONDS = 3600
# A bake takes a lock on its layer and fingerprint. A second bake of the same waits up to
# BAKE_LOCK_WAIT_SECONDS for the first to finish, then reuses its AMI.
BAKE_LOCK_SECONDS = 4 * 3600
BAKE_LOCK_WAIT_SECONDS = 3 * 3600


@dataclass
class BakeResult:
    """Outcome of one layer's bake: the AMI and whether it was reused from an earlier run."""

    layer: str
    environment: str
    ami_id: str
    fingerprint: str
    reused: bool
    run_id: str | None
    source_ami: str
    reason: str = ""
    seconds: float = 0.0
    inputs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "environment": self.environment,
            "ami_id": self.ami_id,
            "fingerprint": self.fingerprint,
            "reused": self.reused,
            "reason": self.reason,
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


def layer_artifacts(target: Target, loaded: LoadedPipeline, layer: str) -> list[Artifact]:
    """Return the bucket files a layer fetches on the builder, each with its SHA-256."""
    s3 = target.clients.client("s3")
    bucket = loaded.pipeline.artifact_bucket
    installers = loaded.pipeline.installers
    if layer == BASE:
        return [
            layers.resolve_installer(s3, bucket, name, getattr(installers, name))
            for name in ("jdk", "fmw_infrastructure", "osb")
        ]
    if target.stand_in_installers:
        return list(target.stand_in_artifacts(DOMAIN))
    if installers.chef_client is None:
        raise NotFoundError("installers.chef_client: required to bake the domain layer on AWS; add it to pipeline.yaml")
    return [layers.resolve_installer(s3, bucket, "chef_client", installers.chef_client)]


def plan_layer(
    target: Target,
    loaded: LoadedPipeline,
    layer: str,
    environment: str,
    source_ami: str,
    rebake: bool,
    version: render.PackerVersion,
) -> LayerPlan:
    """Fingerprint a layer on ``source_ami`` and decide whether to reuse or bake it."""
    artifacts = layer_artifacts(target, loaded, layer)
    layer_environment = layers.ALL_ENVIRONMENTS if layer == BASE else environment
    fingerprint = layers.layer_fingerprint(
        loaded, layer, layer_environment, source_ami, artifacts, version, target.name, target.stand_in_installers
    )
    recorded = layers.recorded_inputs_from_bucket(target.clients, loaded.pipeline.artifact_bucket)
    plan = layers.decide(target.clients, loaded, layer, layer_environment, source_ami, fingerprint, rebake, recorded)
    if plan.cached_ami is not None and not _has_local_files(target, plan.cached_ami):
        plan.decision, plan.cached_ami = "bake", None
        plan.reason = "the cached AMI's files are not in this machine's image store"
    plan.artifacts = artifacts
    return plan


def require_valid_checkout(loaded: LoadedPipeline) -> None:
    """Raise before any AWS call unless the checkout next to pipeline.yaml is complete and valid.

    Checks that the Packer templates are there, then the cookbook and every
    environment's domain spec, and reports the first problem like a configuration error.
    """
    from builder.errors import ConfigError, InvalidInputError
    from builder.validate import validate_all

    templates = loaded.root / "packer" / "templates"
    if not templates.is_dir():
        raise InvalidInputError(
            f"{loaded.path}: {templates} not found; pipeline.yaml must sit at the top of an osb-image checkout, next to packer/, chef/ and wlst/"
        )
    problems = validate_all(loaded)
    if problems:
        raise ConfigError(problems)


def plan(target: Target, loaded: LoadedPipeline, environment: str, rebake: bool = False) -> list[LayerPlan]:
    """Return the base and domain plans for ``environment``; changes nothing in AWS."""
    loaded.environment(environment)
    require_valid_checkout(loaded)
    version = render.packer_version()
    source_ami = resolve_source_ami(target.clients, loaded)
    base_plan = plan_layer(target, loaded, BASE, environment, source_ami, rebake, version)
    if base_plan.decision == "reuse":
        assert base_plan.cached_ami is not None
        return [base_plan, plan_layer(target, loaded, DOMAIN, environment, base_plan.cached_ami, rebake, version)]
    domain_plan = LayerPlan(
        DOMAIN,
        environment,
        None,
        None,
        "bake",
        "stale parent: the base layer is baked first, so the domain is built on the new base",
    )
    return [base_plan, domain_plan]


def bake_layer(target: Target, loaded: LoadedPipeline, layer_plan: LayerPlan) -> BakeResult:
    """Bake one planned layer with Packer, or return the cached AMI the plan reuses."""
    started = time.monotonic()
    if layer_plan.decision == "reuse":
        assert (
            layer_plan.cached_ami is not None
            and layer_plan.fingerprint is not None
            and layer_plan.source_ami is not None
        )
        logger.info(
            "%s: reusing %s layer (%s); use --rebake to force a bake",
            layer_plan.cached_ami,
            layer_plan.layer,
            layer_plan.reason,
        )
        return BakeResult(
            layer_plan.layer,
            layer_plan.environment,
            layer_plan.cached_ami,
            layer_plan.fingerprint,
            True,
            None,
            layer_plan.source_ami,
            layer_plan.reason,
            time.monotonic() - started,
            layer_plan.inputs,
        )
    assert layer_plan.source_ami is not None and layer_plan.fingerprint is not None
    logger.info(
        "bake %s/%s: baking on %s because %s",
        layer_plan.layer,
        layer_plan.environment,
        layer_plan.source_ami,
        layer_plan.reason,
    )

    pipeline = loaded.pipeline
    version = render.packer_version()
    clients = target.clients
    run_id = new_run_id()
    directory = run_directory(run_id)
    reap.mark_run_started(runs_directory(), run_id)
    # The base layer belongs to no environment; its builder uses the first one's network.
    environment = layer_plan.environment if layer_plan.layer == DOMAIN else next(iter(pipeline.environments))
    subnet_reference = pipeline.aws.builder_subnet or pipeline.environments[environment].network.subnets[0]
    subnet = resolve_subnets(clients, [subnet_reference])[0]
    started_at = datetime.now(UTC)
    succeeded = False
    ami_id: str | None = None
    lock_name = locks.bake_lock_name(layer_plan.layer, layer_plan.fingerprint)
    try:
        with locks.held(
            clients,
            lock_name,
            ttl_seconds=BAKE_LOCK_SECONDS,
            purpose=f"bake {run_id}",
            wait_seconds=BAKE_LOCK_WAIT_SECONDS,
        ):
            if not layer_plan.forced:
                max_age_days = getattr(pipeline.layers, layer_plan.layer).max_age_days
                cached = layers.find_concurrent(clients, layer_plan, max_age_days)
                if cached is not None and _has_local_files(target, str(cached["ImageId"])):
                    logger.info(
                        "%s: another run baked this fingerprint (found after waiting for %s); reusing it",
                        cached["ImageId"],
                        lock_name,
                    )
                    succeeded = True
                    return BakeResult(
                        layer_plan.layer,
                        layer_plan.environment,
                        str(cached["ImageId"]),
                        layer_plan.fingerprint,
                        True,
                        run_id,
                        layer_plan.source_ami,
                        "another run baked this fingerprint",
                        time.monotonic() - started,
                        layer_plan.inputs,
                    )
            ami_id = _run_packer(target, loaded, layer_plan, run_id, directory, subnet, version, started_at)
        succeeded = True
        logger.info(
            "%s: baked %s layer for %s in %.0f s",
            ami_id,
            layer_plan.layer,
            layer_plan.environment,
            time.monotonic() - started,
        )
        return BakeResult(
            layer_plan.layer,
            layer_plan.environment,
            ami_id,
            layer_plan.fingerprint,
            False,
            run_id,
            layer_plan.source_ami,
            layer_plan.reason,
            time.monotonic() - started,
            layer_plan.inputs,
        )
    finally:
        with shielded(f"cleanup of run {run_id}"):
            try:
                _clean_up(target, run_id, succeeded, ami_id, directory)
            finally:
                reap.mark_run_finished(runs_directory(), run_id)


def _run_packer(
    target: Target,
    loaded: LoadedPipeline,
    layer_plan: LayerPlan,
    run_id: str,
    directory: Path,
    subnet: Any,
    version: render.PackerVersion,
    started_at: datetime,
) -> str:
    """Render, validate and build one layer; return the AMI id, tagged and with provenance."""
    assert layer_plan.source_ami is not None and layer_plan.fingerprint is not None
    clients = target.clients
    pipeline = loaded.pipeline
    access = resources.create_temporary_access(
        clients, run_id, "builder", subnet.vpc_id, target.ssh_cidr(), directory / "builder-key"
    )
    artifacts_dir = _write_fetch_config(clients, loaded, layer_plan.artifacts, directory / "artifacts")
    with target.builder_host(run_id, layer_plan.source_ami, access.public_key) as endpoint:
        ami_tags = {
            "Name": f"osb-{layer_plan.layer}-{layer_plan.environment}-{run_id}",
            tags.RUN_ID: run_id,
            tags.FINGERPRINT: layer_plan.fingerprint,
            tags.GIT_REVISION: str(git_revision(loaded.root)),
            tags.ENVIRONMENT: layer_plan.environment,
            tags.LAYER: layer_plan.layer,
            tags.SOURCE_AMI: layer_plan.source_ami,
            tags.BUILT_AT: started_at.isoformat(timespec="seconds"),
            "osb-image:jdk-version": pipeline.installers.jdk.version,
            "osb-image:osb-version": pipeline.installers.osb.version,
        }
        variables = _packer_variables(
            target, loaded, layer_plan, run_id, directory, subnet.subnet_id, access, endpoint, ami_tags
        )
        variables["artifacts_dir"] = str(artifacts_dir)
        rendered = directory / "packer"
        render.render_templates(
            loaded.root / "packer" / "templates",
            rendered,
            layers.template_context(layer_plan.layer, version, target.name),
            variables,
        )
        shutil.copytree(loaded.root / "packer" / "scripts", rendered / "scripts", dirs_exist_ok=True)
        environment_vars = _packer_process_environment(target)
        render.validate(rendered, env=environment_vars)
        logger.info(
            "bake %s/%s: packer validate passed; building (log: %s)",
            layer_plan.layer,
            layer_plan.environment,
            directory / "packer.log",
        )

        run = packer.PackerRun(rendered, environment_vars, _report_progress, directory / "packer.log")
        run.run()
        artifact = packer.read_manifest(directory / "manifest.json", run_id, BUILD_NAME, run.packer_run_uuid)
        ami_id = artifact.ami_id
        target.store_image(endpoint, ami_id)
    _check_tagged(clients, ami_id, layer_plan.fingerprint)
    _write_provenance(target, loaded, layer_plan, ami_id, run_id, started_at, version)
    return ami_id


def _packer_variables(
    target: Target,
    loaded: LoadedPipeline,
    layer_plan: LayerPlan,
    run_id: str,
    directory: Path,
    subnet_id: str,
    access: resources.TemporaryAccess,
    endpoint: Any,
    ami_tags: dict[str, str],
) -> dict[str, Any]:
    pipeline = loaded.pipeline
    artifact_names = {artifact.name: artifact.file_name for artifact in layer_plan.artifacts}
    variables: dict[str, Any] = {
        "run_id": run_id,
        "ami_name": f"osb-{layer_plan.layer}-{layer_plan.environment}-{run_id}",
        "region": pipeline.region,
        "source_ami": layer_plan.source_ami,
        "instance_type": pipeline.builder.instance_type,
        "subnet_id": subnet_id,
        "security_group_id": access.security_group_id,
        "ssh_username": endpoint.user if endpoint else pipeline.base_image.ssh_username,
        "ssh_keypair_name": access.key_name,
        "ssh_private_key_file": str(access.private_key_file),
        "ssh_timeout": f"{pipeline.builder.ssh_timeout_minutes}m",
        "volume_size_gb": pipeline.builder.volume_size_gb,
        "ami_tags": ami_tags,
        "run_tags": {tags.RUN_ID: run_id, tags.PURPOSE: "builder", "Name": f"osb-image-{run_id}-builder"},
        "manifest_path": str(directory / "manifest.json"),
        "jdk_version": pipeline.installers.jdk.version,
        "fmw_version": pipeline.installers.fmw_infrastructure.version,
        "osb_version": pipeline.installers.osb.version,
        "stand_in_installers": target.stand_in_installers,
        "scripts_dir": str(directory / "packer" / "scripts"),
        **target.packer_variables(endpoint),
    }
    if layer_plan.layer == BASE:
        variables.update(
            {
                "jdk_archive_name": artifact_names["jdk"],
                "fmw_installer_name": artifact_names["fmw_infrastructure"],
                "osb_installer_name": artifact_names["osb"],
            }
        )
        return variables

    from builder.domain_render import render_domain_spec, write_domain_files

    environment = layer_plan.environment
    # Its own folder, because the whole folder is uploaded and the run folder contains keys.
    domain_files = write_domain_files(loaded.root / "chef", environment, directory / "domain-files")
    spec_file = directory / "domain-spec.json"
    spec_file.write_text(
        json.dumps(render_domain_spec(loaded.root / "chef", environment), indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    variables.update(
        {
            "environment": environment,
            "chef_dir": str(loaded.root / "chef"),
            "wlst_dir": str(loaded.root / "wlst"),
            "domain_spec_file": str(spec_file),
            "domain_files_dir": str(domain_files),
            "asg_max": pipeline.environments[environment].asg.max,
            "stand_in_chef": target.stand_in_installers,
            "chef_installer_name": artifact_names.get("chef_client", ""),
            "wlst_standin_archive_name": artifact_names.get("wlst_standin_runtime", ""),
        }
    )
    return variables


def _write_provenance(
    target: Target,
    loaded: LoadedPipeline,
    layer_plan: LayerPlan,
    ami_id: str,
    run_id: str,
    started_at: datetime,
    version: render.PackerVersion,
) -> None:
    """Store the AMI's inputs and build facts as JSON in the artifact bucket."""
    from builder import provenance

    revision = git_revision(loaded.root)
    document = provenance.build_document(
        ami_id=ami_id,
        layer=layer_plan.layer,
        environment=layer_plan.environment,
        fingerprint=layer_plan.fingerprint or "",
        inputs=layer_plan.inputs,
        packer_version=str(version),
        git_revision=revision.commit,
        git_dirty=revision.dirty,
        run_id=run_id,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        source_ami=layer_plan.source_ami or "",
        target=target.name,
    )
    provenance.write(target.clients, loaded.pipeline.artifact_bucket, document)


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
        file_name = artifact.file_name
        url = s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": loaded.pipeline.artifact_bucket, "Key": artifact.key},
            ExpiresIn=PRESIGNED_URL_SECONDS,
        )
        curl_lines.append(f'url = "{url}"\noutput = "{file_name}"\n')
        sums.append(f"{artifact.sha256}  {file_name}\n")
    fetch = directory / "fetch.curl"
    fetch.touch(mode=0o600)
    fetch.write_text("".join(curl_lines), encoding="utf-8")
    (directory / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
    return directory


def _packer_process_environment(target: Target) -> dict[str, str]:
    keep = (
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "USER",
        "SSL_CERT_FILE",
        "PACKER_PLUGIN_PATH",
        "PACKER_CACHE_DIR",
    )
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


def bake_environment(
    target: Target,
    loaded: LoadedPipeline,
    environment: str,
    rebake: bool,
    test_base: Any,
) -> list[BakeResult]:
    """Bake (or reuse) the base layer, test a new base with ``test_base``, then the domain layer.

    A domain layer is only ever built on a base AMI whose tests passed.
    """
    plans = plan(target, loaded, environment, rebake)
    base = bake_layer(target, loaded, plans[0])
    image = target.clients.client("ec2").describe_images(ImageIds=[base.ami_id])["Images"][0]
    if tags.as_dict(image.get("Tags")).get(tags.TESTS) != tags.TESTS_PASSED:
        test_base(base.ami_id)
    domain_plan = plans[1]
    if domain_plan.source_ami is None:
        domain_plan = plan_layer(target, loaded, DOMAIN, environment, base.ami_id, rebake, render.packer_version())
    return [base, bake_layer(target, loaded, domain_plan)]
