"""Nothing from the build survives in the image: downloads, URLs, keys, histories.

The host under test was booted from the image, so it has its own SSH host keys
and an authorized_keys file for the test key. The checks accept both.
"""

import shlex

import pytest

# Directories that a build step or a login can write to. /u01 contains the Oracle
# software, whose archives are checked separately.
SCANNED_DIRS = ["/root", "/home", "/tmp", "/var/tmp", "/var/log", "/etc", "/opt", "/srv", "/usr/local", "/u01"]

PRIVATE_KEY_PATTERN = "-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----"

HISTORY_FILES = [
    ".bash_history",
    ".sh_history",
    ".zsh_history",
    ".history",
    ".python_history",
    ".lesshst",
    ".viminfo",
    ".wget-hsts",
]


def _grep_files(host, patterns: list[str], paths: list[str], extra: str = "") -> list[str]:
    """Run grep -rlIs and return the matching text files. grep exits 1 when none match."""
    pattern_args = " ".join(f"-e {shlex.quote(pattern)}" for pattern in patterns)
    result = host.run(f"grep -rlIs {extra} {pattern_args} -- {shlex.join(paths)}")
    assert result.rc in (0, 1), f"grep failed with exit status {result.rc}: {result.stderr}"
    return result.stdout.split()


@pytest.mark.parametrize("attribute", ["upload_dir", "staging_dir"])
def test_download_dirs_removed(host, layout, attribute):
    path = getattr(layout, attribute)
    assert not host.file(path).exists, f"{path} is still present"


def test_no_installer_archives_left(host, layout, existing_paths):
    # ORACLE_HOME and the JDK contain jars of their own, so they are pruned.
    roots = existing_paths(["/tmp", "/var/tmp", "/root", "/home", layout.oracle_base])
    pruned = f"-path {shlex.quote(layout.oracle_base + '/product')} -o -path {shlex.quote(layout.jdk_root)}"
    archives = "-name '*.jar' -o -name '*.zip' -o -name '*.tar.gz' -o -name '*.tgz' -o -name '*.rsp'"
    found = host.run(f"find {shlex.join(roots)} \\( {pruned} \\) -prune -o -type f \\( {archives} \\) -print")
    assert found.rc == 0, found.stderr
    assert found.stdout.split() == [], "installer archives are left after provisioning"


def test_no_private_keys_on_disk(host, existing_paths):
    # Host keys are checked by test_ssh_host_keys_not_from_build.
    files = _grep_files(
        host, [PRIVATE_KEY_PATTERN], existing_paths(SCANNED_DIRS), extra="-E --exclude='ssh_host_*_key'"
    )
    assert files == [], "private keys are left on disk"


def test_ssh_host_keys_not_from_build(host, layout):
    # The image ships without host keys. A booted host has keys created at first
    # boot, which are newer than the build record written when the image was sealed.
    assert host.file(layout.build_info).is_file, f"{layout.build_info} is missing"
    stale = host.run("find /etc/ssh -maxdepth 1 -name 'ssh_host_*' ! -newer %s -print", layout.build_info)
    assert stale.rc == 0, stale.stderr
    assert stale.stdout.split() == [], "SSH host keys from the build are still in the image"


def test_no_presigned_urls_on_disk(host, existing_paths):
    # Signature version 4 URLs carry X-Amz-*; version 2 URLs, which moto also issues, AWSAccessKeyId.
    files = _grep_files(host, ["X-Amz-Signature", "X-Amz-Credential", "AWSAccessKeyId="], existing_paths(SCANNED_DIRS))
    assert files == [], "presigned S3 URLs are left on disk"


def test_no_shell_histories(host):
    names = " -o ".join(f"-name {name}" for name in HISTORY_FILES)
    found = host.run(f"find /root /home -maxdepth 2 -type f \\( {names} \\) -print")
    assert found.rc == 0, found.stderr
    assert found.stdout.split() == [], "shell history files are left in the image"


def test_builder_key_not_authorized(host, existing_paths, builder_key_blob):
    roots = existing_paths(["/root", "/home", "/etc/ssh"])
    grep = f"grep -lF -e {shlex.quote(builder_key_blob)}"
    found = host.run(f"find {shlex.join(roots)} -type f -name 'authorized_keys*' -exec {grep} {{}} +")
    assert found.rc in (0, 1), found.stderr
    assert found.stdout.split() == [], "the builder's public key can still log in"


def test_build_record(host, layout, layer, stand_in_installers):
    record = host.file(layout.build_info)
    assert record.is_file, f"{layout.build_info} is missing"
    assert record.mode == 0o644
    entries = dict(
        line.split("=", 1) for line in record.content_string.splitlines() if line and not line.startswith("#")
    )
    assert entries.get("layer") == layer
    assert entries.get("stand_in_installers") == str(stand_in_installers).lower()


def test_build_record_run_id(host, layout, expected_run_id):
    lines = host.file(layout.build_info).content_string.splitlines()
    assert f"run_id={expected_run_id}" in lines
