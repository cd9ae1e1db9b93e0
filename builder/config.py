"""Load and validate pipeline.yaml.

The whole file is validated before any AWS call. Every problem is reported with the
file, the line, the dotted field name and what to do; the first one is shown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from builder.errors import ConfigError, NotFoundError, Problem
from builder.yamlsafe import LoadedYaml, explain_type_mismatch, format_path, load_yaml

DEFAULT_CONFIG = "pipeline.yaml"

_NAME = r"^[a-z][a-z0-9-]{0,30}$"
_SHA256 = r"^[0-9a-f]{64}$"
_REGION = r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_INSTANCE_TYPE = r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+$"
_STACK_NAME = r"^[A-Za-z][A-Za-z0-9-]{0,127}$"
_DNS_NAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$"
_SSM_PREFIX = r"^/[A-Za-z0-9_./-]+[A-Za-z0-9_-]$"
_S3_KEY = r"^[A-Za-z0-9!_.*'()/-]+$"
_SUBNET = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BaseImage(_Model):
    """Filter that picks the source OS AMI; resolved to one AMI id before each bake."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    owners: Annotated[
        list[Annotated[str, Field(pattern=r"^(self|amazon|aws-marketplace|[0-9]{12})$")]], Field(min_length=1)
    ]
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    ssh_username: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")] = "admin"


class Installer(_Model):
    """An installer in the artifact bucket and its expected SHA-256."""

    key: Annotated[str, Field(pattern=_S3_KEY, max_length=1024)]
    sha256: Annotated[str | None, Field(pattern=_SHA256)] = None
    version: Annotated[str, Field(min_length=1, max_length=64)]


class Installers(_Model):
    """Installers: the base layer needs the JDK and Oracle's; the domain layer, Chef's."""

    jdk: Installer
    fmw_infrastructure: Installer
    osb: Installer
    chef_client: Installer | None = None


class LayerSettings(_Model):
    """Cache settings of one layer."""

    max_age_days: Annotated[int | None, Field(ge=1, le=3650)] = None


class Layers(_Model):
    """Cache settings per layer: a cached AMI older than max_age_days is baked again."""

    base: LayerSettings = LayerSettings()
    domain: LayerSettings = LayerSettings()


class BuilderSettings(_Model):
    """Settings of the builder instance that Packer launches."""

    instance_type: Annotated[str, Field(pattern=_INSTANCE_TYPE)] = "t3.large"
    volume_size_gb: Annotated[int, Field(ge=8, le=16384)] = 40
    ssh_timeout_minutes: Annotated[int, Field(ge=1, le=120)] = 10


class Channels(_Model):
    """Location of the channel parameters in SSM Parameter Store."""

    parameter_prefix: Annotated[str, Field(pattern=_SSM_PREFIX)] = "/osb-image/channels"

    def parameter_name(self, environment: str) -> str:
        """Return the SSM parameter name of an environment's channel."""
        return f"{self.parameter_prefix}/{environment}"


class Asg(_Model):
    """Auto Scaling Group sizes."""

    min: Annotated[int, Field(ge=0, le=100)]
    max: Annotated[int, Field(ge=1, le=100)]
    desired: Annotated[int, Field(ge=0, le=100)]

    @model_validator(mode="after")
    def _check_order(self) -> Asg:
        if not self.min <= self.desired <= self.max:
            raise ValueError(
                f"sizes must satisfy min <= desired <= max, got min={self.min}, desired={self.desired}, max={self.max}"
            )
        return self


class Scaling(_Model):
    """Target-tracking scaling on ALB requests per target."""

    requests_per_target: Annotated[int, Field(ge=1, le=1_000_000)]


class Dns(_Model):
    """Route53 record of the environment's load balancer."""

    zone: Annotated[str, Field(pattern=_DNS_NAME)]
    name: Annotated[str, Field(pattern=_DNS_NAME)]

    @model_validator(mode="after")
    def _check_inside_zone(self) -> Dns:
        zone = self.zone.rstrip(".")
        if not self.name.rstrip(".").endswith("." + zone):
            raise ValueError(f"name {self.name!r} is not inside zone {self.zone!r}; use a name that ends with .{zone}")
        return self


class Network(_Model):
    """VPC subnets, by id (subnet-...) or by Name tag."""

    subnets: Annotated[list[Annotated[str, Field(pattern=_SUBNET)]], Field(min_length=1, max_length=6)]

    @field_validator("subnets")
    @classmethod
    def _unique(cls, subnets: list[str]) -> list[str]:
        if len(set(subnets)) != len(subnets):
            raise ValueError("each subnet may be listed once")
        return subnets


class Environment(_Model):
    """One deployment environment: its stack, sizes and network."""

    stack_name: Annotated[str, Field(pattern=_STACK_NAME)]
    instance_type: Annotated[str, Field(pattern=_INSTANCE_TYPE)]
    asg: Asg
    scaling: Scaling
    dns: Dns
    network: Network
    health_check_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/._-]*$")] = "/sbinspection.wsil"
    promote_from: Annotated[str | None, Field(pattern=_NAME)] = None


class AwsSettings(_Model):
    """Settings used only by the aws target."""

    builder_subnet: Annotated[str | None, Field(pattern=_SUBNET)] = None
    test_subnet: Annotated[str | None, Field(pattern=_SUBNET)] = None
    profile: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class Pipeline(_Model):
    """The whole pipeline.yaml."""

    target: Literal["local", "aws"]
    region: Annotated[str, Field(pattern=_REGION)]
    artifact_bucket: Annotated[str, Field(pattern=_BUCKET)]
    base_image: BaseImage
    installers: Installers
    builder: BuilderSettings = BuilderSettings()
    layers: Layers = Layers()
    channels: Channels = Channels()
    environments: Annotated[dict[Annotated[str, Field(pattern=_NAME)], Environment], Field(min_length=1)]
    aws: AwsSettings = AwsSettings()


class LoadedPipeline:
    """A validated pipeline with the directory it came from (the repository root)."""

    def __init__(self, pipeline: Pipeline, path: Path) -> None:
        self.pipeline = pipeline
        self.path = path.resolve()
        self.root = self.path.parent

    def environment(self, name: str) -> Environment:
        """Return the named environment or raise NotFoundError listing the defined ones."""
        try:
            return self.pipeline.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.pipeline.environments))
            raise NotFoundError(
                f"--env: environment {name!r} is not defined in {self.path.name}; use one of: {known}"
            ) from None


def load_pipeline(path: Path, target_override: str | None = None) -> LoadedPipeline:
    """Read, check and return the pipeline; raise ConfigError with located problems."""
    loaded = load_yaml(path)
    if not isinstance(loaded.data, dict):
        raise ConfigError(
            [
                Problem(
                    loaded.file,
                    1,
                    "",
                    "the top level must be a mapping of settings such as target, region and environments",
                )
            ]
        )
    data: dict[str, Any] = dict(loaded.data)
    if target_override is not None:
        data["target"] = target_override
    try:
        pipeline = Pipeline.model_validate(data)
    except ValidationError as error:
        raise ConfigError([_to_problem(loaded, item) for item in error.errors()]) from None

    problems = _check_references(pipeline, loaded)
    if problems:
        raise ConfigError(problems)
    return LoadedPipeline(pipeline, path)


def _check_references(pipeline: Pipeline, loaded: LoadedYaml) -> list[Problem]:
    """Find references between environments that point nowhere or collide."""
    problems: list[Problem] = []
    if pipeline.target == "aws" and pipeline.installers.chef_client is None:
        path: tuple[str, ...] = ("installers",)
        problems.append(
            Problem(
                loaded.file,
                loaded.line_of(path),
                "installers.chef_client",
                "required for target aws, which runs chef-solo in the domain layer; add the Chef Infra Client (or Cinc) package's key and sha256",
            )
        )
    stacks: dict[str, str] = {}
    for name, environment in pipeline.environments.items():
        if environment.promote_from is not None and environment.promote_from not in pipeline.environments:
            path = ("environments", name, "promote_from")
            known = ", ".join(sorted(pipeline.environments))
            problems.append(
                Problem(
                    loaded.file,
                    loaded.line_of(path),
                    format_path(path),
                    f"environment {environment.promote_from!r} is not defined; use one of: {known}",
                )
            )
        if environment.stack_name in stacks:
            path = ("environments", name, "stack_name")
            problems.append(
                Problem(
                    loaded.file,
                    loaded.line_of(path),
                    format_path(path),
                    f"stack {environment.stack_name!r} is already used by environment {stacks[environment.stack_name]!r}; give each environment its own stack",
                )
            )
        stacks[environment.stack_name] = name
    return problems


def _to_problem(loaded: LoadedYaml, item: Any) -> Problem:
    location = tuple(part for part in item["loc"] if not _is_pydantic_tag(part))
    field = format_path(location)
    line = loaded.line_of(location)
    kind = item["type"]
    hint = explain_type_mismatch(loaded, location)

    if kind == "missing":
        parent = format_path(location[:-1]) or "the top level"
        return Problem(
            loaded.file,
            loaded.line_of(location[:-1]),
            field,
            f"required field is missing; add {location[-1]!r} under {parent}",
        )
    if kind == "extra_forbidden":
        return Problem(loaded.file, line, field, "unknown field; check its spelling or remove it")
    if hint is not None and kind.endswith("_type"):
        return Problem(loaded.file, line, field, hint)
    scalar = loaded.scalars.get(location)
    if scalar is not None and not scalar.plain and kind in {"int_type", "bool_type", "float_type"}:
        wanted = {"int_type": "a whole number", "bool_type": "true or false", "float_type": "a number"}[kind]
        return Problem(
            loaded.file, line, field, f"expected {wanted}, got the quoted text {scalar.raw!r}; remove the quotes"
        )
    if kind == "string_pattern_mismatch":
        value = item.get("input")
        return Problem(
            loaded.file,
            line,
            field,
            f"invalid value {value!r}; {_PATTERN_ADVICE.get(item['ctx']['pattern'], 'see the example pipeline.yaml for the expected form')}",
        )
    message = re.sub(r"^Value error, ", "", str(item["msg"]))
    value = item.get("input")
    if isinstance(value, (str, int, float, bool)) and kind not in {"value_error"}:
        message = f"{message} (got {value!r})"
    return Problem(loaded.file, line, field, message)


_PATTERN_ADVICE = {
    _NAME: "use lowercase letters, digits and hyphens, starting with a letter",
    _SHA256: "write the 64 lowercase hexadecimal digits of the SHA-256 (sha256sum FILE)",
    _REGION: "use an AWS region name such as us-east-1 or sa-east-1",
    _BUCKET: "use an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens",
    _INSTANCE_TYPE: "use an EC2 instance type such as t3.large",
    _STACK_NAME: "use a CloudFormation stack name: letters, digits and hyphens, starting with a letter",
    _DNS_NAME: "use a lowercase DNS name such as osb-dev.example.internal",
    _SSM_PREFIX: "use an SSM parameter path such as /osb-image/channels",
    _S3_KEY: "use an S3 key of letters, digits and / . _ - characters",
    _SUBNET: "use a subnet id (subnet-...) or the subnet's Name tag",
}


def _is_pydantic_tag(part: Any) -> bool:
    # Pydantic inserts validator names such as "function-after[...]" into locations.
    return isinstance(part, str) and ("[" in part and part.endswith("]") or part in {"list", "str", "int"})
