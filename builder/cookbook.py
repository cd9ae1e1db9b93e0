"""Static checks of the Chef tree under chef/ (roles, environments, data bags, the osb cookbook).

check_cookbook() needs no Chef installation: it parses the JSON files and scans
the Ruby recipes and attribute files with regular expressions, so it finds
literal references only (a data_bag_item() call with computed arguments is not
checked).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from builder.domain_spec import pointer_lines
from builder.errors import Problem

RUN_LIST_ENTRY = re.compile(r"^(recipe|role)\[([^\]]+)\]$")
INCLUDE_RECIPE = re.compile(r"""include_recipe\s*\(?\s*['"]([^'"]+)['"]""")
DATA_BAG_ITEM = re.compile(r"""data_bag_item[\s(]\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]""")
KITCHEN_ENVIRONMENT = re.compile(r"^\s*environment:\s*['\"]?([A-Za-z0-9_-]+)", re.MULTILINE)
SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|pwd|secret|token|private_?key|api_?key|credential|(^|[_.-])pass($|[_.-]))",
    re.IGNORECASE,
)
# Values that carry a credential whatever their key is called: a JDBC thin URL with
# user/password@, a URL with user:password@, or key material.
SECRET_VALUE = re.compile(
    r"(jdbc:oracle:thin:[^/@:\s]+/[^@\s]+@|[a-z][a-z0-9+.-]*://[^/:@\s]+:[^/@\s]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----)",
    re.IGNORECASE,
)
# A secret reference names an SSM parameter or a Secrets Manager secret;
# %{environment} is replaced with the Chef environment name by the cookbook.
SECRET_REFERENCE = re.compile(r"^(ssm:/[A-Za-z0-9_./%{}-]+|secretsmanager:[A-Za-z0-9/_+=.@%{}-]+)$")
RUBY_SECRET_ASSIGNMENT = re.compile(
    r"""\[['"]([^'"]*(?:password|passwd|secret|token|private_?key|api_?key|credential)[^'"]*)['"]\]\s*=\s*['"]([^'"]*)['"]""",
    re.IGNORECASE,
)


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _walk(value: Any, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """Yield (pointer, key, value) for every object member in a JSON document."""
    if isinstance(value, dict):
        for key, child in value.items():
            child_pointer = f"{pointer}/{key}"
            yield child_pointer, key, child
            yield from _walk(child, child_pointer)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, f"{pointer}/{index}")


class _Checker:
    def __init__(self, chef_dir: Path) -> None:
        self.root = chef_dir
        self.problems: list[Problem] = []
        self.documents: dict[Path, tuple[str, Any]] = {}

    def add(self, path: Path, line: int | None, field: str, message: str) -> None:
        self.problems.append(Problem(_relative(path, self.root), line, field, message))

    def load_json(self) -> None:
        for path in sorted(self.root.rglob("*.json")):
            text = path.read_text(encoding="utf-8")
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                self.add(path, error.lineno, "", f"invalid JSON: {error.msg} (column {error.colno})")
                continue
            if not isinstance(document, dict):
                # Roles, environments and data bag items are all JSON objects.
                self.add(
                    path,
                    1,
                    "",
                    f"expected a JSON object at the top level, got {type(document).__name__}; see the other files of its folder",
                )
                continue
            self.documents[path] = (text, document)

    def recipe_path(self, name: str) -> Path:
        cookbook, _, recipe = name.partition("::")
        return self.root / "cookbooks" / cookbook / "recipes" / f"{recipe or 'default'}.rb"

    def check_run_list(self, path: Path, text: str, pointer: str, entries: Any) -> None:
        if not isinstance(entries, list):
            self.add(path, None, pointer, "run_list must be a list")
            return
        for entry in entries:
            match = RUN_LIST_ENTRY.match(str(entry))
            line = _line_of(text, f'"{entry}"')
            if match is None:
                self.add(path, line, pointer, f"run_list entry {entry!r} is not recipe[...] or role[...]")
            elif match.group(1) == "recipe" and not self.recipe_path(match.group(2)).is_file():
                self.add(
                    path,
                    line,
                    pointer,
                    f"{entry} not found: expected {_relative(self.recipe_path(match.group(2)), self.root)}",
                )
            elif match.group(1) == "role" and not (self.root / "roles" / f"{match.group(2)}.json").is_file():
                self.add(path, line, pointer, f"{entry} not found: expected chef/roles/{match.group(2)}.json")

    def check_environment_exists(self, path: Path, line: int | None, field: str, name: str) -> None:
        if not (self.root / "environments" / f"{name}.json").is_file():
            self.add(path, line, field, f"environment {name!r} not found: expected chef/environments/{name}.json")

    def check_roles(self) -> None:
        for path in sorted((self.root / "roles").glob("*.json")):
            if path not in self.documents:
                continue
            text, role = self.documents[path]
            if role.get("name") != path.stem:
                self.add(
                    path, _line_of(text, '"name"'), "name", f"role name {role.get('name')!r} differs from the file name"
                )
            self.check_run_list(path, text, "run_list", role.get("run_list", []))
            for environment, entries in (role.get("env_run_lists") or {}).items():
                self.check_environment_exists(path, _line_of(text, f'"{environment}"'), "env_run_lists", environment)
                self.check_run_list(path, text, f"env_run_lists.{environment}", entries)

    def check_environments(self) -> None:
        for path in sorted((self.root / "environments").glob("*.json")):
            if path in self.documents:
                text, environment = self.documents[path]
                if environment.get("name") != path.stem:
                    self.add(
                        path,
                        _line_of(text, '"name"'),
                        "name",
                        f"environment name {environment.get('name')!r} differs from the file name",
                    )

    def check_data_bags(self) -> None:
        for path in sorted((self.root / "data_bags").glob("*/*.json")):
            if path in self.documents:
                text, item = self.documents[path]
                if not isinstance(item, dict) or item.get("id") != path.stem:
                    self.add(
                        path, _line_of(text, '"id"'), "id", f"data bag item id must be {path.stem!r}, the file name"
                    )

    def check_ruby(self) -> None:
        for path in sorted((self.root / "cookbooks").rglob("*.rb")):
            text = path.read_text(encoding="utf-8")
            for match in INCLUDE_RECIPE.finditer(text):
                if not self.recipe_path(match.group(1)).is_file():
                    self.add(
                        path, _line_of(text, match.group(0)), "include_recipe", f"recipe {match.group(1)!r} not found"
                    )
            for match in DATA_BAG_ITEM.finditer(text):
                bag, item = match.groups()
                if not (self.root / "data_bags" / bag / f"{item}.json").is_file():
                    self.add(
                        path,
                        _line_of(text, match.group(0)),
                        "data_bag_item",
                        f"data bag item {bag}/{item} not found: expected chef/data_bags/{bag}/{item}.json",
                    )
            for match in RUBY_SECRET_ASSIGNMENT.finditer(text):
                key, value = match.groups()
                if value and not SECRET_REFERENCE.match(value):
                    self.add(
                        path,
                        _line_of(text, match.group(0)),
                        key,
                        "looks like a secret value; store the secret in SSM Parameter Store or Secrets Manager "
                        "and put its name here (ssm:/... or secretsmanager:...)",
                    )
        for kitchen in sorted(self.root.rglob("kitchen*.yml")):
            text = kitchen.read_text(encoding="utf-8")
            for match in KITCHEN_ENVIRONMENT.finditer(text):
                self.check_environment_exists(kitchen, _line_of(text, match.group(0)), "environment", match.group(1))

    def check_secrets(self) -> None:
        for path, (text, document) in sorted(self.documents.items()):
            lines = pointer_lines(text)
            for pointer, key, value in _walk(document):
                if isinstance(value, str) and SECRET_VALUE.search(value):
                    self.add(
                        path,
                        lines.get(pointer),
                        pointer.lstrip("/").replace("/", "."),
                        "contains a credential (a password in a URL, or key material); keep the secret in SSM "
                        "Parameter Store or Secrets Manager and reference it by name",
                    )
                    continue
                if not SECRET_KEY.search(key):
                    continue
                values = value if isinstance(value, list) else [value]
                if all(item in ("", None) or isinstance(item, dict) for item in values):
                    continue
                if all(
                    isinstance(item, str) and SECRET_REFERENCE.match(item) for item in values if item not in ("", None)
                ):
                    continue
                self.add(
                    path,
                    lines.get(pointer),
                    pointer.lstrip("/").replace("/", "."),
                    "looks like a secret value; store the secret in SSM Parameter Store or Secrets Manager "
                    "and put its name here (ssm:/... or secretsmanager:...)",
                )

    def run(self) -> list[Problem]:
        if not self.root.is_dir():
            return [Problem(str(self.root), None, "", "Chef directory not found")]
        self.load_json()
        self.check_roles()
        self.check_environments()
        self.check_data_bags()
        self.check_ruby()
        self.check_secrets()
        return self.problems


def check_cookbook(chef_dir: str | Path) -> list[Problem]:
    """Return every structural problem of the Chef tree at chef_dir; empty when it is consistent.

    Every JSON file must parse. Every run_list entry (recipe[cookbook::recipe],
    role[name]) and include_recipe must exist, and so must
    chef/data_bags/bag/item.json for each data_bag_item('bag', 'item') call.
    Every environment that a role or kitchen.yml names must exist. A key that
    names a password, secret or token may contain only an SSM or Secrets
    Manager reference.
    """
    return _Checker(Path(chef_dir)).run()
