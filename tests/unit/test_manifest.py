"""Reading this run's AMI from a Packer manifest that may hold other runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from builder.errors import StepFailedError
from builder.packer import parse_machine_readable, read_manifest

RUN_ID = "20261204t101010-aaaaaa"
UUID = "e2736a0c-107d-bfbc-6b48-18d22ef8588b"


def build(run_id: str, uuid: str, ami: str, name: str = "osb") -> dict[str, Any]:
    return {
        "name": name,
        "builder_type": "amazon-ebs",
        "artifact_id": f"us-east-1:{ami}",
        "packer_run_uuid": uuid,
        "custom_data": {"run_id": run_id},
    }


def write(tmp_path: Path, *builds: dict[str, Any]) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps({"builds": list(builds), "last_run_uuid": builds[-1]["packer_run_uuid"] if builds else ""}),
        encoding="utf-8",
    )
    return path


def test_manifest_picks_this_run(tmp_path: Path) -> None:
    path = write(
        tmp_path, build("old-run", "old-uuid", "ami-00000000000000001"), build(RUN_ID, UUID, "ami-00000000000000002")
    )

    artifact = read_manifest(path, RUN_ID, "osb", UUID)

    assert artifact.ami_id == "ami-00000000000000002"
    assert artifact.region == "us-east-1"


@pytest.mark.parametrize(
    ("builds", "uuid", "phrase"),
    [
        pytest.param(
            [build("old-run", "old-uuid", "ami-00000000000000001")], UUID, "no build named", id="only-earlier-run"
        ),
        pytest.param(
            [build(RUN_ID, "other-uuid", "ami-00000000000000001")],
            UUID,
            "no build named",
            id="same-run-id-other-packer-run",
        ),
        pytest.param(
            [build(RUN_ID, UUID, "ami-00000000000000001", name="other")], UUID, "no build named", id="other-build-name"
        ),
        pytest.param(
            [build(RUN_ID, UUID, "ami-1"), build(RUN_ID, UUID, "ami-2")], UUID, "refusing to guess", id="two-claims"
        ),
        pytest.param(
            [{**build(RUN_ID, UUID, "x"), "artifact_id": "us-east-1:snap-1"}],
            UUID,
            "is not region:ami-id",
            id="not-an-ami",
        ),
    ],
)
def test_manifest_rejects_foreign_builds(tmp_path: Path, builds: list[dict[str, Any]], uuid: str, phrase: str) -> None:
    path = write(tmp_path, *builds)

    with pytest.raises(StepFailedError) as caught:
        read_manifest(path, RUN_ID, "osb", uuid)

    assert phrase in str(caught.value)


def test_missing_manifest_is_a_failure(tmp_path: Path) -> None:
    with pytest.raises(StepFailedError) as caught:
        read_manifest(tmp_path / "manifest.json", RUN_ID, "osb", UUID)

    assert "wrote no manifest" in str(caught.value)


def test_machine_readable_unescapes_commas() -> None:
    line = parse_machine_readable("1796414849,,ui,message,    osb: a%!(PACKER_COMMA) b\\nc\n")

    assert line is not None
    assert line.kind == "ui"
    assert line.data == ["message", "    osb: a, b\nc"]
