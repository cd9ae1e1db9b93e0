"""The oracle user and the oinstall group that own the Fusion Middleware files."""


def test_oinstall_group_gid(host, layout):
    group = host.group("oinstall")
    assert group.exists, "group oinstall is missing"
    assert group.gid == layout.oinstall_gid


def test_oracle_user_ids(host, layout):
    user = host.user("oracle")
    assert user.exists, "user oracle is missing"
    assert user.uid == layout.oracle_uid
    assert user.gid == layout.oinstall_gid
    assert user.group == "oinstall"


def test_oracle_user_shell_and_home(host):
    user = host.user("oracle")
    assert user.shell == "/bin/bash"
    assert user.home == "/home/oracle"
    assert host.file("/home/oracle").is_directory


def test_oracle_password_locked(host):
    # passwd --status prints "oracle L ..." for a locked password.
    status = host.run("passwd --status oracle")
    assert status.rc == 0, status.stderr
    assert status.stdout.split()[1] == "L", f"oracle can log in with a password: {status.stdout.strip()}"
