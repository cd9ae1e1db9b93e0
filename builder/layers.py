"""Layers, their fingerprints and the cache decision, computed without side effects.

The ``base`` layer (OS, JDK, FMW, OSB, patches) is the same for every environment and
is built from the resolved base OS AMI. The ``domain`` layer is built per environment
from a base AMI by the Chef run that creates the domain. A layer's fingerprint is the
SHA-256 over every input that can change its image. Inputs that do not reach a layer,
such as another environment's Chef environment, are not part of it.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from builder import render, tags
from builder.config import Installer, LoadedPipeline
from builder.errors import NotFoundError
from builder.fingerprint import Fingerprint

logger = logging.getLogger(__name__)

BASE = "base"
DOMAIN = "domain"
ALL_ENVIRONMENTS = "all"
_SCRIPT_REFERENCE = re.compile(r"\$\{var\.scripts_dir\}/([A-Za-z0-9_./-]+\.sh)")


@dataclass(frozen=True)
class Artifact:
    """A file to fetch from the artifact bucket on the builder, with its expected SHA-256."""

    name: str
    key: str
    sha256: str
    sha256_source: str  # "pipeline.yaml", "bucket checksum" or "local seed"

    @property
    def file_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


@dataclass
class LayerPlan:
    """The decision for one layer (reuse or bake) and its reason."""

    layer: str
    environment: str
    source_ami: str | None
    fingerprint: str | None
    decision: str  # "reuse" or "bake"
    reason: str
    cached_ami: str | None = None
    changed_inputs: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "environment": self.environment,
            "source_ami": self.source_ami,
            "fingerprint": self.fingerprint,
            "decision": self.decision,
            "reason": self.reason,
            "cached_ami": self.cached_ami,
            "changed_inputs": self.changed_inputs,
        }


def template_context(layer: str, version: render.PackerVersion, target_name: str) -> dict[str, Any]:
    """Return the jinja2 context that decides a layer's template structure."""
    return {
        "packer_version": version.as_tuple,
        "needs_required_plugins": version.needs_required_plugins,
        "target": target_name,
        "layer": layer,
    }


def rendered_template_text(loaded: LoadedPipeline, layer: str, version: render.PackerVersion, target_name: str) -> str:
    """Render the layer's templates (without values) and return their concatenated text."""
    with tempfile.TemporaryDirectory(prefix="osb-image-plan-") as scratch:
        written = render.render_templates(
            loaded.root / "packer" / "templates", Path(scratch), template_context(layer, version, target_name), {}
        )
        return "".join(
            f"# {path.name}\n{path.read_text(encoding='utf-8')}"
            for path in written
            if path.name != render.VARIABLES_FILE
        )


def layer_fingerprint(
    loaded: LoadedPipeline,
    layer: str,
    environment: str,
    source_ami: str,
    artifacts: list[Artifact],
    version: render.PackerVersion,
    target_name: str,
    stand_in_installers: bool,
) -> Fingerprint:
    """Hash every input of ``layer``: source AMI, rendered template, used files, checksums, settings."""
    root = loaded.root
    pipeline = loaded.pipeline
    fingerprint = Fingerprint()
    fingerprint.add_value("source_ami", source_ami)
    fingerprint.add_value("packer_version", str(version))

    template_text = rendered_template_text(loaded, layer, version, target_name)
    fingerprint.add_value("rendered_template", template_text)
    for script in sorted(set(_SCRIPT_REFERENCE.findall(template_text))):
        path = root / "packer" / "scripts" / script
        if not path.is_file():
            raise NotFoundError(f"packer/scripts/{script}: referenced by the {layer} layer's template but missing")
        fingerprint.add_file(f"file:packer/scripts/{script}", path)
    for artifact in artifacts:
        fingerprint.add_digest(f"artifact:{artifact.name}", artifact.sha256)

    settings: dict[str, Any] = {
        "target": target_name,
        "stand_in_installers": stand_in_installers,
        "builder": pipeline.builder.model_dump(),
        "ssh_username": pipeline.base_image.ssh_username,
    }
    if layer == BASE:
        settings["installer_versions"] = {
            name: getattr(pipeline.installers, name).version for name in ("jdk", "fmw_infrastructure", "osb")
        }
    else:
        for path in domain_input_files(root, environment):
            fingerprint.add_file(f"file:{path.relative_to(root)}", path)
        settings["environment"] = environment
        settings["asg_max"] = pipeline.environments[environment].asg.max
    fingerprint.add_value("settings", settings)
    return fingerprint


def domain_input_files(root: Path, environment: str) -> list[Path]:
    """Return the files that reach an environment's domain layer.

    The cookbook, the roles, every data bag item and the WLST scripts reach every
    environment; of the Chef environments, only this environment's file does.
    Documentation (Markdown) does not reach the image. The driver's domain renderer
    does: it writes the spec and unit files that the bake uploads.
    """
    chef = root / "chef"
    files: list[Path] = []
    for folder in (chef / "cookbooks", chef / "roles", chef / "data_bags", root / "wlst"):
        files.extend(
            path for path in folder.rglob("*") if path.is_file() and not _is_generated(path) and path.suffix != ".md"
        )
    renderer = root / "builder" / "domain_render.py"
    if renderer.is_file():
        files.append(renderer)
    environment_file = chef / "environments" / f"{environment}.json"
    if not environment_file.is_file():
        raise NotFoundError(
            f"{environment_file.relative_to(root)}: Chef environment of {environment!r} is missing; add it"
        )
    files.append(environment_file)
    return sorted(files)


def _is_generated(path: Path) -> bool:
    return "__pycache__" in path.parts or path.suffix in {".pyc", ".class"}


def find_cached(clients: Any, layer: str, environment: str, fingerprint: str) -> dict[str, Any] | None:
    """Return the newest available, tested AMI of this account with ``fingerprint``."""
    images = _describe_layer_images(
        clients, layer, environment, [{"Name": f"tag:{tags.FINGERPRINT}", "Values": [fingerprint]}]
    )
    tested = [image for image in images if tags.as_dict(image.get("Tags")).get(tags.TESTS) == tags.TESTS_PASSED]
    return max(tested, key=_creation_key) if tested else None


def with_fingerprint(clients: Any, layer: str, environment: str, fingerprint: str) -> list[dict[str, Any]]:
    """Return every available AMI of a layer and environment with ``fingerprint``."""
    return _describe_layer_images(
        clients, layer, environment, [{"Name": f"tag:{tags.FINGERPRINT}", "Values": [fingerprint]}]
    )


def find_concurrent(clients: Any, plan: LayerPlan, max_age_days: int | None) -> dict[str, Any] | None:
    """Return an AMI with the plan's fingerprint that is usable although it is not tested yet.

    Used while holding the bake lock: an AMI that another run has just baked is
    reused even before its tests have run (the caller's test step tests it), so two
    bakes of one fingerprint make one AMI. AMIs whose tests failed, and AMIs older than
    ``max_age_days``, are not candidates.
    """
    assert plan.fingerprint is not None
    images = [
        image
        for image in with_fingerprint(clients, plan.layer, plan.environment, plan.fingerprint)
        if tags.as_dict(image.get("Tags")).get(tags.TESTS) != tags.TESTS_FAILED
        and (max_age_days is None or image_age(image) <= timedelta(days=max_age_days))
    ]
    return max(images, key=_creation_key) if images else None


def newest_tested(clients: Any, layer: str, environment: str) -> dict[str, Any] | None:
    """Return the newest tested AMI of a layer and environment, whatever its fingerprint."""
    images = _describe_layer_images(clients, layer, environment, [])
    tested = [image for image in images if tags.as_dict(image.get("Tags")).get(tags.TESTS) == tags.TESTS_PASSED]
    return max(tested, key=_creation_key) if tested else None


def _describe_layer_images(
    clients: Any, layer: str, environment: str, extra: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    from builder.aws import paginate

    filters = [
        {"Name": f"tag:{tags.LAYER}", "Values": [layer]},
        {"Name": f"tag:{tags.ENVIRONMENT}", "Values": [environment]},
        {"Name": "state", "Values": ["available"]},
        *extra,
    ]
    return list(paginate(clients.client("ec2"), "describe_images", "Images", Owners=["self"], Filters=filters))


def _creation_key(image: dict[str, Any]) -> tuple[str, str]:
    return (str(image.get("CreationDate", "")), str(image["ImageId"]))


def image_age(image: dict[str, Any], now: datetime | None = None) -> timedelta:
    """Return how long ago the AMI was built; an AMI with no readable time counts as very old."""
    from builder.images import created_at

    return (now or datetime.now(UTC)) - created_at(image)


def decide(
    clients: Any,
    loaded: LoadedPipeline,
    layer: str,
    environment: str,
    source_ami: str,
    fingerprint: Fingerprint,
    rebake: bool,
    recorded_inputs: Any,
) -> LayerPlan:
    """Decide whether ``layer`` is reused from the cache or baked, and give the reason.

    ``recorded_inputs`` maps an AMI id to the input hashes recorded when it was baked
    (from its provenance document), so a miss can name the inputs that changed.
    """
    digest = fingerprint.digest()
    plan = LayerPlan(layer, environment, source_ami, digest, "bake", "", inputs=fingerprint.inputs)
    max_age_days = getattr(loaded.pipeline.layers, layer).max_age_days
    if rebake:
        plan.reason, plan.forced = "forced with --rebake", True
        return plan

    cached = find_cached(clients, layer, environment, digest)
    if cached is not None:
        age = image_age(cached)
        if max_age_days is not None and age > timedelta(days=max_age_days):
            plan.reason = (
                f"{cached['ImageId']} has this fingerprint but is {age.days} days old, over max_age_days {max_age_days}"
            )
            return plan
        plan.decision, plan.cached_ami = "reuse", str(cached["ImageId"])
        plan.reason = f"{cached['ImageId']} has this fingerprint and passed its tests"
        return plan

    previous = newest_tested(clients, layer, environment)
    if previous is None:
        plan.reason = "no tested AMI of this layer yet"
        return plan
    previous_tags = tags.as_dict(previous.get("Tags"))
    if layer == DOMAIN and previous_tags.get(tags.SOURCE_AMI) not in (None, source_ami):
        plan.reason = f"stale parent: {previous['ImageId']} was built on base {previous_tags.get(tags.SOURCE_AMI)}, the base is now {source_ami}"
    old_inputs = recorded_inputs(previous["ImageId"]) or {}
    plan.changed_inputs = changed_inputs(old_inputs, fingerprint.inputs)
    if not plan.reason:
        if plan.changed_inputs:
            plan.reason = f"inputs changed since {previous['ImageId']}: {', '.join(plan.changed_inputs)}"
        else:
            plan.reason = f"no tested AMI with this fingerprint (the inputs of {previous['ImageId']} are not recorded)"
    return plan


def changed_inputs(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Return the names of inputs added, removed or changed between two input maps."""
    names = sorted(set(old) | set(new))
    return [name for name in names if old.get(name) != new.get(name)]


def resolve_installer(s3: Any, bucket: str, name: str, installer: Installer) -> Artifact:
    """Check that an installer exists in the bucket and settle the SHA-256 to expect."""
    import base64
    import binascii

    from builder.aws import error_code

    try:
        head = s3.head_object(Bucket=bucket, Key=installer.key, ChecksumMode="ENABLED")
    except Exception as error:  # botocore ClientError
        if error_code(error) in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}:
            raise NotFoundError(
                f"installers.{name}: s3://{bucket}/{installer.key} not found; upload it or fix the key"
            ) from None
        raise
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
        raise NotFoundError(
            f"installers.{name}: s3://{bucket}/{installer.key} has an unreadable checksum; record its sha256 in pipeline.yaml"
        ) from None
    return Artifact(name=name, key=installer.key, sha256=digest, sha256_source="bucket checksum")


def recorded_inputs_from_bucket(clients: Any, bucket: str) -> Any:
    """Return a function that reads an AMI's recorded inputs from its provenance document."""

    def read(ami_id: str) -> dict[str, str] | None:
        from builder.aws import error_code

        try:
            body = clients.client("s3").get_object(Bucket=bucket, Key=f"provenance/{ami_id}.json")["Body"].read()
        except Exception as error:  # botocore ClientError
            if error_code(error) in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise
        inputs = json.loads(body).get("inputs")
        return dict(inputs) if isinstance(inputs, dict) else None

    return read
