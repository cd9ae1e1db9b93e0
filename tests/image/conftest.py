"""Options and fixtures of the image test suite.

The driver runs the suite against a host booted from a freshly baked image::

    pytest tests/image --hosts=paramiko://admin@127.0.0.1:2299?ssh_identity_file=KEY --sudo \\
        --expect-jdk-version=17 --stand-in-installers --builder-public-key=builder.pub --layer=domain

Every option also reads an OSB_IMAGE_* environment variable, so the suite can run
with only ``--hosts`` and ``--sudo`` on the command line. A check whose input is
missing is skipped with the reason, never passed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise pytest.UsageError(f"{name}={value!r} is not a boolean. Use true or false")


LAYERS = ("base", "domain")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("osb-image", "osb-image image checks")
    group.addoption(
        "--layer",
        choices=LAYERS,
        default=os.environ.get("OSB_IMAGE_LAYER") or "base",
        help="Layer of the image under test: base (OS, JDK, Oracle home) or domain (base plus the "
        "environment's domain, units and first-boot scripts). Domain checks are skipped on base "
        "(env OSB_IMAGE_LAYER, default base).",
    )
    group.addoption(
        "--expect-jdk-version",
        default=os.environ.get("OSB_IMAGE_EXPECT_JDK_VERSION"),
        help="JDK version that java -version must report, e.g. 17 or 1.8.0_202. "
        "The reported version must equal it or start with it followed by '.', '_' or '-' "
        "(env OSB_IMAGE_EXPECT_JDK_VERSION).",
    )
    group.addoption(
        "--expect-run-id",
        default=os.environ.get("OSB_IMAGE_EXPECT_RUN_ID"),
        help="Run id that /etc/osb-image/build-info must record (env OSB_IMAGE_EXPECT_RUN_ID).",
    )
    group.addoption(
        "--stand-in-installers",
        action="store_true",
        default=_env_flag("OSB_IMAGE_STAND_IN_INSTALLERS"),
        help="The image was baked on the local target, with stand-in Oracle installers and, for the "
        "domain layer, the Chef stand-in: checks that need real Oracle binaries or a real Chef run "
        "are skipped and the stand-in records are required (env OSB_IMAGE_STAND_IN_INSTALLERS=true).",
    )
    group.addoption(
        "--builder-public-key",
        default=os.environ.get("OSB_IMAGE_BUILDER_PUBLIC_KEY"),
        help="Path of the public key that Packer used on the builder. No authorized_keys file "
        "in the image may contain it (env OSB_IMAGE_BUILDER_PUBLIC_KEY).",
    )


@dataclass(frozen=True)
class Layout:
    """Paths and ids that packer/templates/build.pkr.hcl.j2 sets in its locals."""

    oracle_base: str = "/u01/app/oracle"
    oracle_home: str = "/u01/app/oracle/product/12.2.1.3/osb"
    oracle_inventory: str = "/u01/app/oraInventory"
    oracle_uid: int = 1100
    oinstall_gid: int = 1100
    upload_dir: str = "/tmp/osb-image-artifacts"
    staging_dir: str = "/var/tmp/osb-image-staging"
    build_info: str = "/etc/osb-image/build-info"
    # Domain layer: chef/cookbooks/osb/attributes/default.rb sets the same paths.
    domain_home: str = "/u01/app/oracle/config/domains/osb_domain"
    domain_spec: str = "/etc/osb-image/domain-spec.json"
    first_boot_env: str = "/etc/osb-image/first-boot.env"
    first_boot_dir: str = "/opt/osb-image/first-boot"
    wlst_dir: str = "/opt/osb-image/wlst"
    wlst_standin_dir: str = "/opt/osb-image/wlst-standin"

    @property
    def jdk_root(self) -> str:
        return f"{self.oracle_base}/jdk"

    @property
    def stand_in_record(self) -> str:
        return f"{self.oracle_home}/STAND-IN.txt"


@pytest.fixture(scope="session")
def layout() -> Layout:
    """Image layout shared with the Packer templates."""
    return Layout()


@pytest.fixture(scope="session")
def layer(pytestconfig: pytest.Config) -> str:
    """Layer of the image under test: base or domain."""
    value = str(pytestconfig.getoption("--layer"))
    if value not in LAYERS:
        raise pytest.UsageError(f"OSB_IMAGE_LAYER={value!r} is not a layer. Use base or domain")
    return value


@pytest.fixture(scope="session")
def domain_layer(layer: str) -> None:
    """Skip the test unless the image under test is a domain layer image."""
    if layer != "domain":
        pytest.skip("base layer image")


@pytest.fixture(scope="session")
def stand_in_installers(pytestconfig: pytest.Config) -> bool:
    """Whether the image was baked with stand-in Oracle installers."""
    return bool(pytestconfig.getoption("--stand-in-installers"))


@pytest.fixture(scope="session")
def expected_jdk_version(pytestconfig: pytest.Config) -> str:
    """JDK version the image must report. Skips the test when none was given."""
    version = pytestconfig.getoption("--expect-jdk-version")
    if not version:
        pytest.skip("no expected JDK version: pass --expect-jdk-version or set OSB_IMAGE_EXPECT_JDK_VERSION")
    return version


@pytest.fixture(scope="session")
def expected_run_id(pytestconfig: pytest.Config) -> str:
    """Run id the build record must contain. Skips the test when none was given."""
    run_id = pytestconfig.getoption("--expect-run-id")
    if not run_id:
        pytest.skip("no expected run id: pass --expect-run-id or set OSB_IMAGE_EXPECT_RUN_ID")
    return run_id


@pytest.fixture(scope="session")
def builder_key_blob(pytestconfig: pytest.Config) -> str:
    """Base64 part of the builder's public key. Skips the test when no key was given."""
    path = pytestconfig.getoption("--builder-public-key")
    if not path:
        pytest.skip("no builder key: pass --builder-public-key or set OSB_IMAGE_BUILDER_PUBLIC_KEY")
    fields = Path(path).read_text().split()
    if len(fields) < 2:
        raise pytest.UsageError(f"{path} is not an OpenSSH public key: expected 'TYPE BASE64 [COMMENT]'")
    return fields[1]


@pytest.fixture(scope="module")
def in_chroot(host) -> bool:
    """Whether the host under test is a chroot, as on the local target."""
    # ischroot (debianutils) exits 0 in a chroot, 1 outside and 2 when it cannot tell.
    return host.run("ischroot").rc == 0


@dataclass(frozen=True)
class PathStat:
    """Type, owner, group and permission bits of one path, as stat reports them."""

    kind: str
    user: str
    group: str
    mode: int


@pytest.fixture(scope="module")
def stat_path(host):
    """Return a function that stats a path in one command, or returns None when it is missing.

    One stat call is faster than a testinfra File per attribute, because every
    attribute costs an SSH round trip.
    """

    def stat(path: str) -> PathStat | None:
        result = host.run("stat --format '%%F|%%U|%%G|%%a' -- %s", path)
        if result.rc != 0:
            return None
        kind, user, group, mode = result.stdout.strip().split("|")
        return PathStat(kind, user, group, int(mode, 8))

    return stat


@pytest.fixture(scope="module")
def existing_paths(host):
    """Return a function that keeps only the paths that exist on the host."""

    def keep_existing(paths: list[str]) -> list[str]:
        return [path for path in paths if host.file(path).exists]

    return keep_existing
