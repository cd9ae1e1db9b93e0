"""Layer fingerprints change with their own inputs and with nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builder.config import load_pipeline
from builder.layers import BASE, DOMAIN, Artifact, layer_fingerprint
from builder.render import PackerVersion

REPOSITORY = Path(__file__).resolve().parents[2]
VERSION = PackerVersion(1, 6, 6)
ARTIFACT = Artifact("jdk", "installers/jdk/jdk.tar.gz", "a" * 64, "pipeline.yaml")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ("packer", "chef", "wlst"):
        shutil.copytree(REPOSITORY / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPOSITORY / "pipeline.yaml", tmp_path / "pipeline.yaml")
    return tmp_path


def fingerprints(checkout: Path) -> dict[str, str]:
    loaded = load_pipeline(checkout / "pipeline.yaml")
    result = {"base": layer_fingerprint(loaded, BASE, "all", "ami-0base", [ARTIFACT], VERSION, "local", True).digest()}
    for environment in ("dev", "qa"):
        result[environment] = layer_fingerprint(
            loaded, DOMAIN, environment, "ami-0base", [], VERSION, "local", True
        ).digest()
    return result


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append_comment(path: Path) -> None:
    with path.open("a", encoding="utf-8") as stream:
        stream.write("\n# changed\n")


# Each row: the edit and which fingerprints must change (the others must not).
EDITS = [
    pytest.param(
        lambda root: edit(
            root / "chef/environments/qa.json",
            "{",
            '{\n  "description_note": "x",',
        ),
        {"qa"},
        id="qa-chef-environment",
    ),
    pytest.param(
        lambda root: edit(root / "chef/environments/dev.json", "{", '{\n  "description_note": "x",'),
        {"dev"},
        id="dev-chef-environment",
    ),
    pytest.param(lambda root: append_comment(root / "packer/scripts/30-jdk.sh"), {"base"}, id="base-provisioner"),
    pytest.param(lambda root: append_comment(root / "wlst/osb_domain.py"), {"dev", "qa"}, id="wlst-script"),
    pytest.param(
        lambda root: edit(
            root / "pipeline.yaml",
            "max: 4, desired: 2}\n    scaling: {requests_per_target: 500}\n    dns: {zone: osb.internal, name: osb-dev",
            "max: 5, desired: 2}\n    scaling: {requests_per_target: 500}\n    dns: {zone: osb.internal, name: osb-dev",
        ),
        {"dev"},
        id="dev-asg-max",
    ),
]


@pytest.mark.parametrize(("change", "expected"), EDITS)
def test_edit_changes_only_its_layers(checkout: Path, change: object, expected: set[str]) -> None:
    before = fingerprints(checkout)
    change(checkout)  # type: ignore[operator]
    after = fingerprints(checkout)

    changed = {name for name in before if before[name] != after[name]}
    assert changed == expected


def test_new_base_ami_changes_domain(checkout: Path) -> None:
    loaded = load_pipeline(checkout / "pipeline.yaml")

    first = layer_fingerprint(loaded, DOMAIN, "dev", "ami-0base1", [], VERSION, "local", True).digest()
    second = layer_fingerprint(loaded, DOMAIN, "dev", "ami-0base2", [], VERSION, "local", True).digest()

    assert first != second
