"""Test an AMI: launch it, run the testinfra suite in tests/image over SSH, tag the result.

The instance, its key pair and its security group are removed whatever the outcome,
and the AMI is tagged ``passed`` only when pytest exits 0 with at least one test run.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder import reap, resources, tags
from builder.channels import describe_image
from builder.config import LoadedPipeline
from builder.errors import StepFailedError
from builder.network import resolve_subnets
from builder.runs import new_run_id, run_directory, runs_directory
from builder.signals import shielded
from builder.targets.base import SshEndpoint, Target

logger = logging.getLogger(__name__)

SUITE = Path("tests") / "image"
SUITE_TIMEOUT_SECONDS = 1800


@dataclass
class TestResult:
    """Outcome of one test run of an AMI."""

    __test__ = False  # not a pytest test class

    ami_id: str
    passed: bool
    tests: int
    failures: int
    errors: int
    skipped: int
    run_id: str
    report: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "ami_id": self.ami_id,
            "passed": self.passed,
            "tests": self.tests,
            "failures": self.failures,
            "errors": self.errors,
            "skipped": self.skipped,
            "run_id": self.run_id,
            "report": self.report,
            "seconds": round(self.seconds, 1),
        }


def test_image(target: Target, loaded: LoadedPipeline, ami_id: str) -> TestResult:
    """Launch ``ami_id``, run the image suite against it and tag the AMI with the result."""
    started = time.monotonic()
    clients = target.clients
    image = describe_image(clients, ami_id)
    image_tags = tags.as_dict(image.get("Tags"))
    pipeline = loaded.pipeline
    environment = image_tags.get(tags.ENVIRONMENT, "")
    if environment not in pipeline.environments:
        environment = next(iter(pipeline.environments))
    subnet_reference = pipeline.aws.test_subnet or pipeline.environments[environment].network.subnets[0]
    subnet = resolve_subnets(clients, [subnet_reference])[0]

    run_id = new_run_id()
    directory = run_directory(run_id)
    reap.mark_run_started(runs_directory(), run_id)
    report = directory / "image-tests.xml"
    try:
        access = resources.create_temporary_access(
            clients, run_id, "test", subnet.vpc_id, target.ssh_cidr(), directory / "test-key"
        )
        with target.test_instance(run_id, ami_id, access, subnet.subnet_id) as endpoint:
            status = _run_suite(
                loaded,
                target,
                endpoint,
                access,
                image_tags.get(tags.RUN_ID),
                image_tags.get(tags.LAYER, "base"),
                report,
                directory / "image-tests.log",
            )
    finally:
        with shielded(f"cleanup of run {run_id}"):
            try:
                resources.cleanup_run(clients, run_id, remove_images=False)
                for key_file in directory.glob("*-key/id_rsa"):
                    key_file.unlink(missing_ok=True)
            finally:
                reap.mark_run_finished(runs_directory(), run_id)

    counts = _read_junit(report)
    passed = status == 0 and counts["tests"] - counts["skipped"] > 0
    result = TestResult(
        ami_id,
        passed,
        counts["tests"],
        counts["failures"],
        counts["errors"],
        counts["skipped"],
        run_id,
        str(report),
        time.monotonic() - started,
    )
    clients.client("ec2").create_tags(
        Resources=[ami_id],
        Tags=tags.as_list(
            {
                tags.TESTS: tags.TESTS_PASSED if passed else tags.TESTS_FAILED,
                tags.TESTED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
                "osb-image:tests-summary": f"{counts['tests']} tests, {counts['failures']} failed, {counts['errors']} errors, {counts['skipped']} skipped",
            }
        ),
    )
    from builder import provenance

    provenance.record_test_result(clients, pipeline.artifact_bucket, ami_id, result.to_dict())
    logger.info(
        "%s: tests %s (%d tests, %d failed, %d errors, %d skipped; report %s)",
        ami_id,
        "passed" if passed else "FAILED",
        counts["tests"],
        counts["failures"],
        counts["errors"],
        counts["skipped"],
        report,
    )
    return result


def _run_suite(
    loaded: LoadedPipeline,
    target: Target,
    endpoint: SshEndpoint,
    access: Any,
    bake_run_id: str | None,
    layer: str,
    report: Path,
    log_path: Path,
) -> int:
    suite = loaded.root / SUITE
    if not suite.is_dir():
        raise StepFailedError(f"image test suite {suite} not found; run from a checkout of the repository")
    host = f"paramiko://{endpoint.user}@{endpoint.host}:{endpoint.port}?ssh_identity_file={access.private_key_file}"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(suite),
        f"--hosts={host}",
        "--sudo",
        f"--junitxml={report}",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rs",
        f"--expect-jdk-version={loaded.pipeline.installers.jdk.version}",
        f"--layer={layer}",
    ]
    if bake_run_id:
        command.append(f"--expect-run-id={bake_run_id}")
        builder_key = runs_directory() / bake_run_id / "builder-key" / "id_rsa.pub"
        if builder_key.is_file():
            command.append(f"--builder-public-key={builder_key}")
    if target.stand_in_installers:
        command.append("--stand-in-installers")
    logger.info(
        "%s: running the image test suite against %s:%d",
        endpoint.instance_id or endpoint.host_id,
        endpoint.host,
        endpoint.port,
    )
    with log_path.open("w", encoding="utf-8") as log:
        try:
            result = subprocess.run(
                command,
                cwd=loaded.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=SUITE_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise StepFailedError(f"image tests timed out after {SUITE_TIMEOUT_SECONDS} s; see {log_path}") from None
    for line in log_path.read_text(encoding="utf-8").splitlines():
        if line.startswith(("FAILED", "ERROR", "SKIPPED")) or " passed" in line or " failed" in line:
            logger.info("tests: %s", line)
    if result.returncode not in (0, 1):
        raise StepFailedError(
            f"image test suite could not run (pytest exit status {result.returncode}); see {log_path}"
        )
    return result.returncode


def _read_junit(report: Path) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    try:
        root = ElementTree.parse(report).getroot()
    except (OSError, ElementTree.ParseError):
        return counts
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, "0"))
    return counts
