"""Run the embedded AWS emulator (a moto server on a loopback port) across commands.

The server runs in its own session so that Ctrl-C on a command leaves it up for the
next one. Its pid, port and endpoint are kept in a JSON state file. A state file
whose process is gone or does not respond is treated as absent.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from builder.errors import StepFailedError
from builder.local.paths import LocalPaths

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# Dummy credentials for the emulator; moto accepts any value. They can reach nothing else
# because every client of the local target is bound to the loopback endpoint.
CREDENTIALS = ("osb-image-local", "osb-image-local")
START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class EmulatorState:
    """A running emulator: process id, port and endpoint URL."""

    pid: int
    port: int
    endpoint: str
    started_at: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def read_state(paths: LocalPaths) -> EmulatorState | None:
    """Return the emulator's state if its process is alive and responds, else None."""
    try:
        data = json.loads(paths.emulator_state.read_text(encoding="utf-8"))
        state = EmulatorState(**data)
    except (OSError, ValueError, TypeError):
        return None
    if not _process_alive(state.pid) or not _answers(state.endpoint):
        return None
    return state


def ensure_running(paths: LocalPaths, amis: list[dict[str, object]]) -> tuple[EmulatorState, bool]:
    """Return the running emulator, starting one when needed; the flag is True if started.

    ``amis`` replaces moto's built-in AMI list (about 1,300 public images) with the
    images the local target needs.
    """
    state = read_state(paths)
    if state is not None:
        return state, False

    paths.state.mkdir(parents=True, exist_ok=True)
    _forget_stale(paths)
    port = free_port()
    endpoint = f"http://{LOOPBACK}:{port}"
    amis_path = paths.state / "amis.json"
    amis_path.write_text(json.dumps(amis, indent=2) + "\n", encoding="utf-8")
    paths.emulator_log.touch(mode=0o600)
    with paths.emulator_log.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "builder.local.moto_server", "-H", LOOPBACK, "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=_emulator_environment(amis_path),
        )
    # Written before the JSON state so that `local down` can stop the server even if
    # the state file is lost or damaged.
    paths.emulator_pid.write_text(f"{process.pid}\n", encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _answers(endpoint):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            raise StepFailedError(f"AWS emulator did not start on {endpoint}; see {paths.emulator_log}")
        time.sleep(0.2)

    state = EmulatorState(pid=process.pid, port=port, endpoint=endpoint, started_at=datetime.now(UTC).isoformat())
    temporary = paths.emulator_state.with_suffix(".tmp")
    temporary.write_text(json.dumps(state.to_dict(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(paths.emulator_state)
    logger.info("emulator: started moto server pid %d on %s", process.pid, endpoint)
    return state, True


def stop(paths: LocalPaths) -> EmulatorState | None:
    """Stop the emulator of this state directory, if any, and forget it.

    The pid comes from the JSON state file or, when that is unreadable, from the pid
    file; either way the process is signalled only if it is a moto server started for
    this state directory.
    """
    state: EmulatorState | None = None
    try:
        state = EmulatorState(**json.loads(paths.emulator_state.read_text(encoding="utf-8")))
        pid: int | None = state.pid
    except (OSError, ValueError, TypeError):
        pid = _read_pid_file(paths)
    if pid is not None and _process_alive(pid) and _is_our_server(paths, pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _process_alive(pid):
            os.kill(pid, signal.SIGKILL)
        logger.info("emulator: stopped moto server pid %d", pid)
        if state is None:
            state = EmulatorState(pid=pid, port=0, endpoint="unknown (state file was damaged)", started_at="unknown")
    paths.emulator_state.unlink(missing_ok=True)
    paths.emulator_pid.unlink(missing_ok=True)
    return state


def _read_pid_file(paths: LocalPaths) -> int | None:
    try:
        return int(paths.emulator_pid.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _forget_stale(paths: LocalPaths) -> None:
    """Stop a server whose state file is damaged or that no longer responds, then forget it."""
    if paths.emulator_state.exists() or paths.emulator_pid.exists():
        stop(paths)
        logger.info(
            "emulator: the recorded server is gone or not responding; starting a new one (emulated resources start empty)"
        )


def _emulator_environment(amis_path: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MOTO_"))}
    environment["MOTO_AMIS_PATH"] = str(amis_path)
    environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"] = CREDENTIALS
    # moto would otherwise try to reach a real EC2 metadata endpoint for some calls.
    environment["AWS_EC2_METADATA_DISABLED"] = "true"
    return environment


def free_port() -> int:
    """Return a TCP port that is free on the loopback address now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_server(paths: LocalPaths, pid: int) -> bool:
    """Check that ``pid`` is a moto server started for this state directory.

    A reused pid, or another state directory's emulator, is never signalled: the
    server's environment names this state directory's AMI list.
    """
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    marker = f"MOTO_AMIS_PATH={paths.state / 'amis.json'}".encode()
    return b"builder.local.moto_server" in command and marker in environment
