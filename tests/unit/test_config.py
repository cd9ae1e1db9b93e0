"""Validation of pipeline.yaml: each YAML trap and schema mistake gives one located message."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config import load_pipeline
from builder.errors import ConfigError, NotFoundError

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = (REPOSITORY / "pipeline.yaml").read_text(encoding="utf-8")


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in EXAMPLE, f"fixture text {old!r} is no longer in pipeline.yaml"
    path = tmp_path / "pipeline.yaml"
    path.write_text(EXAMPLE.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not found in {path}")


def test_example_pipeline_is_valid() -> None:
    loaded = load_pipeline(REPOSITORY / "pipeline.yaml")

    assert loaded.pipeline.target == "local"
    assert sorted(loaded.pipeline.environments) == ["dev", "prod", "qa"]


# Each row: text replaced in the example, its replacement, the line to blame (a unique
# substring of it), the field named in the message and a phrase of the advice.
TRAPS = [
    pytest.param(
        "architecture: x86_64",
        "architecture: yes",
        "architecture: yes",
        "base_image.architecture",
        "boolean true",
        id="yes-as-boolean",
    ),
    pytest.param(
        "architecture: x86_64",
        "architecture: off",
        "architecture: off",
        "base_image.architecture",
        "boolean false",
        id="off-as-boolean",
    ),
    pytest.param(
        'version: "17"',
        "version: 1.10",
        "version: 1.10",
        "installers.jdk.version",
        "1.10 would become 1.1",
        id="version-as-float",
    ),
    pytest.param(
        'owners: ["136693071363"]',
        "owners: [012345678901]",
        "owners: [0123",
        "base_image.owners[0]",
        "loses its leading zero",
        id="account-id-leading-zero",
    ),
    pytest.param(
        'owners: ["136693071363"]',
        "owners: [012345670123]",
        "owners: [0123",
        "base_image.owners[0]",
        "loses its leading zero",
        id="account-id-octal",
    ),
    pytest.param(
        'version: "17"', "version: 12:30", "version: 12:30", "installers.jdk.version", "base-60", id="time-as-base-60"
    ),
    pytest.param(
        "stack_name: osb-dev",
        "stack_name: on",
        "stack_name: on",
        "environments.dev.stack_name",
        "boolean true",
        id="on-as-boolean",
    ),
    pytest.param(
        "stack_name: osb-dev",
        "stack_name: 2026-01-01",
        "stack_name: 2026",
        "environments.dev.stack_name",
        "a date",
        id="date-as-text",
    ),
]


@pytest.mark.parametrize(("old", "new", "blamed_line", "field", "advice"), TRAPS)
def test_yaml_trap_is_rejected(tmp_path: Path, old: str, new: str, blamed_line: str, field: str, advice: str) -> None:
    path = write_variant(tmp_path, old, new)

    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)

    message = str(caught.value)
    assert message.startswith(f"{path}:{line_of(path, blamed_line)}: {field}: ")
    assert advice in message
    assert "quote it" in message or "true or false" in message


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "region: us-east-1", "region: us-east-1\nregion: sa-east-1")

    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)

    assert str(caught.value).startswith(f"{path}:{line_of(path, 'sa-east-1')}: region: duplicate key")
    assert f"first defined on line {line_of(path, 'us-east-1')}" in str(caught.value)


def test_tab_indentation_is_rejected(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "  architecture: x86_64", "\tarchitecture: x86_64")

    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)

    assert str(caught.value).startswith(f"{path}:{line_of(path, 'architecture')}: ")
    assert "tab character" in str(caught.value)


SCHEMA_MISTAKES = [
    pytest.param(
        "    stack_name: osb-dev\n", "", "environments.dev.stack_name", "required field is missing", id="missing-field"
    ),
    pytest.param("region: us-east-1", "region: us-east-1\nregoin: x", "regoin", "unknown field", id="unknown-field"),
    pytest.param(
        "min: 1, max: 4", "min: one, max: 4", "environments.dev.asg.min", "valid integer", id="text-for-integer"
    ),
    pytest.param(
        "min: 1, max: 4, desired: 2",
        "min: 3, max: 4, desired: 2",
        "environments.dev.asg",
        "min <= desired <= max",
        id="asg-order",
    ),
    pytest.param("target: local", "target: azure", "target", "'local' or 'aws'", id="unknown-target"),
    pytest.param(
        "volume_size_gb: 40", 'volume_size_gb: "40"', "builder.volume_size_gb", "remove the quotes", id="quoted-integer"
    ),
    pytest.param("region: us-east-1", "region: US-EAST-1", "region", "AWS region name", id="bad-region"),
    pytest.param(
        "promote_from: dev",
        "promote_from: dve",
        "environments.qa.promote_from",
        "'dve' is not defined",
        id="dangling-promote-from",
    ),
    pytest.param(
        "stack_name: osb-qa", "stack_name: osb-dev", "environments.qa.stack_name", "already used", id="shared-stack"
    ),
    pytest.param(
        "name: osb-dev.osb.internal",
        "name: osb-dev.example.org",
        "environments.dev.dns",
        "not inside zone",
        id="dns-outside-zone",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "phrase"), SCHEMA_MISTAKES)
def test_schema_mistake_names_field(tmp_path: Path, old: str, new: str, field: str, phrase: str) -> None:
    path = write_variant(tmp_path, old, new)

    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)

    message = str(caught.value)
    assert f": {field}: " in message
    assert phrase in message
    assert message.startswith(f"{path}:")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_pipeline(tmp_path / "absent.yaml")

    assert "file not found" in str(caught.value)


def test_unknown_environment_lists_known(tmp_path: Path) -> None:
    loaded = load_pipeline(REPOSITORY / "pipeline.yaml")

    with pytest.raises(NotFoundError) as caught:
        loaded.environment("staging")

    assert "use one of: dev, prod, qa" in str(caught.value)
