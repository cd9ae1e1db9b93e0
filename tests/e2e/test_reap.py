"""A bake killed outright (driver and Packer, SIGKILL) is cleaned up by ``osb-image reap``."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, assert_nothing_left

pytestmark = pytest.mark.e2e

MARKER = "30-jdk.sh"


def packer_children(parent: int) -> list[int]:
    """Return the pids of packer processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text(encoding="utf-8")
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        parent_line = next(line for line in status.splitlines() if line.startswith("PPid:"))
        if int(parent_line.split()[1]) == parent and command.endswith(b"packer"):
            found.append(int(entry.name))
    return found


def test_reap_removes_killed_bake(cli: Cli) -> None:
    ready = cli.run("local", "up", timeout=600)
    assert ready.returncode == 0, ready.stderr
    process = cli.start("bake", "--env", "dev", "--rebake")
    seen = threading.Event()
    lines: list[str] = []

    def read() -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            lines.append(line)
            if MARKER in line:
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    assert seen.wait(timeout=300), "".join(lines[-30:])
    packers = packer_children(process.pid)
    assert packers, "no packer process found under the driver"
    for packer in packers:
        os.killpg(packer, signal.SIGKILL)
    process.kill()
    process.wait(timeout=60)
    assert list((cli.state_dir / "local" / "hosts").glob("*")) != [], "the killed bake left no host to reap"

    result = cli.run("reap", "--older-than", "0s", timeout=300)

    assert result.returncode == 0, result.stderr
    assert_nothing_left(cli)
    assert list((cli.state_dir / "runs").glob("*/artifacts")) == []
    assert list((cli.state_dir / "runs").glob("*/*-key/id_rsa")) == []
