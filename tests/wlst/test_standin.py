"""Unit tests of the WLST offline stand-in (wlst/standin), imported under CPython.

The stand-in is written in the Python subset shared by Jython 2.7 and CPython 3;
test_osb_domain_standin.py covers it under Jython.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from standin import session as standin_session

from tests.wlst.standin_run import WLST_DIR

WLSTException = standin_session.WLSTException


@pytest.fixture
def wlst() -> dict[str, Any]:
    names = standin_session.namespace()
    for template in ("Basic WebLogic Server Domain", "Oracle JRF", "Oracle Service Bus"):
        names["selectTemplate"](template)
    names["loadTemplates"]()
    return names


REJECTED_CALLS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("unknown folder", lambda w: w["cd"]("/Clusterz/x"), "no folder 'Clusterz'"),
    ("unknown name", lambda w: w["cd"]("/Server/NoSuchServer"), "no Server named 'NoSuchServer'"),
    ("unknown type", lambda w: (w["cd"]("/"), w["create"]("x", "Clustr")), "unknown MBean type 'Clustr'"),
    (
        "type in wrong place",
        lambda w: (w["cd"]("/Server/AdminServer"), w["create"]("x", "Cluster")),
        "cannot be created below /Server/AdminServer",
    ),
    (
        "unknown attribute set",
        lambda w: (w["cd"]("/Server/AdminServer"), w["set"]("ListenPortt", 1)),
        "attribute 'ListenPortt' is not defined for MBean type Server",
    ),
    (
        "unknown attribute get",
        lambda w: (w["cd"]("/Server/AdminServer"), w["get"]("Nope")),
        "attribute 'Nope' is not defined",
    ),
    (
        "integer expected",
        lambda w: (w["cd"]("/Server/AdminServer"), w["set"]("ListenPort", "seven")),
        "needs an integer",
    ),
    (
        "dangling reference",
        lambda w: (w["cd"]("/Server/AdminServer"), w["set"]("Cluster", "missing")),
        "no Cluster named 'missing'",
    ),
    (
        "unknown target",
        lambda w: w["assign"]("JDBCSystemResource", "SOADataSource", "Target", "nowhere"),
        "no Target named 'nowhere'",
    ),
    ("duplicate create", lambda w: (w["cd"]("/"), w["create"]("AdminServer", "Server")), "already exists"),
    ("set on a folder", lambda w: (w["cd"]("/Server"), w["set"]("ListenPort", 1)), "is a folder"),
    ("unknown option", lambda w: w["setOption"]("NoSuchOption", "x"), "unknown option 'NoSuchOption'"),
    (
        "unknown template",
        lambda w: standin_session.namespace()["selectTemplate"]("Oracle SOA Suite"),
        "no template named",
    ),
    ("update without readDomain", lambda w: w["updateDomain"](), "no domain is open"),
    ("database defaults without URL", lambda w: w["getDatabaseDefaults"](), "LocalSvcTblDataSource has no URL"),
]


@pytest.mark.parametrize(
    ("call", "message"), [(c, m) for _, c, m in REJECTED_CALLS], ids=[name for name, _, _ in REJECTED_CALLS]
)
def test_standin_rejects(wlst: dict[str, Any], call: Callable[[dict[str, Any]], Any], message: str) -> None:
    with pytest.raises(WLSTException) as raised:
        call(wlst)
    assert message in str(raised.value)


def test_commands_fail_without_session() -> None:
    names = standin_session.namespace()
    with pytest.raises(WLSTException, match="no domain or template is open"):
        names["cd"]("/")


def test_singleton_child_named_no_name_0(wlst: dict[str, Any]) -> None:
    wlst["cd"]("/")
    wlst["create"]("ds1", "JDBCSystemResource")
    wlst["cd"]("/JDBCSystemResource/ds1/JdbcResource/ds1")
    wlst["create"]("anything", "JDBCDriverParams")
    assert wlst["ls"]("JDBCDriverParams", "true") == ["NO_NAME_0"]


def test_cmo_follows_cd(wlst: dict[str, Any]) -> None:
    wlst["cd"]("/Server/AdminServer")
    assert wlst["cmo"].getName() == "AdminServer"


def test_encrypted_attribute_not_stored_in_clear(wlst: dict[str, Any], tmp_path: Path) -> None:
    wlst["cd"]("/Security/base_domain/User/weblogic")
    wlst["set"]("Password", "clear-text-value")
    wlst["writeDomain"](str(tmp_path / "d"))
    for path in (tmp_path / "d").rglob("*"):
        if path.is_file():
            assert "clear-text-value" not in path.read_text()


def test_write_requires_user_passwords(wlst: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(WLSTException, match="user 'weblogic' has no password"):
        wlst["writeDomain"](str(tmp_path / "d"))


def test_read_domain_restores_tree(wlst: dict[str, Any], tmp_path: Path) -> None:
    wlst["cd"]("/Security/base_domain/User/weblogic")
    wlst["set"]("Password", "x")
    wlst["cd"]("/Server/AdminServer")
    wlst["set"]("ListenPort", 7101)
    wlst["writeDomain"](str(tmp_path / "mydomain"))
    wlst["closeTemplate"]()

    fresh = standin_session.namespace()
    fresh["readDomain"](str(tmp_path / "mydomain"))
    fresh["cd"]("/Server/AdminServer")
    assert fresh["get"]("ListenPort") == 7101
    assert fresh["ls"]("/Security", "true") == ["mydomain"]


def test_read_domain_rejects_missing_dir(tmp_path: Path) -> None:
    names = standin_session.namespace()
    with pytest.raises(WLSTException, match="is not a domain written by the stand-in"):
        names["readDomain"](str(tmp_path / "absent"))


def test_write_refuses_existing_domain(wlst: dict[str, Any], tmp_path: Path) -> None:
    wlst["cd"]("/Security/base_domain/User/weblogic")
    wlst["set"]("Password", "x")
    wlst["writeDomain"](str(tmp_path / "d"))
    with pytest.raises(WLSTException, match="OverwriteDomain is false"):
        wlst["writeDomain"](str(tmp_path / "d"))


def test_delete_drops_target_references(wlst: dict[str, Any]) -> None:
    wlst["cd"]("/")
    wlst["delete"]("osb_server1", "Server")
    wlst["cd"]("/AppDeployment/DbAdapter")
    assert [t.getName() for t in wlst["get"]("Target")] == ["AdminServer"]


def test_standin_rejects_under_jython(tmp_path: Path) -> None:
    import shutil

    jython = shutil.which("jython")
    if jython is None:
        pytest.skip("jython is not installed (Debian: apt-get install jython)")
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(WLST_DIR)!r})\n"
        "from standin import session\n"
        "w = session.namespace()\n"
        "w['selectTemplate']('Basic WebLogic Server Domain')\n"
        "w['loadTemplates']()\n"
        "w['cd']('/Server/AdminServer')\n"
        "try:\n"
        "    w['set']('NoSuchAttribute', 1)\n"
        "except w['WLSTException'] as error:\n"
        "    print('rejected: %s' % error)\n"
    )
    completed = subprocess.run([jython, str(script)], capture_output=True, text=True, timeout=120)
    assert "rejected: set() failed: attribute 'NoSuchAttribute' is not defined" in completed.stdout, completed.stderr
