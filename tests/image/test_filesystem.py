"""Directory layout under /u01 with its owners and modes."""

import shlex

import pytest

ORACLE_HOME = "/u01/app/oracle/product/12.2.1.3/osb"

# (path, owner, group, mode)
DIRECTORIES = [
    ("/u01", "root", "root", 0o755),
    ("/u01/app", "oracle", "oinstall", 0o755),
    ("/u01/app/oracle", "oracle", "oinstall", 0o750),
    ("/u01/app/oracle/product", "oracle", "oinstall", 0o750),
    ("/u01/app/oracle/product/12.2.1.3", "oracle", "oinstall", 0o750),
    (ORACLE_HOME, "oracle", "oinstall", 0o750),
    ("/u01/app/oracle/config", "oracle", "oinstall", 0o750),
    ("/u01/app/oracle/config/domains", "oracle", "oinstall", 0o750),
    ("/u01/app/oracle/config/applications", "oracle", "oinstall", 0o750),
    ("/u01/app/oraInventory", "oracle", "oinstall", 0o770),
    ("/u01/app/oracle/jdk", "root", "oinstall", 0o750),
]


@pytest.mark.parametrize(("path", "owner", "group", "mode"), DIRECTORIES, ids=[row[0] for row in DIRECTORIES])
def test_directory_owner_and_mode(stat_path, path, owner, group, mode):
    directory = stat_path(path)
    assert directory is not None, f"{path} is missing"
    assert directory.kind == "directory"
    assert directory.user == owner
    assert directory.group == group
    assert directory.mode == mode, f"{path} has mode {directory.mode:o}, expected {mode:o}"


def test_inventory_pointer(host, layout, stat_path):
    path = f"{layout.oracle_base}/oraInst.loc"
    pointer = stat_path(path)
    assert pointer is not None, f"{path} is missing"
    assert pointer.kind == "regular file"
    assert pointer.user == "oracle"
    assert pointer.group == "oinstall"
    assert pointer.mode == 0o644
    assert host.file(path).content_string.splitlines() == [
        f"inventory_loc={layout.oracle_inventory}",
        "inst_group=oinstall",
    ]


def test_no_world_writable_paths(host, existing_paths):
    # Sticky directories such as /tmp are world-writable by design.
    roots = existing_paths(["/etc", "/home", "/root", "/opt", "/srv", "/usr/local", "/u01"])
    found = host.run(
        f"find {shlex.join(roots)} -xdev \\( -type f -perm -0002 \\) -o \\( -type d -perm -0002 ! -perm -1000 \\)"
    )
    assert found.rc == 0, found.stderr
    assert found.stdout.split() == [], "world-writable files or non-sticky directories found"
