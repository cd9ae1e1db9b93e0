"""Fixtures for end-to-end runs of the ``osb-image`` CLI on the local target.

Each test module gets its own state directory (emulator, hosts, image store) and shares
the debootstrap cache in the user's cache directory, so only the first run on a
machine pays for debootstrap. Every emulator and host a test starts is stopped by
``osb-image local down`` in teardown, and the teardown checks that nothing is left.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "the local target needs root"
    for tool in ("packer", "debootstrap", "chroot"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup installs it)"
    return None


@dataclass
class Cli:
    """Runs the CLI as a subprocess with a private state directory."""

    state_dir: Path
    environment: dict[str, str]

    def run(self, *arguments: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "builder", *arguments],
            cwd=REPOSITORY,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *arguments: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "builder", *arguments],
            cwd=REPOSITORY,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def json(self, *arguments: str) -> Any:
        result = self.run("--json", *arguments)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def clients(self) -> Any:
        """Return a boto3 session factory bound to this state directory's emulator."""
        import boto3

        endpoint = self.json("local", "status")["endpoint"]
        assert endpoint is not None
        session = boto3.session.Session(
            aws_access_key_id="osb-image-local", aws_secret_access_key="osb-image-local", region_name="us-east-1"
        )
        return lambda service: session.client(service, endpoint_url=endpoint)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    reason = missing_requirements()
    if reason:
        pytest.skip(f"end-to-end tests skipped: {reason}")
    state_dir = tmp_path_factory.mktemp("state")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment["OSB_IMAGE_STATE_DIR"] = str(state_dir)
    runner = Cli(state_dir=state_dir, environment=environment)
    yield runner
    down = runner.run("local", "down", timeout=120)
    assert down.returncode == 0, down.stderr
    assert list((state_dir / "local" / "hosts").glob("*")) == []
    assert mounts_under(state_dir) == []


def mounts_under(directory: Path) -> list[str]:
    prefix = str(directory.resolve())
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        return [line.split()[4] for line in mountinfo if line.split()[4].startswith(prefix)]


def processes_rooted_under(directory: Path) -> list[int]:
    prefix = str(directory.resolve())
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "root").startswith(prefix):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def assert_nothing_left(cli: Cli) -> None:
    """Assert that no instance, key pair, security group, AMI, host, mount or chroot process is left."""
    ec2 = cli.clients()("ec2")
    live_instances = [
        instance["InstanceId"]
        for reservation in ec2.describe_instances()["Reservations"]
        for instance in reservation["Instances"]
        if instance["State"]["Name"] != "terminated"
    ]
    groups = [
        group["GroupName"]
        for group in ec2.describe_security_groups()["SecurityGroups"]
        if group["GroupName"] != "default"
    ]

    assert live_instances == []
    assert ec2.describe_key_pairs()["KeyPairs"] == []
    assert groups == []
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    assert list((cli.state_dir / "local" / "hosts").glob("*")) == []
    assert mounts_under(cli.state_dir) == []
    assert processes_rooted_under(cli.state_dir) == []
