"""Build and cache the Debian root file system that local hosts boot from.

The cache is made once with debootstrap (about 40 s and 400 MB on a 2-core machine
with a nearby mirror) and reused by every later run. The same step extracts a real
OpenJDK from Debian's openjdk-17-jre-headless into an archive for the artifact bucket,
then removes the package, so the base image has no JDK until the bake installs one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from builder.errors import PreconditionError, StepFailedError
from builder.local.paths import LocalPaths

logger = logging.getLogger(__name__)

SUITE = "bookworm"
PACKAGES = ["openssh-server", "python3", "sudo", "curl", "ca-certificates", "openjdk-17-jre-headless"]
JDK_PACKAGES = ["openjdk-17-jre-headless", "ca-certificates-java", "java-common"]
JDK_ARCHIVE = "openjdk-17-jre-headless-linux-x64.tar.gz"
SSH_USER = "admin"
SSH_UID = 1000
READY_MARKER = "osb-image-rootfs.json"

# Stand-ins for Oracle's installers, which cannot be downloaded without an Oracle account.
# Each is a small zip whose only file names the installer it replaces. Fixed timestamps keep the
# bytes, and so the SHA-256 recorded in pipeline.yaml, identical on every machine.
STAND_IN_INSTALLERS = {
    "fmw_12.2.1.3.0_infrastructure_Disk1_1of1.zip": "Oracle Fusion Middleware Infrastructure 12.2.1.3.0 installer",
    "fmw_12.2.1.3.0_osb_Disk1_1of1.zip": "Oracle Service Bus 12.2.1.3.0 installer",
}


def debian_mirror() -> str:
    """Return the Debian mirror that this machine's apt sources use.

    ``OSB_IMAGE_DEBIAN_MIRROR`` overrides it.
    """
    override = os.environ.get("OSB_IMAGE_DEBIAN_MIRROR")
    if override:
        return override
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for source in candidates:
        if not source.is_file():
            continue
        for line in source.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if source.suffix == ".sources" and line.startswith("URIs:"):
                for uri in words[1:]:
                    if not uri.rstrip("/").endswith("-security"):
                        return uri
            if source.name == "sources.list" and words[:1] == ["deb"]:
                found = next((word for word in words[1:] if "://" in word), None)
                if found and not found.rstrip("/").endswith("-security"):
                    return found
    raise PreconditionError(
        "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; "
        "set OSB_IMAGE_DEBIAN_MIRROR to a Debian mirror URL"
    )


def ensure_rootfs(paths: LocalPaths) -> Path:
    """Return the cached root file system, building it with debootstrap when missing."""
    root = paths.rootfs_cache
    if (root / READY_MARKER).is_file() and (paths.seed_cache / JDK_ARCHIVE).is_file():
        return root
    if shutil.which("debootstrap") is None:
        raise PreconditionError("debootstrap is not installed; run: apt-get install -y debootstrap")

    mirror = debian_mirror()
    building = root.with_name(root.name + ".building")
    if building.exists():
        shutil.rmtree(building)
    building.parent.mkdir(parents=True, exist_ok=True)
    logger.info("%s: building the Debian %s root file system with debootstrap (once; about a minute)", root, SUITE)
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(building),
            mirror,
        ],
        "debootstrap",
    )

    _prepare_ssh_user(building)
    paths.seed_cache.mkdir(parents=True, exist_ok=True)
    _archive_jdk(building, paths.seed_cache / JDK_ARCHIVE)
    _chroot(building, ["apt-get", "purge", "-y", "-qq", "--autoremove", *JDK_PACKAGES], "purge the JDK packages")
    _chroot(building, ["apt-get", "clean"], "apt-get clean")
    for host_key in (building / "etc/ssh").glob("ssh_host_*"):
        host_key.unlink()

    marker = {"suite": SUITE, "mirror": mirror, "packages": PACKAGES, "built_at": datetime.now(UTC).isoformat()}
    (building / READY_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    if root.exists():
        shutil.rmtree(root)
    building.rename(root)
    logger.info("%s: root file system ready", root)
    return root


def ensure_stand_in_installers(paths: LocalPaths) -> dict[str, Path]:
    """Write the stand-in installer zips (if missing) and return them by file name."""
    paths.seed_cache.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, stands_for in STAND_IN_INSTALLERS.items():
        target = paths.seed_cache / name
        if not target.is_file():
            target.write_bytes(stand_in_zip(name, stands_for))
        files[name] = target
    return files


def stand_in_zip(name: str, stands_for: str) -> bytes:
    """Return the bytes of a deterministic zip that declares itself a stand-in."""
    import io

    text = (
        f"osb-image local stand-in for {name}\n"
        f"This file takes the place of the {stands_for} on the local target.\n"
        "It is not Oracle software and installs nothing.\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo("STAND-IN-README.txt", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, text)
    return buffer.getvalue()


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prepare_ssh_user(root: Path) -> None:
    """Create the login user that Debian's AMIs have: ``admin`` with passwordless sudo."""
    _chroot(
        root, ["useradd", "--create-home", "--uid", str(SSH_UID), "--shell", "/bin/bash", SSH_USER], "create user admin"
    )
    sudoers = root / "etc/sudoers.d/90-cloud-init-users"
    sudoers.write_text(f"# Same rule as Debian's cloud images.\n{SSH_USER} ALL=(ALL) NOPASSWD:ALL\n", encoding="utf-8")
    sudoers.chmod(0o440)


def _archive_jdk(root: Path, archive: Path) -> None:
    """Pack the Debian OpenJDK as a relocatable archive whose top directory is ``jdk-17``."""
    jvm = root / "usr/lib/jvm/java-17-openjdk-amd64"
    if not jvm.is_dir():
        raise StepFailedError(f"{jvm}: OpenJDK was not installed by debootstrap; delete {root} and run again")
    staging = root / "tmp/jdk-17"
    if staging.exists():
        shutil.rmtree(staging)
    # Debian links configuration files from the JDK home into /etc; copy the targets,
    # resolving the links inside the chroot rather than on this machine.
    _chroot(root, ["cp", "-rL", "/usr/lib/jvm/java-17-openjdk-amd64", "/tmp/jdk-17"], "copy the JDK")
    _run(
        [
            "tar",
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-C",
            str(staging.parent),
            "-cf",
            str(archive.with_suffix("")),
            "jdk-17",
        ],
        "pack the JDK",
    )
    _run(["gzip", "-n", "-f", str(archive.with_suffix(""))], "compress the JDK")
    shutil.rmtree(staging)
    logger.info("%s: JDK archive written (%d MiB)", archive, archive.stat().st_size >> 20)


def _chroot(root: Path, command: list[str], what: str) -> None:
    _run(
        ["chroot", str(root), *command],
        what,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    logger.debug("running %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise StepFailedError(f"{what} failed with exit status {result.returncode}: {tail}")
