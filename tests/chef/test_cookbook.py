"""Chef tree checks: Ruby syntax, builder.cookbook.check_cookbook, and the spec the domain recipe renders."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.cookbook import check_cookbook
from builder.domain_spec import validate_domain_spec
from tests.chef.chef_paths import CHEF_DIR, REPO_ROOT

RUBY_FILES = sorted(CHEF_DIR.rglob("*.rb")) + sorted((REPO_ROOT / "tests" / "chef").glob("*.rb"))


@pytest.mark.parametrize("path", RUBY_FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in RUBY_FILES])
def test_ruby_syntax(ruby: str, path: Path) -> None:
    completed = subprocess.run([ruby, "-c", str(path)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


def test_real_tree_has_no_problems() -> None:
    assert [str(p) for p in check_cookbook(CHEF_DIR)] == []


def _dangling_run_list(chef: Path) -> None:
    role = chef / "roles" / "osb-domain.json"
    data = json.loads(role.read_text())
    data["run_list"].append("recipe[osb::does_not_exist]")
    role.write_text(json.dumps(data, indent=2))


def _dangling_role(chef: Path) -> None:
    role = chef / "roles" / "osb-domain.json"
    data = json.loads(role.read_text())
    data["run_list"][0] = "role[osb-missing]"
    role.write_text(json.dumps(data, indent=2))


def _missing_data_bag_item(chef: Path) -> None:
    (chef / "data_bags" / "users" / "osb_monitor.json").unlink()


def _secret_value_in_data_bag(chef: Path) -> None:
    item = chef / "data_bags" / "datasources" / "osb_tlog.json"
    data = json.loads(item.read_text())
    data["password"] = "Welcome1"
    item.write_text(json.dumps(data, indent=2))


def _secret_value_in_environment(chef: Path) -> None:
    env = chef / "environments" / "qa.json"
    data = json.loads(env.read_text())
    data["override_attributes"]["osb"]["rcu"]["password_secret"] = "hunter2"
    env.write_text(json.dumps(data, indent=2))


def _secret_value_in_attributes(chef: Path) -> None:
    attributes = chef / "cookbooks" / "osb" / "attributes" / "default.rb"
    attributes.write_text(attributes.read_text() + "default['osb']['admin']['password'] = 'Welcome1'\n")


def _missing_environment(chef: Path) -> None:
    (chef / "environments" / "dev.json").unlink()


def _invalid_json(chef: Path) -> None:
    (chef / "data_bags" / "jms" / "osb_jms.json").write_text('{\n  "id": "osb_jms",\n  "servers": [\n}\n')


def _wrong_item_id(chef: Path) -> None:
    item = chef / "data_bags" / "groups" / "osb_monitors.json"
    data = json.loads(item.read_text())
    data["id"] = "monitors"
    item.write_text(json.dumps(data, indent=2))


def _short_password_key(chef: Path) -> None:
    item = chef / "data_bags" / "adapters" / "db_adapter.json"
    data = json.loads(item.read_text())
    data["connections"][0].setdefault("properties", {})["pass"] = "Hunter2Secret"
    item.write_text(json.dumps(data, indent=2))


def _password_in_jdbc_url(chef: Path) -> None:
    item = chef / "data_bags" / "adapters" / "db_adapter.json"
    data = json.loads(item.read_text())
    data["connections"][0].setdefault("properties", {})["connectionString"] = (
        "jdbc:oracle:thin:OSB_APP/Hunter2@//db:1521/APP"
    )
    item.write_text(json.dumps(data, indent=2))


def _secret_in_list(chef: Path) -> None:
    item = chef / "data_bags" / "datasources" / "osb_tlog.json"
    data = json.loads(item.read_text())
    data["password"] = ["hunter2"]
    item.write_text(json.dumps(data, indent=2))


def _list_as_role(chef: Path) -> None:
    (chef / "roles" / "osb-domain.json").write_text("[]\n")


def _call_without_parentheses(chef: Path) -> None:
    recipe = chef / "cookbooks" / "osb" / "recipes" / "domain.rb"
    recipe.write_text(recipe.read_text() + "ghost = data_bag_item 'users', 'ghost'\n")


BROKEN_TREES = [
    (_short_password_key, "data_bags/adapters/db_adapter.json", "looks like a secret value"),
    (_password_in_jdbc_url, "data_bags/adapters/db_adapter.json", "contains a credential"),
    (_secret_in_list, "data_bags/datasources/osb_tlog.json", "looks like a secret value"),
    (_list_as_role, "roles/osb-domain.json", "expected a JSON object at the top level"),
    (_call_without_parentheses, "recipes/domain.rb", "data bag item users/ghost not found"),
    (_dangling_run_list, "roles/osb-domain.json", "recipe[osb::does_not_exist] not found"),
    (_dangling_role, "roles/osb-domain.json", "role[osb-missing] not found"),
    (_missing_data_bag_item, "recipes/domain.rb", "data bag item users/osb_monitor not found"),
    (_secret_value_in_data_bag, "data_bags/datasources/osb_tlog.json", "looks like a secret value"),
    (_secret_value_in_environment, "environments/qa.json", "looks like a secret value"),
    (_secret_value_in_attributes, "attributes/default.rb", "looks like a secret value"),
    (_missing_environment, "kitchen.yml", "environment 'dev' not found"),
    (_invalid_json, "data_bags/jms/osb_jms.json", "invalid JSON"),
    (_wrong_item_id, "data_bags/groups/osb_monitors.json", "data bag item id must be 'osb_monitors'"),
]


@pytest.mark.parametrize(
    ("breakage", "file_suffix", "message"), BROKEN_TREES, ids=[b.__name__.strip("_") for b, _, _ in BROKEN_TREES]
)
def test_broken_tree_reported(tmp_path: Path, breakage: Callable[[Path], None], file_suffix: str, message: str) -> None:
    chef = tmp_path / "chef"
    shutil.copytree(CHEF_DIR, chef)
    breakage(chef)

    problems = check_cookbook(chef)

    matching = [p for p in problems if p.file.endswith(file_suffix) and message in p.message]
    assert matching, [str(p) for p in problems]


def test_invalid_json_line_reported(tmp_path: Path) -> None:
    chef = tmp_path / "chef"
    shutil.copytree(CHEF_DIR, chef)
    _invalid_json(chef)

    problems = [p for p in check_cookbook(chef) if "invalid JSON" in p.message]

    assert [p.line for p in problems] == [4]


def _render(ruby: str, environment: str) -> dict:
    completed = subprocess.run(
        [ruby, str(REPO_ROOT / "tests" / "chef" / "render_domain_spec.rb"), str(CHEF_DIR), environment],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    rendered: dict = json.loads(completed.stdout)
    return rendered


def test_dev_render_matches_example_spec(ruby: str) -> None:
    example = json.loads((REPO_ROOT / "wlst" / "examples" / "domain-spec.dev.json").read_text())
    assert _render(ruby, "dev") == example


@pytest.mark.parametrize("environment", ["dev", "qa", "prod"])
def test_rendered_spec_valid(ruby: str, tmp_path: Path, environment: str) -> None:
    spec_file = tmp_path / f"domain-spec.{environment}.json"
    spec_file.write_text(json.dumps(_render(ruby, environment), indent=2))
    assert [str(p) for p in validate_domain_spec(spec_file)] == []
