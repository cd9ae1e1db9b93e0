"""The JDK under /u01/app/oracle/jdk and JAVA_HOME for login shells."""

import re

PROFILE_SCRIPT = "/etc/profile.d/osb-java.sh"


def _version_matches(actual: str, expected: str) -> bool:
    # Same rule as packer/scripts/30-jdk.sh: 17 matches 17.0.12 but not 171.
    return actual == expected or any(actual.startswith(expected + separator) for separator in "._-")


def test_jdk_current_link(host, layout, stat_path):
    current = host.file(f"{layout.jdk_root}/current")
    assert current.is_symlink, f"{layout.jdk_root}/current is not a symlink"
    # The trailing slash makes stat follow the link to the JDK home.
    target = stat_path(f"{layout.jdk_root}/current/")
    assert target is not None, f"{layout.jdk_root}/current points nowhere"
    assert target.kind == "directory"
    assert target.user == "root"
    assert target.group == "oinstall"


def test_jdk_not_writable_by_others(host, layout):
    writable = host.run("find %s -perm /022 ! -type l -print", f"{layout.jdk_root}/current/")
    assert writable.rc == 0, writable.stderr
    assert writable.stdout.split() == [], "JDK files are writable by group or others"


def test_java_home_profile_script(host, layout, stat_path):
    profile = stat_path(PROFILE_SCRIPT)
    assert profile is not None, f"{PROFILE_SCRIPT} is missing"
    assert profile.user == "root"
    assert profile.mode == 0o644
    assert f"export JAVA_HOME={layout.jdk_root}/current" in host.file(PROFILE_SCRIPT).content_string.splitlines()


def test_java_home_in_login_shell(host, layout):
    java_home = host.run("runuser -l oracle -c %s", 'printf %s "$JAVA_HOME"')
    assert java_home.rc == 0, java_home.stderr
    assert java_home.stdout == f"{layout.jdk_root}/current"


def test_java_version(host, expected_jdk_version):
    # java -version prints to stderr. runuser -l runs a login shell, so PATH
    # comes from the profile script.
    version = host.run("runuser -l oracle -c %s", "java -version")
    assert version.rc == 0, version.stderr
    match = re.search(r'version "([^"]+)"', version.stderr)
    assert match, f"no quoted version in java -version output: {version.stderr!r}"
    assert _version_matches(match.group(1), expected_jdk_version), (
        f"java -version reports {match.group(1)}, expected {expected_jdk_version}"
    )
