"""Run ``packer build -machine-readable`` and read this run's AMI from the manifest.

Signals: Packer runs in its own session so that a terminal's Ctrl-C reaches only the
driver, which forwards one interrupt to Packer, waits for Packer's own cleanup, and
only then lets its caller clean up by run id.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.errors import InterruptedRunError, StepFailedError

logger = logging.getLogger(__name__)

PACKER_CLEANUP_TIMEOUT_SECONDS = 300.0
# A shell-local provisioner in the build prints this marker followed by $PACKER_RUN_UUID,
# because Packer sets that variable itself and reports it nowhere else before the manifest.
RUN_UUID_MARKER = "OSB_IMAGE_PACKER_RUN_UUID="


@dataclass(frozen=True)
class MachineReadableLine:
    """One line of ``-machine-readable`` output: timestamp, target, type and data."""

    timestamp: str
    target: str
    kind: str
    data: list[str]


@dataclass(frozen=True)
class ManifestArtifact:
    """The AMI that one Packer build registered, from the manifest post-processor."""

    ami_id: str
    region: str
    build_name: str
    packer_run_uuid: str


def parse_machine_readable(line: str) -> MachineReadableLine | None:
    """Parse one machine-readable line; Packer escapes commas as ``%!(PACKER_COMMA)``."""
    parts = line.rstrip("\n").split(",")
    if len(parts) < 3:
        return None
    data = [part.replace("%!(PACKER_COMMA)", ",").replace("\\n", "\n").replace("\\r", "\r") for part in parts[3:]]
    return MachineReadableLine(timestamp=parts[0], target=parts[1], kind=parts[2], data=data)


def read_manifest(manifest_path: Path, run_id: str, build_name: str, packer_run_uuid: str | None) -> ManifestArtifact:
    """Return the AMI of this run from a manifest that may hold earlier runs too.

    A build entry belongs to this run only if its ``custom_data.run_id`` is ``run_id``,
    its name is ``build_name`` and, when Packer reported one, its ``packer_run_uuid``
    matches. Anything else, such as an entry left by an earlier or failed run, is
    ignored, and a manifest without a matching entry is an error.
    """
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StepFailedError(f"{manifest_path}: Packer wrote no manifest; the build did not register an AMI") from None
    except (OSError, ValueError) as error:
        raise StepFailedError(f"{manifest_path}: unreadable manifest ({error})") from None

    matches = []
    for build in manifest.get("builds", []):
        custom = build.get("custom_data") or {}
        if custom.get("run_id") != run_id or build.get("name") != build_name:
            continue
        if packer_run_uuid is not None and build.get("packer_run_uuid") != packer_run_uuid:
            continue
        matches.append(build)
    if not matches:
        raise StepFailedError(
            f"{manifest_path}: no build named {build_name!r} for run {run_id}; the AMI of this run is unknown"
        )
    if len(matches) > 1:
        raise StepFailedError(
            f"{manifest_path}: {len(matches)} builds claim run {run_id}; refusing to guess which AMI is this run's"
        )

    artifact_id = str(matches[0].get("artifact_id", ""))
    region, _, ami_id = artifact_id.partition(":")
    if not ami_id.startswith("ami-"):
        raise StepFailedError(f"{manifest_path}: artifact_id {artifact_id!r} is not region:ami-id")
    return ManifestArtifact(
        ami_id=ami_id, region=region, build_name=build_name, packer_run_uuid=str(matches[0].get("packer_run_uuid"))
    )


class PackerRun:
    """One ``packer build`` process with signal forwarding and progress callbacks."""

    def __init__(
        self,
        directory: Path,
        env: dict[str, str],
        on_line: Callable[[MachineReadableLine], None],
        log_path: Path,
        packer: str = "packer",
    ) -> None:
        self.directory = directory
        self.env = env
        self.on_line = on_line
        self.log_path = log_path
        self.packer = packer
        self.process: subprocess.Popen[str] | None = None
        self.errors: list[str] = []
        # The last lines that provisioners printed, to explain a failure such as a checksum mismatch.
        self.provisioner_output: collections.deque[str] = collections.deque(maxlen=10)
        self._interrupted: int | None = None
        self.packer_run_uuid: str | None = None

    def run(self) -> None:
        """Run the build; raise InterruptedRunError or StepFailedError when it does not succeed."""
        command = [self.packer, "build", "-machine-readable", "-color=false", "-on-error=cleanup", "."]
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        on_main_thread = threading.current_thread() is threading.main_thread()
        with self.log_path.open("a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.directory,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
            if on_main_thread:
                for sig in previous:
                    signal.signal(sig, self._forward)
            try:
                assert self.process.stdout is not None
                for raw in self.process.stdout:
                    log.write(raw)
                    parsed = parse_machine_readable(raw)
                    if parsed is None:
                        continue
                    if parsed.kind == "error" and parsed.data:
                        self.errors.append(parsed.data[0])
                    if parsed.kind == "ui" and len(parsed.data) > 1 and RUN_UUID_MARKER in parsed.data[1]:
                        self.packer_run_uuid = parsed.data[1].split(RUN_UUID_MARKER, 1)[1].strip()
                    if parsed.kind == "ui" and len(parsed.data) > 1 and parsed.data[0] == "message":
                        self.provisioner_output.append(parsed.data[1].strip())
                    self.on_line(parsed)
                status = self._wait()
            finally:
                if on_main_thread:
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)
        if self._interrupted is not None:
            raise InterruptedRunError(
                f"packer build interrupted by {signal.Signals(self._interrupted).name}; Packer exited with status {status}"
            )
        if status != 0:
            reason = self.errors[-1] if self.errors else f"see {self.log_path}"
            context = [line for line in self.provisioner_output if line][-3:]
            detail = ("; last output: " + " | ".join(context)) if context else ""
            raise StepFailedError(
                f"packer build failed with exit status {status}: {reason}{detail} (log: {self.log_path})"
            )

    def _wait(self) -> int:
        assert self.process is not None
        deadline = time.monotonic() + PACKER_CLEANUP_TIMEOUT_SECONDS
        while True:
            status = self.process.poll()
            if status is not None:
                return status
            if time.monotonic() > deadline:
                logger.error(
                    "packer pid %d did not exit %.0f s after the interrupt; killing it",
                    self.process.pid,
                    PACKER_CLEANUP_TIMEOUT_SECONDS,
                )
                self.process.kill()
                return self.process.wait()
            time.sleep(0.2)

    def _forward(self, signum: int, _frame: Any) -> None:
        """Forward the first SIGINT/SIGTERM to Packer so it runs its own cleanup; kill it on the second."""
        if self.process is None:
            return
        if self._interrupted is not None:
            logger.warning(
                "packer: second %s; killing Packer, the driver cleans up by run id", signal.Signals(signum).name
            )
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        self._interrupted = signum
        logger.warning("packer: received %s; asking Packer to stop and clean up", signal.Signals(signum).name)
        # Packer 1.6's first process is a panicwrap parent that ignores SIGINT; its child
        # does the work. Both are in Packer's own process group, so signal the group.
        try:
            os.killpg(self.process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
