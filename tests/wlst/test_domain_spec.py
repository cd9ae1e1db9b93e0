"""builder.domain_spec.validate_domain_spec on the example spec and on broken copies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builder.domain_spec import pointer_lines, validate_domain_spec
from tests.wlst.standin_run import EXAMPLE_SPEC


def test_example_spec_valid() -> None:
    assert validate_domain_spec(EXAMPLE_SPEC) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(spec: dict[str, Any]) -> None:
        node: Any = spec
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if value is _DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


_DELETE = object()

BROKEN_SPECS = [
    ("plain password", _set("rcu.passwordSecret", "Welcome1"), "rcu.passwordSecret", "does not match"),
    ("missing cluster name", _set("cluster.name", _DELETE), "cluster.name", "missing required field"),
    ("unknown field", _set("cluster.maxServers", 3), "cluster", "'maxServers' was unexpected"),
    ("port out of range", _set("adminServer.listenPort", 70000), "adminServer.listenPort", "70000 is greater"),
    ("unknown adapter", _set("adapters.0.name", "AqAdapter"), "adapters[0].name", "is not one of"),
    (
        "cluster below ASG max",
        _set("cluster.asgMaxSize", 8),
        "cluster.dynamicClusterSize",
        "smaller than the spec's cluster.asgMaxSize (8)",
    ),
    (
        "JMS server two targets",
        _set("jms.servers.0.targets", ["osb_cluster", "AdminServer"]),
        "jms.servers[0].targets",
        "needs exactly one target",
    ),
    (
        "subdeployment outside module",
        _set("jms.modules.0.subdeployments.0.targets", ["AdminServer"]),
        "jms.modules[0].subdeployments[0].targets[0]",
        "not among the module's targets",
    ),
    (
        "queue unknown subdeployment",
        _set("jms.modules.0.queues.1.subdeployment", "Nope"),
        "jms.modules[0].queues[1].subdeployment",
        "does not define",
    ),
    (
        "store on XA data source",
        _set("jms.servers.0.store.dataSource", "OsbAppXADS"),
        "jms.servers[0].store.dataSource",
        "a JDBC store needs a non-XA data source",
    ),
    (
        "DbAdapter on non-XA data source",
        _set("adapters.0.connections.0.properties.xADataSourceName", "jdbc/OsbTLogDS"),
        "adapters[0].connections[0].properties.xADataSourceName",
        "is not XA",
    ),
    (
        "JmsAdapter unknown factory",
        _set("adapters.1.connections.0.properties.ConnectionFactoryLocation", "jms/Nope"),
        "adapters[1].connections[0].properties.ConnectionFactoryLocation",
        "not the JNDI name of a connection factory",
    ),
    (
        "wrong test query",
        _set("dataSources.0.testQuery", "SELECT 1"),
        "dataSources[0].testQuery",
        "not recommended for Oracle Database",
    ),
    (
        "unknown user group",
        _set("security.users.0.groups", ["Nobody"]),
        "security.users[0].groups[0]",
        "neither in security.groups nor a built-in WebLogic group",
    ),
    (
        "data source unknown target",
        _set("dataSources.1.targets", ["osb_cluster", "ghost"]),
        "dataSources[1].targets[1]",
        "target 'ghost' is not defined",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [(m, f, msg) for _, m, f, msg in BROKEN_SPECS],
    ids=[name for name, _, _, _ in BROKEN_SPECS],
)
def test_broken_spec_reported(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], field: str, message: str
) -> None:
    spec = json.loads(EXAMPLE_SPEC.read_text())
    mutate(spec)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec, indent=2))

    problems = validate_domain_spec(path)

    matching = [p for p in problems if p.field == field and message in p.message]
    assert matching, f"no problem on {field} containing {message!r}; got {[str(p) for p in problems]}"


def test_problem_line_points_at_key(tmp_path: Path) -> None:
    spec = json.loads(EXAMPLE_SPEC.read_text())
    spec["cluster"]["asgMaxSize"] = 9
    text = json.dumps(spec, indent=2)
    path = tmp_path / "spec.json"
    path.write_text(text)

    problems = validate_domain_spec(path)

    expected_line = next(i for i, line in enumerate(text.splitlines(), 1) if '"dynamicClusterSize"' in line)
    assert [p.line for p in problems] == [expected_line]


def test_invalid_json_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text('{\n  "specVersion": 1,\n  "domain": {,\n}\n')

    problems = validate_domain_spec(path)

    assert [(p.line, p.message.startswith("invalid JSON")) for p in problems] == [(3, True)]


def test_missing_file_reported(tmp_path: Path) -> None:
    problems = validate_domain_spec(tmp_path / "absent.json")
    assert problems[0].message.startswith("cannot read the domain spec")


@pytest.mark.parametrize(
    ("text", "pointer", "line"),
    [
        ('{"a": 1}', "/a", 1),
        ('{\n "a": {\n  "b": [\n   1,\n   {"c": "x/y"}\n  ]\n }\n}', "/a/b/1/c", 5),
        ('{\n "a/b": true\n}', "/a~1b", 2),
    ],
)
def test_pointer_lines(text: str, pointer: str, line: int) -> None:
    assert pointer_lines(text)[pointer] == line
