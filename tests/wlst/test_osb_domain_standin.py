"""End-to-end runs of wlst/osb_domain.py under Jython with the WLST stand-in."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.wlst.standin_run import RCU_PASSWORD, WLST_DIR, Run, example_spec, find_node

CLUSTER = "/Cluster/osb_cluster"
TEMPLATE = "/ServerTemplate/osb_server_template"
DYNAMIC = CLUSTER + "/DynamicServers/osb_cluster"
JDBC_APP = "/JDBCSystemResource/OsbAppXADS/JdbcResource/OsbAppXADS"
JDBC_TLOG = "/JDBCSystemResource/OsbTLogDS/JdbcResource/OsbTLogDS"
JMS_RESOURCE = "/JMSSystemResource/OsbJmsModule/JmsResource/NO_NAME_0"
COHERENCE_PARAMS = (
    "/CoherenceClusterSystemResource/osb_coherence/CoherenceResource/osb_coherence/CoherenceClusterParams/NO_NAME_0"
)
WKA = COHERENCE_PARAMS + "/CoherenceClusterWellKnownAddresses/NO_NAME_0/CoherenceClusterWellKnownAddress/WKA1"

EXPECTED_ATTRIBUTES = [
    ("/", "ProductionModeEnabled", True),
    ("/Server/AdminServer", "ListenAddress", "admin.dev.osb.internal"),
    ("/Server/AdminServer", "ListenPort", 7001),
    (CLUSTER, "ClusterMessagingMode", "unicast"),
    (TEMPLATE, "ListenPort", 8011),
    (TEMPLATE, "Cluster", "osb_cluster"),
    (TEMPLATE, "CoherenceClusterSystemResource", "osb_coherence"),
    (TEMPLATE + "/ServerStart/osb_server_template", "Arguments", "-Xms2g -Xmx2g -XX:+UseG1GC"),
    (DYNAMIC, "ServerTemplate", "osb_server_template"),
    (DYNAMIC, "DynamicClusterSize", 4),
    (DYNAMIC, "MaxDynamicClusterSize", 4),
    (DYNAMIC, "CalculatedListenPorts", True),
    (DYNAMIC, "CalculatedMachineNames", True),
    (DYNAMIC, "MachineNameMatchExpression", "osb_machine_*"),
    ("/Machine/osb_machine_4/NodeManager/osb_machine_4", "ListenPort", 5556),
    (JDBC_APP + "/JDBCDriverParams/NO_NAME_0", "DriverName", "oracle.jdbc.xa.client.OracleXADataSource"),
    (JDBC_APP + "/JDBCDataSourceParams/NO_NAME_0", "GlobalTransactionsProtocol", "TwoPhaseCommit"),
    (JDBC_APP + "/JDBCConnectionPoolParams/NO_NAME_0", "TestTableName", "SQL ISVALID"),
    (JDBC_APP + "/JDBCDriverParams/NO_NAME_0/Properties/NO_NAME_0/Property/user", "Value", "OSB_APP"),
    (JDBC_TLOG + "/JDBCDriverParams/NO_NAME_0", "DriverName", "oracle.jdbc.OracleDriver"),
    (JDBC_TLOG + "/JDBCConnectionPoolParams/NO_NAME_0", "TestTableName", "SELECT 1 FROM DUAL"),
    ("/JDBCSystemResource/OsbAppXADS", "Target", ["osb_cluster"]),
    ("/JDBCSystemResource/OsbTLogDS", "Target", ["AdminServer", "osb_cluster"]),
    ("/Server/AdminServer/TransactionLogJDBCStore/AdminServer", "Enabled", True),
    ("/Server/AdminServer/TransactionLogJDBCStore/AdminServer", "DataSource", "OsbTLogDS"),
    ("/Server/AdminServer/TransactionLogJDBCStore/AdminServer", "PrefixName", "TLOG_AdminServer_"),
    (TEMPLATE + "/TransactionLogJDBCStore/osb_server_template", "DataSource", "OsbTLogDS"),
    ("/JDBCStore/OsbJmsJdbcStore", "DataSource", "OsbJmsStoreDS"),
    ("/JDBCStore/OsbJmsJdbcStore", "Target", ["osb_cluster"]),
    ("/JMSServer/OsbJmsServer", "PersistentStore", "OsbJmsJdbcStore"),
    ("/JMSServer/OsbJmsServer", "Target", ["osb_cluster"]),
    ("/JMSSystemResource/OsbJmsModule", "Target", ["osb_cluster"]),
    ("/JMSSystemResource/OsbJmsModule/SubDeployment/OsbJmsSubdeployment", "Target", ["OsbJmsServer"]),
    (JMS_RESOURCE + "/ConnectionFactory/OsbXAConnectionFactory", "JNDIName", "jms/OsbXAConnectionFactory"),
    (
        JMS_RESOURCE + "/ConnectionFactory/OsbXAConnectionFactory/TransactionParams/NO_NAME_0",
        "XAConnectionFactoryEnabled",
        True,
    ),
    (JMS_RESOURCE + "/UniformDistributedQueue/OsbRequestQueue", "SubDeploymentName", "OsbJmsSubdeployment"),
    ("/AppDeployment/DbAdapter", "Target", ["AdminServer", "osb_cluster"]),
    (COHERENCE_PARAMS, "ClusteringMode", "unicast"),
    (WKA, "ListenAddress", "admin.dev.osb.internal"),
    (WKA, "ListenPort", 7574),
    ("/Security/osb_domain/User/osb_deployer", "GroupMemberOf", ["OsbDeployers", "Deployers"]),
    ("/Security/osb_domain/Group/OsbMonitors", "Description", "Read-only access to OSB monitoring"),
]


def test_build_exits_zero(built_domain: Run) -> None:
    assert built_domain.returncode == 0, built_domain.output


def test_build_prints_standin_banner(built_domain: Run) -> None:
    assert "WLST STAND-IN" in built_domain.output.splitlines()[0]


@pytest.mark.parametrize(("path", "attribute", "expected"), EXPECTED_ATTRIBUTES)
def test_build_sets_attribute(built_domain: Run, path: str, attribute: str, expected: Any) -> None:
    node = find_node(built_domain.state(), path)
    assert node is not None, f"{path} missing from the domain"
    assert node["attributes"].get(attribute) == expected


@pytest.mark.parametrize("path", ["/Server/osb_server1", "/Machine/osb_machine_5"])
def test_build_leaves_no_extra_mbean(built_domain: Run, path: str) -> None:
    assert find_node(built_domain.state(), path) is None


@pytest.mark.parametrize("adapter", ["DbAdapter", "JmsAdapter", "FileAdapter"])
def test_adapter_plan_lists_connection_instances(built_domain: Run, adapter: str) -> None:
    entry = next(a for a in built_domain.spec["adapters"] if a["name"] == adapter)
    plan = ET.parse(entry["planPath"]).getroot()
    namespace = "{http://xmlns.oracle.com/weblogic/deployment-plan}"
    values = [v.text for v in plan.iter(namespace + "value")]
    for connection in entry["connections"]:
        assert connection["jndiName"] in values


def test_config_xml_is_well_formed(built_domain: Run) -> None:
    root = ET.parse(built_domain.domain_home / "config" / "config.xml").getroot()
    namespace = "{http://xmlns.oracle.com/weblogic/domain}"
    clusters = [c.findtext(namespace + "name") for c in root.findall(namespace + "cluster")]
    assert clusters == ["osb_cluster"]


@pytest.mark.parametrize("relative", ["config/config.xml", ".wlst-standin/state.json"])
def test_rcu_password_not_written(built_domain: Run, relative: str) -> None:
    assert RCU_PASSWORD not in (built_domain.domain_home / relative).read_text()


def test_rcu_password_not_logged(built_domain: Run) -> None:
    assert RCU_PASSWORD not in built_domain.output


def test_rerun_changes_nothing(run_build: Callable[..., Run], tmp_path: Path) -> None:
    first = run_build()
    assert first.returncode == 0, first.output
    watched = [first.domain_home / "config" / "config.xml", first.domain_home / ".wlst-standin" / "state.json"]
    watched += [Path(a["planPath"]) for a in first.spec["adapters"]]
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in watched}

    second = run_build(first.spec)

    assert second.returncode == 0, second.output
    assert "0 change(s)" in second.output
    for path in watched:
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before[path], f"{path} was rewritten"


def test_rerun_applies_changed_size(run_build: Callable[..., Run]) -> None:
    first = run_build()
    spec = first.spec
    spec["cluster"]["dynamicClusterSize"] = 6
    spec["cluster"]["asgMaxSize"] = 6

    second = run_build(spec)

    assert second.returncode == 0, second.output
    dynamic = find_node(second.state(), DYNAMIC)
    assert dynamic is not None
    assert dynamic["attributes"]["DynamicClusterSize"] == 6
    assert find_node(second.state(), "/Machine/osb_machine_6") is not None


def _jms(spec: dict[str, Any]) -> dict[str, Any]:
    jms: dict[str, Any] = spec["jms"]
    return jms


def _two_targets(spec: dict[str, Any]) -> None:
    _jms(spec)["servers"][0]["targets"] = ["osb_cluster", "AdminServer"]


def _no_target(spec: dict[str, Any]) -> None:
    _jms(spec)["servers"][0]["targets"] = []


def _subdeployment_outside_module(spec: dict[str, Any]) -> None:
    _jms(spec)["servers"].append(
        {
            "name": "AdminJmsServer",
            "targets": ["AdminServer"],
            "store": {"name": "AdminJmsStore", "dataSource": "OsbJmsStoreDS", "prefixName": "ADMJMS_"},
        }
    )
    _jms(spec)["modules"][0]["subdeployments"][0]["targets"] = ["AdminJmsServer"]


def _subdeployment_server_outside_module(spec: dict[str, Any]) -> None:
    _jms(spec)["modules"][0]["subdeployments"][0]["targets"] = ["AdminServer"]


def _subdeployment_unknown_target(spec: dict[str, Any]) -> None:
    _jms(spec)["modules"][0]["subdeployments"][0]["targets"] = ["NoSuchJmsServer"]


def _queue_unknown_subdeployment(spec: dict[str, Any]) -> None:
    _jms(spec)["modules"][0]["queues"][0]["subdeployment"] = "Missing"


def _module_unknown_target(spec: dict[str, Any]) -> None:
    _jms(spec)["modules"][0]["targets"] = ["other_cluster"]


def _cluster_smaller_than_asg(spec: dict[str, Any]) -> None:
    spec["cluster"]["asgMaxSize"] = 6


def _tlog_on_xa(spec: dict[str, Any]) -> None:
    spec["transactionLogs"]["dataSource"] = "OsbAppXADS"


TARGETING_MISTAKES = [
    (_two_targets, "has 2 targets; a JMS server needs exactly one target"),
    (_no_target, "has 0 targets; a JMS server needs exactly one target"),
    (_subdeployment_outside_module, "targets JMS server 'AdminJmsServer', which runs on 'AdminServer'"),
    (_subdeployment_server_outside_module, "targets 'AdminServer', which is not among the module's targets"),
    (_subdeployment_unknown_target, "'NoSuchJmsServer', which is neither a JMS server nor a server or cluster"),
    (_queue_unknown_subdeployment, "names subdeployment 'Missing', which JMS module 'OsbJmsModule' does not define"),
    (_module_unknown_target, "target 'other_cluster' is not defined"),
    (_cluster_smaller_than_asg, "dynamic cluster size 4 is smaller than the spec's cluster.asgMaxSize (6)"),
    (_tlog_on_xa, "a JDBC transaction log store needs a non-XA data source"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), TARGETING_MISTAKES, ids=[m.__name__.strip("_") for m, _ in TARGETING_MISTAKES]
)
def test_spec_mistake_rejected(
    run_build: Callable[..., Run], tmp_path: Path, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    spec = example_spec(tmp_path)
    mutate(spec)

    result = run_build(spec)

    assert result.returncode == 2
    assert message in result.output
    assert not Path(spec["domain"]["home"]).exists(), "a WLST command ran although the spec was invalid"


def test_asg_max_argument_checked(run_build: Callable[..., Run]) -> None:
    result = run_build(args=("--asg-max", "10"))
    assert result.returncode == 2
    assert "smaller than the Auto Scaling group's MaxSize (10)" in result.output


def test_missing_rcu_password_fails(run_build: Callable[..., Run]) -> None:
    result = run_build(env_extra={"OSB_RCU_PASSWORD": ""})
    assert result.returncode == 1
    assert "OSB_RCU_PASSWORD is not set" in result.output


def test_without_wlst_or_standin_fails(jython: str, tmp_path: Path) -> None:
    import subprocess

    spec_file = tmp_path / "spec.json"
    spec_file.write_text((WLST_DIR / "examples" / "domain-spec.dev.json").read_text())
    completed = subprocess.run(
        [jython, str(WLST_DIR / "osb_domain.py"), "--spec", str(spec_file)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert completed.returncode == 2
    assert "WLST commands not found" in completed.stdout + completed.stderr


@pytest.mark.parametrize(
    ("original", "broken", "message"),
    [
        ('"ClusterMessagingMode"', '"ClusterMessagingModes"', "attribute 'ClusterMessagingModes' is not defined"),
        ('"/", "Cluster", name', '"/", "Clusters", name', "unknown MBean type 'Clusters'"),
        ('driver + "/Properties/NO_NAME_0', 'driver + "/Propertys/NO_NAME_0', "no folder 'Propertys'"),
        ('"JMSServer", server["name"]', '"JmsServerTypo", server["name"]', "unknown MBean type 'JmsServerTypo'"),
    ],
)
def test_broken_script_fails(
    run_build: Callable[..., Run], tmp_path: Path, original: str, broken: str, message: str
) -> None:
    copy_dir = tmp_path / "wlst-copy"
    shutil.copytree(WLST_DIR, copy_dir)
    domain_py = copy_dir / "osbwlst" / "domain.py"
    source = domain_py.read_text()
    assert original in source
    domain_py.write_text(source.replace(original, broken, 1))

    result = run_build(script_dir=copy_dir)

    assert result.returncode == 1
    assert message in result.output
    assert "domain build failed" in result.output
