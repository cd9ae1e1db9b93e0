"""Domain layer: the WebLogic domain, its spec, systemd units and first-boot scripts.

Every check here is skipped on a base layer image (``--layer base``). The
expected names come from the domain spec in the image, which the driver
validated before the bake. On the local target the domain was built by the
WLST stand-in, so checks that need a real Chef run or Oracle binaries are
skipped there with the reason.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("domain_layer")

LOCAL_REASON = "local stand-in: the domain layer was baked without Chef Infra Client and without Oracle binaries"
UNITS = ["osb-nodemanager.service", "osb-admin-server.service", "osb-managed-server.service", "osb-first-boot.service"]
FIRST_BOOT_SCRIPTS = [
    "osb_first_boot.sh",
    "osb_managed_server.sh",
    "osb_slot.py",
    "osb_first_boot_offline.py",
    "osb_register_machine.py",
]
WANTS_DIR = "/etc/systemd/system/multi-user.target.wants"
SECRET_KEY = re.compile(r"password|passwd|secret|token|credential", re.IGNORECASE)
SECRET_REFERENCE = re.compile(r"^(ssm:/|secretsmanager:)\S+$")
# Encrypted values carry an algorithm prefix: WebLogic 12c writes {AES}…, domains
# created before 10.3 {3DES}…, and the WLST stand-in {AES-standin}… (a one-way hash).
ENCRYPTED_VALUE = re.compile(r"^\{(AES|3DES|AES-standin)\}\S+$")


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local_name(child.tag) == name]


def _text(element: ElementTree.Element, name: str) -> str | None:
    matches = _children(element, name)
    return (matches[0].text or "").strip() if matches else None


def _names(root: ElementTree.Element, element: str) -> set[str]:
    return {_text(child, "name") or "" for child in _children(root, element)}


def _secret_values(value: Any, pointer: str = "") -> list[str]:
    """Return the JSON pointers of keys that name a secret but contain something other than a secret name."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            child_pointer = f"{pointer}/{key}"
            if SECRET_KEY.search(key) and not (isinstance(child, str) and SECRET_REFERENCE.match(child)):
                found.append(child_pointer)
            found.extend(_secret_values(child, child_pointer))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_secret_values(child, f"{pointer}/{index}"))
    return found


@pytest.fixture(scope="module")
def spec(host, layout) -> dict[str, Any]:
    """Domain spec that the bake wrote into the image."""
    spec_file = host.file(layout.domain_spec)
    assert spec_file.is_file, f"{layout.domain_spec} is missing"
    document: dict[str, Any] = json.loads(spec_file.content_string)
    return document


@pytest.fixture(scope="module")
def config(host, spec) -> ElementTree.Element:
    """Parsed config/config.xml of the domain."""
    path = f"{spec['domain']['home']}/config/config.xml"
    config_file = host.file(path)
    assert config_file.is_file, f"{path} is missing"
    return ElementTree.fromstring(config_file.content_string)


# ---- Domain spec ----------------------------------------------------------------------


def test_spec_owner_and_mode(stat_path, layout):
    spec_file = stat_path(layout.domain_spec)
    assert spec_file is not None, f"{layout.domain_spec} is missing"
    assert (spec_file.user, spec_file.group) == ("oracle", "oinstall")
    assert spec_file.mode == 0o640


def test_spec_has_no_secret_values(spec):
    assert _secret_values(spec) == [], "keys that name a secret must hold an ssm:/ or secretsmanager: name"


@pytest.mark.parametrize(
    ("field", "attribute"),
    [("home", "domain_home"), ("oracleHome", "oracle_home")],
)
def test_spec_matches_layout(spec, layout, field, attribute):
    assert spec["domain"][field] == getattr(layout, attribute)


def test_spec_java_home(spec, layout):
    assert spec["domain"]["javaHome"] == f"{layout.jdk_root}/current"


# ---- Domain directory and config.xml -----------------------------------------------


def test_domain_home_owner(stat_path, layout):
    home = stat_path(layout.domain_home)
    assert home is not None, f"{layout.domain_home} is missing"
    assert home.kind == "directory"
    assert (home.user, home.group) == ("oracle", "oinstall")
    assert home.mode & 0o027 == 0, (
        f"{layout.domain_home} has mode {home.mode:o}; group must not write, others must not read"
    )


def test_cluster_is_dynamic(config, spec):
    cluster = spec["cluster"]
    matches = [element for element in _children(config, "cluster") if _text(element, "name") == cluster["name"]]
    assert len(matches) == 1, f"cluster {cluster['name']} is missing from config.xml"
    dynamic = _children(matches[0], "dynamic-servers")
    assert dynamic, f"cluster {cluster['name']} has no dynamic-servers"
    assert _text(dynamic[0], "server-template") == cluster["serverTemplate"]
    assert _text(dynamic[0], "dynamic-cluster-size") == str(cluster["dynamicClusterSize"])
    assert _text(dynamic[0], "server-name-prefix") == cluster["serverNamePrefix"]


def test_server_template_present(config, spec):
    assert spec["cluster"]["serverTemplate"] in _names(config, "server-template")


def test_machine_per_dynamic_server(config, spec):
    prefix = spec["cluster"]["machineNamePrefix"]
    machines = [name for name in _names(config, "machine") if name.startswith(prefix)]
    assert len(machines) == spec["cluster"]["dynamicClusterSize"]


@pytest.mark.parametrize(
    ("element", "spec_path"),
    [
        ("jdbc-system-resource", ("dataSources",)),
        ("jms-server", ("jms", "servers")),
        ("jms-system-resource", ("jms", "modules")),
        ("app-deployment", ("adapters",)),
    ],
    ids=["data sources", "JMS servers", "JMS modules", "adapters"],
)
def test_spec_resources_in_config(config, spec, element, spec_path):
    entries: Any = spec
    for key in spec_path:
        entries = entries[key]
    expected = {entry["name"] for entry in entries}
    missing = expected - _names(config, element)
    assert missing == set(), f"{element} entries missing from config.xml"


def test_adapter_plan_paths(config, spec):
    deployments = {
        _text(element, "name"): _text(element, "plan-path") for element in _children(config, "app-deployment")
    }
    for adapter in spec["adapters"]:
        assert deployments.get(adapter["name"]) == adapter["planPath"], f"{adapter['name']} does not use its plan"


@pytest.mark.parametrize("index", [0, 1, 2])
def test_adapter_plan_present(stat_path, spec, index):
    plan = stat_path(spec["adapters"][index]["planPath"])
    assert plan is not None, f"{spec['adapters'][index]['planPath']} is missing"
    assert plan.user == "oracle"


def test_no_boot_properties(host, layout):
    found = host.run("find %s -name boot.properties -print", layout.domain_home)
    assert found.rc == 0, found.stderr
    assert found.stdout.split() == [], "boot.properties is in the image; first boot writes it from the secret store"


def test_config_has_no_password_values(config):
    plain = [
        _local_name(element.tag)
        for element in config.iter()
        if "password" in _local_name(element.tag).lower()
        and (element.text or "").strip()
        and not ENCRYPTED_VALUE.match((element.text or "").strip())
    ]
    assert plain == [], "config.xml contains password elements with unencrypted values"


def test_domain_scripts_present(host, layout, stand_in_installers):
    if stand_in_installers:
        pytest.skip(LOCAL_REASON + "; the WLST stand-in writes no domain scripts")
    # NOTE: paths of a 12.2.1.3 domain; not yet checked against a real bake.
    for path in ("bin/startWebLogic.sh", "bin/startNodeManager.sh", "nodemanager/nodemanager.properties"):
        assert host.file(f"{layout.domain_home}/{path}").is_file, f"{path} is missing from the domain"


# ---- systemd units ----------------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS)
def test_unit_installed(stat_path, unit):
    unit_file = stat_path(f"/etc/systemd/system/{unit}")
    assert unit_file is not None, f"{unit} is missing"
    assert (unit_file.user, unit_file.mode) == ("root", 0o644)


@pytest.mark.parametrize("unit", UNITS)
def test_unit_refers_to_image_paths(host, layout, unit):
    text = host.file(f"/etc/systemd/system/{unit}").content_string
    exec_start = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    assert len(exec_start) == 1
    assert exec_start[0].startswith((f"ExecStart={layout.domain_home}/", f"ExecStart={layout.first_boot_dir}/"))


def test_only_first_boot_enabled(host):
    # Checks the links that systemctl enable creates: no systemd runs on a chroot host.
    listing = host.run("find %s -maxdepth 1 -printf '%%f\\n'", WANTS_DIR)
    assert listing.rc == 0, listing.stderr
    enabled = sorted(name for name in listing.stdout.split() if name in UNITS)
    assert enabled == ["osb-first-boot.service"]


def test_first_boot_link_target(host):
    link = host.file(f"{WANTS_DIR}/osb-first-boot.service")
    assert link.is_symlink
    assert link.linked_to == "/etc/systemd/system/osb-first-boot.service"


# ---- First boot --------------------------------------------------------------------------


@pytest.mark.parametrize("script", FIRST_BOOT_SCRIPTS)
def test_first_boot_script_installed(stat_path, layout, script):
    path = f"{layout.first_boot_dir}/{script}"
    installed = stat_path(path)
    assert installed is not None, f"{path} is missing"
    assert (installed.user, installed.group, installed.mode) == ("root", "oinstall", 0o755)


def test_first_boot_env(host, layout):
    entries = dict(
        line.split("=", 1)
        for line in host.file(layout.first_boot_env).content_string.splitlines()
        if line and not line.startswith("#")
    )
    assert entries.get("OSB_DOMAIN_HOME") == layout.domain_home
    assert entries.get("OSB_SPEC") == layout.domain_spec
    assert [key for key in entries if SECRET_KEY.search(key)] == [], "first-boot.env must contain no secret"


def test_first_boot_not_done(host):
    assert not host.file("/var/lib/osb-image/first-boot.done").exists, "the image would skip first boot"


def test_first_boot_tools(host, stand_in_installers):
    if stand_in_installers:
        pytest.skip(LOCAL_REASON + "; first boot's AWS tools are installed by the Chef layer bake only")
    for command in ("aws", "curl"):
        assert host.run("command -v %s", command).rc == 0, f"{command} is not installed"
    assert host.run("python3 -c 'import boto3'").rc == 0, "boto3 is not installed"


# ---- WLST and Chef ------------------------------------------------------------------------


def test_wlst_scripts_installed(host, layout):
    assert host.file(f"{layout.wlst_dir}/osb_domain.py").is_file
    compiled = host.run("find %s -name '*$py.class' -print", layout.wlst_dir)
    assert compiled.stdout.split() == [], "compiled Jython classes could shadow the installed sources"


def test_wlst_standin_matches_mode(host, layout, stand_in_installers):
    record = host.file(f"{layout.wlst_standin_dir}")
    if stand_in_installers:
        notes = host.run("cat %s/jython-*/STAND-IN.txt", layout.wlst_standin_dir)
        assert notes.rc == 0, "the WLST stand-in runtime has no STAND-IN.txt"
        assert "not Oracle WebLogic Scripting Tool" in notes.stdout
    else:
        assert not record.exists, f"{layout.wlst_standin_dir} is present in an image baked with Chef and Oracle WLST"


def test_chef_removed(host, stand_in_installers):
    if stand_in_installers:
        pytest.skip(LOCAL_REASON)
    for command in ("chef-solo", "cinc-solo", "chef-client"):
        assert host.run("command -v %s", command).rc != 0, f"{command} is still installed"
