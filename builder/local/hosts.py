"""Local test hosts: a copy of an image's root file system run as a chroot with its own sshd.

A host takes the place of an EC2 instance. Starting one copies the image's files into the
host directory, mounts /proc and /dev, installs the launch key for the login user (as
cloud-init does on EC2), regenerates the SSH host keys and starts sshd on a loopback
port. Stopping one ends every process whose root is the host's chroot, releases the
mounts and, unless the files are kept for a snapshot, deletes them. Each host records
itself in ``host.json`` so that a later command can find and stop it after a crash.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from builder.errors import PreconditionError, StepFailedError
from builder.local.emulator import LOOPBACK, free_port
from builder.local.paths import LocalPaths
from builder.local.rootfs import SSH_UID, SSH_USER
from builder.signals import shielded

logger = logging.getLogger(__name__)

SSHD_START_TIMEOUT_SECONDS = 20.0
MOUNTS = ("proc", "dev")


@dataclass
class LocalHost:
    """A running chroot host and how to reach it."""

    host_id: str
    directory: str
    port: int
    sshd_pid: int
    ssh_user: str = SSH_USER

    @property
    def root(self) -> Path:
        return Path(self.directory) / "root"

    @property
    def address(self) -> str:
        return LOOPBACK

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def require_root() -> None:
    """Raise PreconditionError unless running as root, which chroot and mount need."""
    if os.geteuid() != 0:
        raise PreconditionError(
            "the local target needs root (it runs chroot hosts and mounts /proc and /dev); run the command as root or with sudo"
        )


def start_host(paths: LocalPaths, host_id: str, image_root: Path, public_key: str) -> LocalHost:
    """Start a host named ``host_id`` from a copy of ``image_root``; stop it on any failure."""
    require_root()
    directory = paths.hosts / host_id
    if directory.exists():
        stop_host(paths, host_id)
    directory.mkdir(parents=True)
    root = directory / "root"
    host = LocalHost(host_id=host_id, directory=str(directory), port=0, sshd_pid=0)
    _write_record(host)
    try:
        _copy_tree(image_root, root)
        _write_record(host)
        for mount in MOUNTS:
            _mount(root, mount)
        _install_launch_key(root, public_key)
        _write_hosts_file(root)
        _run_in_root(root, ["ssh-keygen", "-A"], "generate SSH host keys")
        (root / "run/sshd").mkdir(parents=True, exist_ok=True)
        host.port = free_port()
        host.sshd_pid = _start_sshd(root, host.port, directory / "sshd.log")
        _write_record(host)
        _wait_for_ssh(host)
    except BaseException:
        stop_host(paths, host_id)
        raise
    logger.info("host %s: sshd pid %d listening on %s:%d", host_id, host.sshd_pid, LOOPBACK, host.port)
    return host


def stop_host(paths: LocalPaths, host_id: str, keep_files: bool = False) -> Path | None:
    """Stop a host and release its mounts; return its root when ``keep_files`` is set."""
    directory = paths.hosts / host_id
    root = directory / "root"
    if not directory.exists():
        return None
    with shielded(f"stopping host {host_id}"):
        _kill_processes_in(root)
        _unmount_all(root)
        if keep_files:
            logger.info("host %s: stopped, files kept for the image store", host_id)
            return root
        _remove_tree(directory)
        logger.info("host %s: stopped and removed", host_id)
        return None


def list_hosts(paths: LocalPaths) -> list[LocalHost]:
    """Return every host that has a record, running or not."""
    hosts: list[LocalHost] = []
    if not paths.hosts.is_dir():
        return hosts
    for record in sorted(paths.hosts.glob("*/host.json")):
        try:
            hosts.append(LocalHost(**json.loads(record.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            logger.warning(
                "host record %s is unreadable; its directory will be removed by `osb-image local down`", record
            )
    return hosts


def sshd_running(host: LocalHost) -> bool:
    """Return whether the host's sshd still runs; a stopped one means its run died (see reap)."""
    return host.sshd_pid > 0 and host.sshd_pid in processes_in(host.root)


def stop_all_hosts(paths: LocalPaths) -> list[str]:
    """Stop every host directory under the state directory; return their ids."""
    if not paths.hosts.is_dir():
        return []
    stopped = []
    for directory in sorted(path for path in paths.hosts.iterdir() if path.is_dir()):
        stop_host(paths, directory.name)
        stopped.append(directory.name)
    return stopped


def active_mounts(under: Path) -> list[str]:
    """Return the mount points at or below ``under``, deepest first."""
    prefix = str(under.resolve())
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def processes_in(root: Path) -> list[int]:
    """Return the pids of processes whose root directory is ``root``."""
    target = str(root.resolve())
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "root") == target:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _write_record(host: LocalHost) -> None:
    record = Path(host.directory) / "host.json"
    temporary = record.with_suffix(".tmp")
    temporary.write_text(json.dumps(host.to_dict(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(record)


def _copy_tree(source: Path, destination: Path) -> None:
    if not source.is_dir():
        raise StepFailedError(
            f"image files {source} are missing; the image store is incomplete, run `osb-image local down` and bake again"
        )
    result = subprocess.run(
        ["cp", "-a", "--reflink=auto", str(source), str(destination)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StepFailedError(f"copying {source} to {destination} failed: {result.stderr.strip()}")


def _mount(root: Path, name: str) -> None:
    point = root / name
    point.mkdir(exist_ok=True)
    if name == "proc":
        command = ["mount", "-t", "proc", "proc", str(point)]
    else:
        command = ["mount", "--rbind", "/dev", str(point)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PreconditionError(
            f"mounting /{name} into {root} failed ({result.stderr.strip()}); the local target needs mount privileges"
        )
    if name == "dev":
        # Keep unmount events of the host's own /dev from reaching the chroot and back.
        subprocess.run(["mount", "--make-rslave", str(point)], capture_output=True, check=False)


def _unmount_all(root: Path) -> None:
    for point in active_mounts(root):
        result = subprocess.run(["umount", "-R", point], capture_output=True, text=True, check=False)
        if result.returncode != 0 and point in active_mounts(root):
            lazy = subprocess.run(["umount", "-R", "-l", point], capture_output=True, text=True, check=False)
            if lazy.returncode != 0:
                raise StepFailedError(
                    f"unmounting {point} failed: {lazy.stderr.strip()}; stop the processes using it and run `osb-image local down`"
                )
            logger.warning("mount %s was busy; detached it lazily", point)


def _kill_processes_in(root: Path) -> None:
    if not root.exists():
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = processes_in(root)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 5
        while processes_in(root) and time.monotonic() < deadline:
            time.sleep(0.1)
    remaining = processes_in(root)
    if remaining:
        raise StepFailedError(f"processes {remaining} in {root} did not stop")


def _remove_tree(directory: Path) -> None:
    if active_mounts(directory):
        raise StepFailedError(f"{directory} still has mounts; refusing to delete it")
    shutil.rmtree(directory)


def _install_launch_key(root: Path, public_key: str) -> None:
    ssh_dir = root / "home" / SSH_USER / ".ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = ssh_dir / "authorized_keys"
    keys.write_text(public_key.strip() + "\n", encoding="utf-8")
    keys.chmod(0o600)
    for path in (ssh_dir, keys):
        os.chown(path, SSH_UID, SSH_UID)


def _write_hosts_file(root: Path) -> None:
    """Map this machine's host name to loopback, as cloud-init does on EC2 at boot.

    The chroot shares the machine's host name; without an entry, sudo looks it up in
    DNS on every call.
    """
    name = socket.gethostname()
    (root / "etc/hosts").write_text(
        f"127.0.0.1 localhost\n127.0.1.1 {name}\n::1 localhost ip6-localhost ip6-loopback\n", encoding="utf-8"
    )


def _run_in_root(root: Path, command: list[str], what: str) -> None:
    result = subprocess.run(["chroot", str(root), *command], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StepFailedError(f"{what} in {root} failed: {result.stderr.strip()}")


def _start_sshd(root: Path, port: int, log_path: Path) -> int:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                "chroot",
                str(root),
                "/usr/sbin/sshd",
                "-D",
                "-e",
                "-p",
                str(port),
                "-o",
                f"ListenAddress={LOOPBACK}",
                "-o",
                "PasswordAuthentication=no",
                "-o",
                "UseDNS=no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def _wait_for_ssh(host: LocalHost) -> None:
    deadline = time.monotonic() + SSHD_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, host.port), timeout=1) as connection:
                if connection.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.1)
    raise StepFailedError(
        f"host {host.host_id}: sshd did not respond on port {host.port}; see {host.directory}/sshd.log"
    )
