"""Rendering of the Packer templates: typed values, Packer's own expressions, versions."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from builder import render
from builder.resources import generate_key

REPOSITORY = Path(__file__).resolve().parents[2]
TEMPLATES = REPOSITORY / "packer" / "templates"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "true"),
        (False, "false"),
        (40, "40"),
        (1.5, "1.5"),
        ("t3.large", '"t3.large"'),
        ('say "hi"\n', '"say \\"hi\\"\\n"'),
        ("${var.x}", '"$${var.x}"'),
        ("%{ if x }", '"%%{ if x }"'),
        (["a", 1, False], '["a", 1, false]'),
        ({}, "{}"),
        ({"Name": "osb", "osb-image:run-id": "r1"}, '{\n  Name = "osb"\n  "osb-image:run-id" = "r1"\n}'),
    ],
)
def test_hcl_literal_keeps_type(value: Any, expected: str) -> None:
    assert render.hcl_literal(value) == expected


def test_hcl_literal_rejects_python_objects() -> None:
    with pytest.raises(TypeError):
        render.hcl_literal(object())


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Packer v1.6.6\n", (1, 6, 6)),
        ("Packer v1.11.2\n\nYour version of Packer is out of date!", (1, 11, 2)),
        ("1.9.4", (1, 9, 4)),
    ],
)
def test_parse_packer_version(output: str, expected: tuple[int, int, int]) -> None:
    assert render.parse_packer_version(output).as_tuple == expected


def sample_variables(tmp_path: Path, target: str) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "run_id": "20261204t000000-abcdef",
        "ami_name": "osb-dev-base-20261204t000000-abcdef",
        "region": "us-east-1",
        "source_ami": "ami-0deb12b00c5eed001",
        "instance_type": "t3.large",
        "subnet_id": "subnet-0123456789abcdef0",
        "security_group_id": "sg-0123456789abcdef0",
        "ssh_username": "admin",
        "ssh_keypair_name": "osb-image-test",
        "ssh_private_key_file": str(tmp_path / "id_rsa"),
        "ssh_timeout": "10m",
        "volume_size_gb": 40,
        "ami_tags": {
            "Name": "osb-dev",
            "osb-image:run-id": "20261204t000000-abcdef",
            "osb-image:source-ami": "ami-0deb12b00c5eed001",
        },
        "run_tags": {"osb-image:run-id": "20261204t000000-abcdef"},
        "manifest_path": str(tmp_path / "manifest.json"),
        "artifacts_dir": str(tmp_path / "artifacts"),
        "scripts_dir": str(REPOSITORY / "packer" / "scripts"),
        "jdk_archive_name": "jdk.tar.gz",
        "fmw_installer_name": "fmw.zip",
        "osb_installer_name": "osb.zip",
        "jdk_version": "17",
        "fmw_version": "12.2.1.3.0",
        "osb_version": "12.2.1.3.0",
        "stand_in_installers": target == "local",
    }
    if target == "local":
        variables.update({"custom_endpoint_ec2": "http://127.0.0.1:5000", "ssh_host": "127.0.0.1", "ssh_port": 2222})
    tmp_path.mkdir(parents=True, exist_ok=True)
    generate_key(tmp_path, "render-test")
    (tmp_path / "artifacts").mkdir()
    return variables


def render_for(tmp_path: Path, version: tuple[int, int, int], target: str) -> Path:
    output = tmp_path / "rendered"
    context = {
        "packer_version": version,
        "needs_required_plugins": version >= (1, 7, 0),
        "target": target,
        "layer": "base",
    }
    render.render_templates(TEMPLATES, output, context, sample_variables(tmp_path, target))
    return output


def rendered_text(directory: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.pkr.hcl")))


def test_packer_expressions_survive_rendering(tmp_path: Path) -> None:
    text = rendered_text(render_for(tmp_path, (1, 6, 6), "local"))

    assert "{{ .Path }}" in text
    assert "{{ .Vars }}" in text
    assert "[[" not in text
    assert "[%" not in text


def test_required_plugins_only_for_new_packer(tmp_path: Path) -> None:
    old = rendered_text(render_for(tmp_path / "old", (1, 6, 6), "local"))
    new = rendered_text(render_for(tmp_path / "new", (1, 9, 4), "local"))

    assert "required_plugins" not in old
    assert "required_plugins" in new


def test_local_endpoint_only_for_local_target(tmp_path: Path) -> None:
    local = rendered_text(render_for(tmp_path / "local", (1, 6, 6), "local"))
    aws = rendered_text(render_for(tmp_path / "aws", (1, 6, 6), "aws"))

    assert "custom_endpoint_ec2" in local
    assert "custom_endpoint_ec2" not in aws


def test_variables_file_keeps_types(tmp_path: Path) -> None:
    text = (render_for(tmp_path, (1, 6, 6), "local") / render.VARIABLES_FILE).read_text(encoding="utf-8")

    assert "volume_size_gb = 40\n" in text
    assert "stand_in_installers = true\n" in text
    assert "ssh_port = 2222\n" in text
    assert 'ssh_timeout = "10m"\n' in text
    assert "True" not in text


@pytest.mark.skipif(shutil.which("packer") is None, reason="packer is not installed (apt-get install packer)")
@pytest.mark.parametrize("target", ["local", "aws"])
def test_rendered_template_passes_packer_validate(tmp_path: Path, target: str) -> None:
    version = render.packer_version()
    output = render_for(tmp_path, version.as_tuple, target)

    render.validate(output, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHECKPOINT_DISABLE": "1"})
