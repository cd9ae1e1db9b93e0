"""builder.validate: the Chef tree and every environment's rendered domain spec."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.config import load_pipeline
from builder.validate import validate_all

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """Return a scratch copy of pipeline.yaml and chef/ that a test may break."""
    shutil.copy(REPO_ROOT / "pipeline.yaml", tmp_path / "pipeline.yaml")
    shutil.copytree(REPO_ROOT / "chef", tmp_path / "chef")
    return tmp_path


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _cluster_smaller_than_asg(root: Path) -> None:
    def change(data: dict) -> None:
        data["override_attributes"]["osb"]["cluster"]["dynamic_cluster_size"] = 3

    _edit_json(root / "chef" / "environments" / "dev.json", change)


def _missing_chef_environment(root: Path) -> None:
    (root / "chef" / "environments" / "qa.json").unlink()


def _invalid_test_query(root: Path) -> None:
    def change(data: dict) -> None:
        data["testQuery"] = "SELECT 2 FROM DUAL"

    _edit_json(root / "chef" / "data_bags" / "datasources" / "osb_tlog.json", change)


def _unsupported_attribute(root: Path) -> None:
    attributes = root / "chef" / "cookbooks" / "osb" / "attributes" / "default.rb"
    attributes.write_text(attributes.read_text() + "default['osb']['cluster']['heap'] = node['memory']['total']\n")


def _dangling_run_list(root: Path) -> None:
    def change(data: dict) -> None:
        data["run_list"].append("recipe[osb::does_not_exist]")

    _edit_json(root / "chef" / "roles" / "osb-domain.json", change)


def _wrong_jms_target(root: Path) -> None:
    def change(data: dict) -> None:
        data["servers"][0]["targets"] = ["no_such_cluster"]

    _edit_json(root / "chef" / "data_bags" / "jms" / "osb_jms.json", change)


BROKEN = [
    (_cluster_smaller_than_asg, "chef/environments/dev.json", "cluster.dynamicClusterSize", "'dev'"),
    (_missing_chef_environment, "pipeline.yaml", "environments.qa", "chef/environments/qa.json"),
    (_invalid_test_query, "chef/data_bags/datasources/osb_tlog.json", "dataSources[2].testQuery", "SELECT 2"),
    (_unsupported_attribute, "chef/cookbooks/osb/attributes/default.rb", "", "unsupported Ruby value"),
    (_dangling_run_list, "roles/osb-domain.json", "run_list", "recipe[osb::does_not_exist] not found"),
    (_wrong_jms_target, "chef/data_bags/jms/osb_jms.json", "jms.servers[0].targets[0]", "no_such_cluster"),
]


def test_repository_is_valid() -> None:
    assert [str(problem) for problem in validate_all(load_pipeline(REPO_ROOT / "pipeline.yaml"))] == []


@pytest.mark.parametrize(
    ("breakage", "file", "field", "text"), BROKEN, ids=[row[0].__name__.strip("_") for row in BROKEN]
)
def test_problem_located(repo_copy: Path, breakage: Callable[[Path], None], file: str, field: str, text: str) -> None:
    breakage(repo_copy)

    problems = validate_all(load_pipeline(repo_copy / "pipeline.yaml"))

    matching = [p for p in problems if p.file.endswith(file) and p.field == field and text in str(p)]
    assert matching, [str(p) for p in problems]


@pytest.mark.parametrize(
    ("breakage", "text_on_line"),
    [
        (_cluster_smaller_than_asg, "dynamic_cluster_size"),
        (_invalid_test_query, "testQuery"),
        (_missing_chef_environment, "osb-qa"),
    ],
)
def test_problem_line(repo_copy: Path, breakage: Callable[[Path], None], text_on_line: str) -> None:
    breakage(repo_copy)

    problem = validate_all(load_pipeline(repo_copy / "pipeline.yaml"))[0]

    assert problem.line is not None
    assert text_on_line in (repo_copy / problem.file).read_text().splitlines()[problem.line - 1]


def test_structure_problems_stop_rendering(repo_copy: Path) -> None:
    _dangling_run_list(repo_copy)
    _cluster_smaller_than_asg(repo_copy)

    problems = validate_all(load_pipeline(repo_copy / "pipeline.yaml"))

    assert [p.field for p in problems] == ["run_list"]


def test_asg_max_from_pipeline(repo_copy: Path) -> None:
    pipeline = repo_copy / "pipeline.yaml"
    pipeline.write_text(
        pipeline.read_text().replace("asg: {min: 2, max: 8, desired: 4}", "asg: {min: 2, max: 20, desired: 4}")
    )

    problems = validate_all(load_pipeline(pipeline))

    assert [(p.file, p.field) for p in problems] == [("chef/environments/prod.json", "cluster.dynamicClusterSize")]
