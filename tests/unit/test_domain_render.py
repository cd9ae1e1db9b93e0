"""builder.domain_render: the Python port of the Chef domain rendering, and the WLST stand-in runtime."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from builder.domain_render import (
    DomainRenderError,
    build_wlst_standin_runtime,
    load_attribute_file,
    render_domain_spec,
    render_domain_spec_with_sources,
    render_unit_files,
    write_domain_files,
)
from builder.errors import InvalidInputError

REPO_ROOT = Path(__file__).resolve().parents[2]
CHEF_DIR = REPO_ROOT / "chef"
RUBY_RENDERER = REPO_ROOT / "tests" / "chef" / "render_domain_spec.rb"
ENVIRONMENTS = ["dev", "qa", "prod"]


@pytest.fixture
def chef_copy(tmp_path: Path) -> Path:
    """Return a scratch copy of chef/ that a test may break."""
    copy = tmp_path / "chef"
    shutil.copytree(CHEF_DIR, copy)
    return copy


def _ruby_render(environment: str) -> dict:
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.skip("ruby is not installed (Debian: apt-get install ruby); the comparison needs it")
    completed = subprocess.run(
        [ruby, str(RUBY_RENDERER), str(CHEF_DIR), environment], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    rendered: dict = json.loads(completed.stdout)
    return rendered


# ---- Domain spec ---------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_spec_equals_ruby_renderer(environment: str) -> None:
    assert render_domain_spec(CHEF_DIR, environment) == _ruby_render(environment)


def test_dev_spec_equals_example() -> None:
    example = json.loads((REPO_ROOT / "wlst" / "examples" / "domain-spec.dev.json").read_text())
    assert render_domain_spec(CHEF_DIR, "dev") == example


@pytest.mark.parametrize(
    ("pointer", "file", "text_on_line"),
    [
        ("/cluster/dynamicClusterSize", "chef/environments/qa.json", '"dynamic_cluster_size"'),
        ("/dataSources/1/url", "chef/environments/qa.json", '"osb_jms_store"'),
        ("/dataSources/0/xa", "chef/data_bags/datasources/osb_app_xa.json", '"xa"'),
        ("/jms/modules/0/targets", "chef/data_bags/jms/osb_jms.json", "{"),
        ("/domain/home", "chef/cookbooks/osb/attributes/default.rb", "domains_dir"),
        ("/adapters/2/connections/0/jndiName", "chef/data_bags/adapters/file_adapter.json", '"connections"'),
    ],
)
def test_spec_value_source(pointer: str, file: str, text_on_line: str) -> None:
    source_file, line = render_domain_spec_with_sources(CHEF_DIR, "qa").source(pointer)
    assert source_file == file
    assert line is not None
    assert text_on_line in (REPO_ROOT / source_file).read_text().splitlines()[line - 1]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'osb_domain'", "osb_domain"),
        ("'TLOG_${serverName}_'", "TLOG_${serverName}_"),
        ('"plain"', "plain"),
        ("nil # set by the environment", None),
        ("true", True),
        ("7001", 7001),
        ("['osb_server1', 'osb_server2']", ["osb_server1", "osb_server2"]),
        ("[]", []),
        ("{}", {}),
    ],
)
def test_attribute_literal(tmp_path: Path, literal: str, value: object) -> None:
    attributes = tmp_path / "default.rb"
    attributes.write_text(f"# comment\ndefault['osb']['x'] = {literal}\n")
    assert load_attribute_file(attributes, tmp_path).get(("osb", "x")) == value


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("default['osb']['x'] = node['osb']['y']", "unsupported Ruby value"),
        ("override['osb']['x'] = 1", "unsupported statement"),
        ("default['osb']['x'] = \"#{name}\"", "interpolation"),
        ("default['osb']['x'] = 'open", "unterminated string"),
        ("default['osb']['x'] = 1 + 1", "unexpected text"),
    ],
)
def test_attribute_file_rejects(tmp_path: Path, line: str, message: str) -> None:
    attributes = tmp_path / "default.rb"
    attributes.write_text(f"default['osb']['a'] = 1\n{line}\n")
    with pytest.raises(DomainRenderError, match=message) as raised:
        load_attribute_file(attributes, tmp_path)
    assert raised.value.problem.line == 2


def test_missing_environment_raises() -> None:
    with pytest.raises(DomainRenderError, match="Chef environment 'staging' not found"):
        render_domain_spec(CHEF_DIR, "staging")


def test_missing_datasource_settings_raise(chef_copy: Path) -> None:
    environment = chef_copy / "environments" / "dev.json"
    data = json.loads(environment.read_text())
    del data["override_attributes"]["osb"]["datasources"]["osb_tlog"]
    environment.write_text(json.dumps(data, indent=2))
    with pytest.raises(DomainRenderError, match=r"\['osb_tlog'\] is missing") as raised:
        render_domain_spec(chef_copy, "dev")
    assert raised.value.problem.file == "chef/environments/dev.json"


def test_unknown_placeholder_raises(chef_copy: Path) -> None:
    item = chef_copy / "data_bags" / "users" / "osb_monitor.json"
    data = json.loads(item.read_text())
    data["passwordSecret"] = "secretsmanager:osb/%{stage}/users/osb-monitor"
    item.write_text(json.dumps(data, indent=2))
    with pytest.raises(DomainRenderError, match=r"unknown placeholder %\{stage\}"):
        render_domain_spec(chef_copy, "dev")


def test_environment_override_wins(chef_copy: Path) -> None:
    environment = chef_copy / "environments" / "qa.json"
    data = json.loads(environment.read_text())
    data["default_attributes"] = {"osb": {"cluster": {"heap": "1g", "listen_port": 9011}}}
    environment.write_text(json.dumps(data, indent=2))
    cluster = render_domain_spec(chef_copy, "qa")["cluster"]
    assert cluster["jvmArguments"].startswith("-Xms4g -Xmx4g")
    assert cluster["listenPort"] == 9011


# ---- Unit files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("/etc/systemd/system/osb-first-boot.service", "ExecStart=/opt/osb-image/first-boot/osb_first_boot.sh"),
        ("/etc/systemd/system/osb-first-boot.service", "EnvironmentFile=/etc/osb-image/first-boot.env"),
        (
            "/etc/systemd/system/osb-nodemanager.service",
            "ExecStart=/u01/app/oracle/config/domains/osb_domain/bin/startNodeManager.sh",
        ),
        ("/etc/systemd/system/osb-admin-server.service", "User=oracle"),
        ("/etc/systemd/system/osb-managed-server.service", "Environment=JAVA_HOME=/u01/app/oracle/jdk/current"),
        ("/etc/osb-image/first-boot.env", "OSB_SLOT_TABLE=osb-qa-dynamic-server-slots"),
        ("/etc/osb-image/first-boot.env", "OSB_SPEC=/etc/osb-image/domain-spec.json"),
        ("/etc/osb-image/first-boot.env", "OSB_ORACLE_HOME=/u01/app/oracle/product/12.2.1.3/osb"),
    ],
)
def test_unit_file_line(path: str, line: str) -> None:
    assert line in render_unit_files(CHEF_DIR, "qa")[path].splitlines()


def test_unit_files_have_no_erb_left() -> None:
    leftovers = [path for path, text in render_unit_files(CHEF_DIR, "dev").items() if "<%" in text]
    assert leftovers == []


def test_unknown_template_variable_raises(chef_copy: Path) -> None:
    template = chef_copy / "cookbooks" / "osb" / "templates" / "default" / "osb-nodemanager.service.erb"
    template.write_text(template.read_text() + "Nice=<%= @nice %>\n")
    with pytest.raises(DomainRenderError, match="no variable of this name"):
        render_unit_files(chef_copy, "dev")


def test_erb_logic_rejected(chef_copy: Path) -> None:
    template = chef_copy / "cookbooks" / "osb" / "templates" / "default" / "first-boot.env.erb"
    template.write_text(template.read_text() + "<% if @x %>X=1<% end %>\n")
    with pytest.raises(DomainRenderError, match="only <%= @name %> tags"):
        render_unit_files(chef_copy, "dev")


def test_write_domain_files_replaces_tree(tmp_path: Path) -> None:
    output = tmp_path / "domain-files"
    (output / "etc" / "stale").mkdir(parents=True)
    (output / "etc" / "stale" / "old.service").write_text("old\n")

    write_domain_files(CHEF_DIR, "dev", output)

    written = sorted(str(path.relative_to(output)) for path in output.rglob("*") if path.is_file())
    assert written == [
        "etc/osb-image/first-boot.env",
        "etc/systemd/system/osb-admin-server.service",
        "etc/systemd/system/osb-first-boot.service",
        "etc/systemd/system/osb-managed-server.service",
        "etc/systemd/system/osb-nodemanager.service",
    ]


# ---- WLST stand-in runtime ---------------------------------------------------------------


def _jar(path: Path, manifest: str = "Manifest-Version: 1.0\n") -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", manifest)


@pytest.fixture
def java_dir(tmp_path: Path) -> Path:
    """Return a directory laid out like Debian's /usr/share/java with a small Jython."""
    directory = tmp_path / "java"
    directory.mkdir()
    manifest = (
        "Manifest-Version: 1.0\nClass-Path: /usr/share/java/asm.jar /usr/share/java/postgr\n"
        " esql.jar /usr/share/java/guava.jar\nMain-Class: org.python.util.jython\n"
    )
    _jar(directory / "jython-2.7.3.jar", manifest)
    (directory / "jython.jar").symlink_to("jython-2.7.3.jar")
    _jar(directory / "asm-9.4.jar")
    (directory / "asm.jar").symlink_to("asm-9.4.jar")
    _jar(directory / "guava.jar")
    return directory


def _members(archive: Path) -> list[str]:
    with tarfile.open(archive) as opened:
        return opened.getnames()


def test_runtime_members(tmp_path: Path, java_dir: Path) -> None:
    archive = build_wlst_standin_runtime(tmp_path / "runtime.tar.gz", java_dir)
    assert _members(archive) == [
        "jython-2.7.3",
        "jython-2.7.3/STAND-IN.txt",
        "jython-2.7.3/lib",
        "jython-2.7.3/lib/asm.jar",
        "jython-2.7.3/lib/guava.jar",
        "jython-2.7.3/lib/jython-2.7.3.jar",
    ]


def test_runtime_lists_left_out_jars(tmp_path: Path, java_dir: Path) -> None:
    archive = build_wlst_standin_runtime(tmp_path / "runtime.tar.gz", java_dir)
    with tarfile.open(archive) as opened:
        member = opened.extractfile("jython-2.7.3/STAND-IN.txt")
        assert member is not None
        note = member.read().decode()
    assert "Left out (not installed on the machine that packed this archive): /usr/share/java/postgresql.jar" in note


def test_runtime_is_deterministic(tmp_path: Path, java_dir: Path) -> None:
    first = build_wlst_standin_runtime(tmp_path / "first.tar.gz", java_dir).read_bytes()
    second = build_wlst_standin_runtime(tmp_path / "second.tar.gz", java_dir).read_bytes()
    assert first == second


def test_runtime_entries_normalised(tmp_path: Path, java_dir: Path) -> None:
    archive = build_wlst_standin_runtime(tmp_path / "runtime.tar.gz", java_dir)
    with tarfile.open(archive) as opened:
        owners = {(member.uid, member.gid, member.mtime) for member in opened.getmembers()}
    assert owners == {(0, 0, 0)}


def test_runtime_gzip_header_has_no_name(tmp_path: Path, java_dir: Path) -> None:
    header = build_wlst_standin_runtime(tmp_path / "runtime.tar.gz", java_dir).read_bytes()[:10]
    flags, mtime = header[3], header[4:8]
    assert flags & 0x08 == 0, "the gzip header stores a file name"
    assert mtime == b"\0\0\0\0"


def test_runtime_without_jython_raises(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="apt-get install jython"):
        build_wlst_standin_runtime(tmp_path / "runtime.tar.gz", tmp_path)


def test_runtime_unversioned_jar_raises(tmp_path: Path) -> None:
    _jar(tmp_path / "jython.jar")
    with pytest.raises(InvalidInputError, match="expected jython-VERSION.jar"):
        build_wlst_standin_runtime(tmp_path / "runtime.tar.gz", tmp_path)


def test_runtime_jars_byte_identical(tmp_path: Path, java_dir: Path) -> None:
    archive = build_wlst_standin_runtime(tmp_path / "runtime.tar.gz", java_dir)
    with tarfile.open(archive) as opened:
        member = opened.extractfile("jython-2.7.3/lib/asm.jar")
        assert member is not None
        packed = member.read()
    assert packed == (java_dir / "asm-9.4.jar").read_bytes()
    assert zipfile.ZipFile(io.BytesIO(packed)).namelist() == ["META-INF/MANIFEST.MF"]
