"""Interrupting ``osb-image bake`` during ``packer build`` leaves nothing behind."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.e2e.conftest import Cli, assert_nothing_left

pytestmark = pytest.mark.e2e

# The JDK step unpacks about 60 MB, so a signal sent when it starts lands mid-build.
MARKER = "30-jdk.sh"


def wait_for_marker(process_stderr: list[str], seen: threading.Event, stream: object) -> None:
    for line in stream:  # type: ignore[attr-defined]
        process_stderr.append(line)
        if MARKER in line:
            seen.set()


def packer_was_cancelled(cli: Cli) -> bool:
    logs = sorted((cli.state_dir / "runs").glob("*/packer.log"), key=lambda path: path.stat().st_mtime)
    return bool(logs) and "Cancelling build" in logs[-1].read_text(encoding="utf-8")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_interrupted_bake_leaves_nothing(cli: Cli, signum: signal.Signals) -> None:
    ready = cli.run("local", "up", timeout=600)
    assert ready.returncode == 0, ready.stderr
    process = cli.start("bake", "--env", "dev", "--rebake")
    lines: list[str] = []
    seen = threading.Event()
    reader = threading.Thread(target=wait_for_marker, args=(lines, seen, process.stderr), daemon=True)
    reader.start()

    assert seen.wait(timeout=300), "".join(lines[-30:])
    time.sleep(0.5)
    process.send_signal(signum)
    process.wait(timeout=600)
    reader.join(timeout=10)

    assert process.returncode == 130, "".join(lines[-30:])
    assert packer_was_cancelled(cli), "Packer finished its build instead of stopping on the interrupt"
    assert_nothing_left(cli)
