"""Resource limits and kernel parameters for the oracle user and WebLogic."""

import pytest

LIMITS_FILE = "/etc/security/limits.d/90-oracle.conf"
SYSCTL_FILE = "/etc/sysctl.d/90-oracle.conf"

EXPECTED_LIMITS = {
    ("soft", "nofile"): "65536",
    ("hard", "nofile"): "65536",
    ("soft", "nproc"): "16384",
    ("hard", "nproc"): "16384",
}

EXPECTED_SYSCTL = {
    "fs.file-max": "6815744",
    "net.core.somaxconn": "4096",
    "net.ipv4.ip_local_port_range": "9000 65500",
}


def _content_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_limits_drop_in(host, stat_path):
    limits = stat_path(LIMITS_FILE)
    assert limits is not None, f"{LIMITS_FILE} is missing"
    assert limits.user == "root"
    assert limits.mode == 0o644
    entries = {}
    for line in _content_lines(host.file(LIMITS_FILE).content_string):
        domain, kind, item, value = line.split()
        assert domain == "oracle", f"unexpected domain in {LIMITS_FILE}: {line}"
        entries[(kind, item)] = value
    assert entries == EXPECTED_LIMITS


def test_sysctl_drop_in(host, stat_path):
    sysctl = stat_path(SYSCTL_FILE)
    assert sysctl is not None, f"{SYSCTL_FILE} is missing"
    assert sysctl.user == "root"
    assert sysctl.mode == 0o644
    entries = {}
    for line in _content_lines(host.file(SYSCTL_FILE).content_string):
        key, value = (part.strip() for part in line.split("=", 1))
        entries[key] = " ".join(value.split())
    assert entries == EXPECTED_SYSCTL


@pytest.mark.parametrize("key", sorted(EXPECTED_SYSCTL))
def test_sysctl_live_value(host, in_chroot, key):
    if in_chroot:
        pytest.skip(
            "local stand-in: the host is a chroot, so live kernel parameters are the build host's. "
            "The drop-in applies at boot"
        )
    value = host.run("sysctl -n %s", key)
    assert value.rc == 0, value.stderr
    assert " ".join(value.stdout.split()) == EXPECTED_SYSCTL[key]
