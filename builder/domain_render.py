"""Render what the Chef domain layer renders, on the driver and without Chef.

The ``domain`` recipe builds the domain spec from ``attributes/default.rb``, the
Chef environment and data bag items (``libraries/domain_spec.rb``). The
``services`` and ``first_boot`` recipes render systemd units and
``first-boot.env`` from ERB templates. This module ports those steps to Python so
that ``osb-image validate`` and the local target's Chef stand-in use the values
that chef-solo would use. ``tests/unit/test_domain_render.py`` keeps the port
equal to the plain-Ruby renderer in ``tests/chef/render_domain_spec.rb``.

It also packs the WLST stand-in runtime: Jython from this machine's Debian
packages, which the local target runs in place of Oracle's ``wlst.sh``.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.domain_spec import pointer_lines
from builder.errors import InvalidInputError, Problem

logger = logging.getLogger(__name__)

COOKBOOK = Path("cookbooks") / "osb"
# Default of osb_systemd_units' environment_file, which the services recipe does not set.
ENVIRONMENT_FILE = "/etc/osb-image/first-boot.env"
# Unit file names and their templates, as in resources/systemd_units.rb.
UNIT_TEMPLATES = {
    "osb-nodemanager.service": "osb-nodemanager.service.erb",
    "osb-admin-server.service": "osb-admin-server.service.erb",
    "osb-managed-server.service": "osb-managed-server.service.erb",
    "osb-first-boot.service": "osb-first-boot.service.erb",
}
DATA_BAG_ITEM = re.compile(r"""data_bag_item\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)""")
ERB_OUTPUT_TAG = re.compile(r"<%=\s*@([a-z_]+)\s*%>")
DEFAULT_JAVA_DIR = Path("/usr/share/java")

Source = tuple[str, int | None]
AttributePath = tuple[str, ...]


class DomainRenderError(InvalidInputError):
    """The Chef tree cannot be rendered into a domain spec; carries the located problem."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


# ---- Ruby attribute file ----------------------------------------------------------


class _RubyLiteral:
    """Parser of the Ruby literals that attribute files assign: strings, numbers, true/false/nil, arrays, {}."""

    def __init__(self, text: str, file: str, line: int) -> None:
        self.text = text
        self.index = 0
        self.file = file
        self.line = line

    def fail(self, message: str) -> DomainRenderError:
        return DomainRenderError(Problem(self.file, self.line, "", message))

    def skip_space(self) -> None:
        while self.index < len(self.text) and self.text[self.index] in " \t":
            self.index += 1

    def parse_statement_value(self) -> Any:
        value = self.parse_value()
        self.skip_space()
        rest = self.text[self.index :]
        if rest and not rest.startswith("#"):
            raise self.fail(f"unexpected text {rest.strip()!r} after the value; write one literal per assignment")
        return value

    def parse_value(self) -> Any:
        self.skip_space()
        if self.index >= len(self.text):
            raise self.fail("missing value after '='")
        char = self.text[self.index]
        if char == "'":
            return self.parse_single_quoted()
        if char == '"':
            return self.parse_double_quoted()
        if char == "[":
            return self.parse_array()
        if self.text.startswith("{}", self.index):
            self.index += 2
            return {}
        for word, value in (("true", True), ("false", False), ("nil", None)):
            if re.match(rf"{word}\b", self.text[self.index :]):
                self.index += len(word)
                return value
        number = re.match(r"-?\d[\d_]*(\.\d+)?", self.text[self.index :])
        if number:
            self.index += number.end()
            digits = number.group(0).replace("_", "")
            return float(digits) if number.group(1) else int(digits)
        raise self.fail(
            f"unsupported Ruby value {self.text[self.index :].strip()!r}; attribute files may assign only "
            "strings, numbers, true, false, nil, arrays of those and {}"
        )

    def parse_single_quoted(self) -> str:
        self.index += 1
        result = []
        while self.index < len(self.text):
            char = self.text[self.index]
            if char == "\\" and self.index + 1 < len(self.text) and self.text[self.index + 1] in "\\'":
                result.append(self.text[self.index + 1])
                self.index += 2
                continue
            if char == "'":
                self.index += 1
                return "".join(result)
            result.append(char)
            self.index += 1
        raise self.fail("unterminated string; a value must end on the line where it starts")

    def parse_double_quoted(self) -> str:
        end = self.text.find('"', self.index + 1)
        if end < 0:
            raise self.fail("unterminated string; a value must end on the line where it starts")
        body = self.text[self.index + 1 : end]
        if "\\" in body or "#{" in body:
            raise self.fail(
                "double-quoted strings with escapes or #{} interpolation are not supported; use single quotes"
            )
        self.index = end + 1
        return body

    def parse_array(self) -> list[Any]:
        self.index += 1
        items: list[Any] = []
        self.skip_space()
        if self.text.startswith("]", self.index):
            self.index += 1
            return items
        while True:
            items.append(self.parse_value())
            self.skip_space()
            if self.text.startswith(",", self.index):
                self.index += 1
                continue
            if self.text.startswith("]", self.index):
                self.index += 1
                return items
            raise self.fail("expected ',' or ']' in the array; an array must end on the line where it starts")


_ASSIGNMENT = re.compile(r"^default((?:\[\s*'[^']+'\s*\])+)\s*=(.*)$")
_KEY = re.compile(r"\[\s*'([^']+)'\s*\]")


@dataclass
class AttributeTree:
    """Merged node attributes with the file and line that last set each path."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[AttributePath, Source] = field(default_factory=dict)

    def set(self, path: AttributePath, value: Any, source: Source) -> None:
        """Assign ``value`` at ``path``, creating the hashes above it as Chef's auto-vivification does."""
        node = self.values
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        node[path[-1]] = value
        self.sources[path] = source

    def merge(self, path: AttributePath, other: dict[str, Any], sources: dict[AttributePath, Source]) -> None:
        """Merge ``other`` over the hash at ``path``: hashes merge key by key, any other value replaces."""
        for key, value in other.items():
            child_path = (*path, key)
            current = self.get(child_path)
            if isinstance(value, dict) and isinstance(current, dict):
                self.sources[child_path] = sources.get(child_path, self.sources.get(child_path, ("", None)))
                self.merge(child_path, value, sources)
            else:
                self.set(child_path, value, sources.get(child_path, ("", None)))

    def get(self, path: AttributePath) -> Any:
        """Return the value at ``path``, or None when a key on the way is missing (as node[...] returns nil)."""
        node: Any = self.values
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def source(self, path: AttributePath) -> Source:
        """Return where ``path`` (or its nearest set ancestor) was set."""
        while path:
            if path in self.sources:
                return self.sources[path]
            path = path[:-1]
        return ("", None)


def _relative(path: Path, chef_dir: Path) -> str:
    """Name a file as chef/… so that a message points into the repository."""
    try:
        return str(Path(chef_dir.name) / path.relative_to(chef_dir))
    except ValueError:
        return str(path)


def load_attribute_file(path: Path, chef_dir: Path, tree: AttributeTree | None = None) -> AttributeTree:
    """Evaluate ``default[...] = literal`` lines of a Chef attribute file into an AttributeTree.

    Comments and blank lines are skipped. Any other Ruby statement raises
    DomainRenderError, so an attribute the port cannot read is never dropped silently.
    """
    tree = tree or AttributeTree()
    file = _relative(path, chef_dir)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if match is None:
            raise DomainRenderError(
                Problem(
                    file,
                    number,
                    "",
                    "unsupported statement; the driver's renderer reads only default['…'] = literal lines",
                )
            )
        path_keys = tuple(_KEY.findall(match.group(1)))
        value = _RubyLiteral(match.group(2), file, number).parse_statement_value()
        tree.set(path_keys, value, (file, number))
    return tree


def _json_document(path: Path, chef_dir: Path) -> tuple[Any, dict[str, int]]:
    file = _relative(path, chef_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DomainRenderError(Problem(file, None, "", "file not found")) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DomainRenderError(
            Problem(file, error.lineno, "", f"invalid JSON: {error.msg} (column {error.colno})")
        ) from None
    if not isinstance(document, dict):
        raise DomainRenderError(
            Problem(
                file,
                1,
                "",
                f"expected a JSON object at the top level, got {type(document).__name__}; see the other files of its folder",
            )
        )
    for key in ("default_attributes", "override_attributes"):
        if key in document and not isinstance(document[key], dict):
            raise DomainRenderError(
                Problem(
                    file,
                    pointer_lines(text).get(f"/{key}"),
                    key,
                    f"expected a JSON object of attributes, got {type(document[key]).__name__}",
                )
            )
    return document, pointer_lines(text)


def _leaf_sources(
    value: Any, path: AttributePath, pointer: str, lines: dict[str, int], file: str
) -> dict[AttributePath, Source]:
    sources: dict[AttributePath, Source] = {path: (file, lines.get(pointer))}
    if isinstance(value, dict):
        for key, child in value.items():
            sources.update(_leaf_sources(child, (*path, key), f"{pointer}/{key}", lines, file))
    return sources


def load_attributes(chef_dir: Path, environment: str) -> AttributeTree:
    """Return node['osb'] as the domain recipe reads it: cookbook defaults, then the environment's attributes."""
    tree = load_attribute_file(chef_dir / COOKBOOK / "attributes" / "default.rb", chef_dir)
    environment_path = chef_dir / "environments" / f"{environment}.json"
    if not environment_path.is_file():
        raise DomainRenderError(
            Problem(
                _relative(environment_path, chef_dir),
                None,
                "",
                f"Chef environment {environment!r} not found; add the file",
            )
        )
    document, lines = _json_document(environment_path, chef_dir)
    file = _relative(environment_path, chef_dir)
    # Chef's precedence: default_attributes, then override_attributes of the environment.
    for level in ("default_attributes", "override_attributes"):
        osb = (document.get(level) or {}).get("osb")
        if osb is None:
            continue
        if not isinstance(osb, dict):
            raise DomainRenderError(Problem(file, lines.get(f"/{level}/osb"), f"{level}.osb", "must be a JSON object"))
        sources = _leaf_sources(osb, ("osb",), f"/{level}/osb", lines, file)
        tree.merge(("osb",), osb, sources)
    return tree


# ---- Data bags ------------------------------------------------------------------------


@dataclass(frozen=True)
class DataBagItem:
    """One data bag item as the recipe reads it, with the file it came from."""

    bag: str
    item_id: str
    value: dict[str, Any]
    file: str
    lines: dict[str, int]

    def source(self, key: str | None = None) -> Source:
        """Return the file and the line of ``key`` (or of the item) in the item's JSON."""
        return (self.file, self.lines.get(f"/{key}" if key else "", 1))


def load_data_bag_items(chef_dir: Path) -> dict[str, list[DataBagItem]]:
    """Return the data bag items that recipes/domain.rb reads, per bag, in the recipe's order."""
    recipe = chef_dir / COOKBOOK / "recipes" / "domain.rb"
    bags: dict[str, list[DataBagItem]] = {}
    for bag, item_id in DATA_BAG_ITEM.findall(recipe.read_text(encoding="utf-8")):
        path = chef_dir / "data_bags" / bag / f"{item_id}.json"
        document, lines = _json_document(path, chef_dir)
        if not isinstance(document, dict):
            raise DomainRenderError(Problem(_relative(path, chef_dir), 1, "", "a data bag item must be a JSON object"))
        bags.setdefault(bag, []).append(DataBagItem(bag, item_id, document, _relative(path, chef_dir), lines))
    return bags


# ---- Domain spec ------------------------------------------------------------------------


@dataclass
class RenderedSpec:
    """A rendered domain spec and, per JSON pointer, the Chef file and line its value comes from."""

    spec: dict[str, Any]
    sources: dict[str, Source]

    def source(self, pointer: str) -> Source:
        """Return the source of ``pointer`` or of its nearest ancestor that has one."""
        while True:
            if pointer in self.sources and self.sources[pointer][0]:
                return self.sources[pointer]
            if not pointer:
                return ("", None)
            pointer = pointer.rsplit("/", 1)[0]


def _secret_name(template: Any, environment: str, source: Source) -> Any:
    """Replace %{environment} as Ruby's format() does; other %{...} names raise as Ruby's KeyError would."""
    if not isinstance(template, str):
        return template

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        if match.group(1) == "environment":
            return environment
        raise DomainRenderError(
            Problem(
                source[0],
                source[1],
                "",
                f"unknown placeholder %{{{match.group(1)}}} in {template!r}; only %{{environment}} is replaced",
            )
        )

    return re.sub(r"%%|%\{([^}]*)\}", replace, template)


def _without_id(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in ("id", "chef_type", "data_bag")}


class _SpecBuilder:
    """Port of OsbCookbook::DomainSpec.build that records where each value comes from."""

    def __init__(self, tree: AttributeTree, bags: dict[str, list[DataBagItem]], environment: str) -> None:
        self.tree = tree
        self.bags = bags
        self.environment = environment
        self.sources: dict[str, Source] = {}

    def attr(self, pointer: str, *path: str) -> Any:
        full_path = ("osb", *path)
        self.sources[pointer] = self.tree.source(full_path)
        return self.tree.get(full_path)

    def secret(self, pointer: str, *path: str) -> Any:
        value = self.attr(pointer, *path)
        return _secret_name(value, self.environment, self.sources[pointer])

    def build(self) -> dict[str, Any]:
        domain_name = self.attr("/domain/name", "domain", "name")
        domain_home = os.path.join(self.attr("/domain/home", "domains_dir"), domain_name)
        applications_home = os.path.join(self.attr("/domain/applicationsHome", "applications_dir"), domain_name)
        heap = self.attr("/cluster/jvmArguments", "cluster", "heap")
        extra = self.tree.get(("osb", "cluster", "extra_jvm_arguments"))
        wka = self.attr("/coherence/wellKnownAddresses", "coherence", "well_known_addresses") or []
        return {
            "specVersion": 1,
            "environment": self.environment,
            "versions": {"weblogic": "12.2.1.3.0", "osb": "12.2.1.3.0"},
            "domain": {
                "name": domain_name,
                "home": domain_home,
                "applicationsHome": applications_home,
                "oracleHome": self.attr("/domain/oracleHome", "oracle_home"),
                "javaHome": self.attr("/domain/javaHome", "jdk", "home"),
                "productionMode": self.attr("/domain/productionMode", "domain", "production_mode"),
                "templates": ["Basic WebLogic Server Domain", "Oracle JRF", "Oracle Service Bus"],
                "templateManagedServers": self.attr(
                    "/domain/templateManagedServers", "domain", "template_managed_servers"
                ),
            },
            "rcu": {
                "url": self.attr("/rcu/url", "rcu", "url"),
                "schemaPrefix": self.attr("/rcu/schemaPrefix", "rcu", "schema_prefix"),
                "passwordSecret": self.secret("/rcu/passwordSecret", "rcu", "password_secret"),
            },
            "adminServer": {
                "name": self.attr("/adminServer/name", "admin", "name"),
                "listenAddress": self.attr("/adminServer/listenAddress", "admin", "listen_address"),
                "listenPort": self.attr("/adminServer/listenPort", "admin", "listen_port"),
                "adminUser": self.attr("/adminServer/adminUser", "admin", "user"),
                "adminPasswordSecret": self.secret("/adminServer/adminPasswordSecret", "admin", "password_secret"),
            },
            "cluster": self.cluster(heap, extra),
            "dataSources": [
                self.data_source(index, item) for index, item in enumerate(self.bags.get("datasources", []))
            ],
            "transactionLogs": {
                "dataSource": self.attr("/transactionLogs/dataSource", "transaction_logs", "data_source"),
                "prefixName": self.attr("/transactionLogs/prefixName", "transaction_logs", "prefix_name"),
            },
            "jms": self.jms(),
            "adapters": [
                self.adapter(index, item, applications_home) for index, item in enumerate(self.bags.get("adapters", []))
            ],
            "security": {
                "groups": [
                    self.plain_item(f"/security/groups/{index}", item)
                    for index, item in enumerate(self.bags.get("groups", []))
                ],
                "users": [self.user(index, item) for index, item in enumerate(self.bags.get("users", []))],
            },
            "coherence": {
                "name": self.attr("/coherence/name", "coherence", "name"),
                "clusterListenPort": self.attr("/coherence/clusterListenPort", "coherence", "cluster_listen_port"),
                "wellKnownAddresses": [dict(address) for address in wka],
            },
        }

    def cluster(self, heap: Any, extra: Any) -> dict[str, Any]:
        return {
            "name": self.attr("/cluster/name", "cluster", "name"),
            "serverTemplate": self.attr("/cluster/serverTemplate", "cluster", "server_template"),
            "serverNamePrefix": self.attr("/cluster/serverNamePrefix", "cluster", "server_name_prefix"),
            "dynamicClusterSize": self.attr("/cluster/dynamicClusterSize", "cluster", "dynamic_cluster_size"),
            "asgMaxSize": self.attr("/cluster/asgMaxSize", "cluster", "asg_max_size"),
            "listenPort": self.attr("/cluster/listenPort", "cluster", "listen_port"),
            "machineNamePrefix": self.attr("/cluster/machineNamePrefix", "cluster", "machine_name_prefix"),
            "nodeManagerPort": self.attr("/cluster/nodeManagerPort", "cluster", "node_manager_port"),
            "nodeManagerType": self.attr("/cluster/nodeManagerType", "cluster", "node_manager_type"),
            # Ruby interpolates nil as "", then strips the result.
            "jvmArguments": f"-Xms{_ruby_text(heap)} -Xmx{_ruby_text(heap)} {_ruby_text(extra)}".strip(),
        }

    def record_item(self, pointer: str, item: DataBagItem, keys: list[str]) -> None:
        self.sources[pointer] = item.source()
        for key in keys:
            self.sources[f"{pointer}/{key}"] = item.source(key)

    def data_source(self, index: int, item: DataBagItem) -> dict[str, Any]:
        pointer = f"/dataSources/{index}"
        settings = self.tree.get(("osb", "datasources", item.item_id))
        if not isinstance(settings, dict):
            file, line = self.tree.source(("osb", "datasources"))
            raise DomainRenderError(
                Problem(
                    file or item.file,
                    line,
                    f"osb.datasources.{item.item_id}",
                    f"node['osb']['datasources']['{item.item_id}'] is missing; the Chef environment must set its url and user",
                )
            )
        ds = _without_id(item.value)
        self.record_item(
            pointer,
            item,
            ["name", "jndiName", "passwordSecret", "xa", "testQuery", "initialCapacity", "maxCapacity", "targets"],
        )
        self.sources[f"{pointer}/url"] = self.tree.source(("osb", "datasources", item.item_id, "url"))
        self.sources[f"{pointer}/user"] = self.tree.source(("osb", "datasources", item.item_id, "user"))
        return {
            "name": ds.get("name"),
            "jndiName": ds.get("jndiName"),
            "url": settings.get("url"),
            "user": settings.get("user"),
            "passwordSecret": _secret_name(ds.get("passwordSecret"), self.environment, item.source("passwordSecret")),
            "xa": ds.get("xa"),
            "testQuery": ds.get("testQuery"),
            "initialCapacity": ds.get("initialCapacity"),
            "maxCapacity": ds.get("maxCapacity"),
            "targets": ds.get("targets"),
        }

    def jms(self) -> dict[str, Any]:
        servers: list[Any] = []
        modules: list[Any] = []
        for item in self.bags.get("jms", []):
            for key, collected in (("servers", servers), ("modules", modules)):
                for offset, entry in enumerate(item.value.get(key) or []):
                    self.sources[f"/jms/{key}/{len(collected)}"] = (item.file, item.lines.get(f"/{key}/{offset}"))
                    collected.append(entry)
        return {"servers": servers, "modules": modules}

    def adapter(self, index: int, item: DataBagItem, applications_home: str) -> dict[str, Any]:
        pointer = f"/adapters/{index}"
        self.record_item(pointer, item, ["name", "connections"])
        self.sources[f"{pointer}/planPath"] = self.tree.source(("osb", "applications_dir"))
        name = item.value.get("name")
        return {
            "name": name,
            "planPath": os.path.join(applications_home, "plans", str(name), "Plan.xml"),
            "connections": item.value.get("connections"),
        }

    def plain_item(self, pointer: str, item: DataBagItem) -> dict[str, Any]:
        result = _without_id(item.value)
        self.record_item(pointer, item, list(result))
        return result

    def user(self, index: int, item: DataBagItem) -> dict[str, Any]:
        result = self.plain_item(f"/security/users/{index}", item)
        result["passwordSecret"] = _secret_name(
            result.get("passwordSecret"), self.environment, item.source("passwordSecret")
        )
        return result


def _ruby_text(value: Any) -> str:
    return "" if value is None else str(value)


def render_domain_spec_with_sources(chef_dir: Path, environment: str) -> RenderedSpec:
    """Render the domain spec for ``environment`` and record the Chef file and line behind each value."""
    chef_dir = Path(chef_dir)
    tree = load_attributes(chef_dir, environment)
    builder = _SpecBuilder(tree, load_data_bag_items(chef_dir), environment)
    spec = builder.build()
    return RenderedSpec(spec, builder.sources)


def render_domain_spec(chef_dir: Path, environment: str) -> dict[str, Any]:
    """Render the domain spec that the ``domain`` recipe writes for ``environment``.

    Raises DomainRenderError with the file and line when the Chef tree cannot be read.
    """
    return render_domain_spec_with_sources(chef_dir, environment).spec


# ---- systemd units and first-boot.env -------------------------------------------------


def _render_erb(path: Path, values: dict[str, Any], chef_dir: Path) -> str:
    """Substitute ``<%= @name %>`` tags; any other ERB tag or an unknown name raises DomainRenderError."""
    text = path.read_text(encoding="utf-8")
    file = _relative(path, chef_dir)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            line = text.count("\n", 0, match.start()) + 1
            raise DomainRenderError(
                Problem(file, line, name, "the recipe passes no variable of this name to the template")
            )
        return _ruby_text(values[name])

    rendered = ERB_OUTPUT_TAG.sub(replace, text)
    leftover = rendered.find("<%")
    if leftover >= 0:
        line = rendered.count("\n", 0, leftover) + 1
        raise DomainRenderError(
            Problem(file, line, "", "only <%= @name %> tags can be rendered without Chef; move logic into the recipe")
        )
    return rendered


def render_unit_files(chef_dir: Path, environment: str) -> dict[str, str]:
    """Render the files that the ``services`` and ``first_boot`` recipes template, keyed by their path in the image.

    The values are those the recipes pass: the systemd units get the domain home,
    JDK, first-boot directory, user and group, and /etc/osb-image/first-boot.env
    gets the spec path, slot table and health check settings.
    """
    chef_dir = Path(chef_dir)
    tree = load_attributes(chef_dir, environment)

    def osb(*path: str) -> Any:
        return tree.get(("osb", *path))

    templates = chef_dir / COOKBOOK / "templates" / "default"
    domain_home = os.path.join(osb("domains_dir"), osb("domain", "name"))
    unit_values = {
        "domain_home": domain_home,
        "java_home": osb("jdk", "home"),
        "first_boot_dir": osb("first_boot_dir"),
        "environment_file": ENVIRONMENT_FILE,
        "user": osb("user"),
        "group": osb("group"),
    }
    slot_source = tree.source(("osb", "first_boot", "slot_table"))
    env_values = {
        "domain_home": domain_home,
        "spec_path": osb("domain", "spec_path"),
        "slot_table": _secret_name(osb("first_boot", "slot_table"), environment, slot_source),
        "health_check_path": osb("first_boot", "health_check_path"),
        "health_check_timeout": osb("first_boot", "health_check_timeout_seconds"),
        "oracle_home": osb("oracle_home"),
        "java_home": osb("jdk", "home"),
    }
    files = {
        f"/etc/systemd/system/{unit}": _render_erb(templates / source, unit_values, chef_dir)
        for unit, source in sorted(UNIT_TEMPLATES.items())
    }
    files[ENVIRONMENT_FILE] = _render_erb(templates / "first-boot.env.erb", env_values, chef_dir)
    return files


def write_domain_files(chef_dir: Path, environment: str, output_dir: Path) -> Path:
    """Write render_unit_files() under ``output_dir`` as a tree that mirrors the image, and return output_dir.

    packer/scripts/local/50-domain-chef-standin.sh installs this tree; the
    directory is replaced as a whole so that no file of an earlier render remains.
    """
    output_dir = Path(output_dir)
    files = render_unit_files(chef_dir, environment)
    if output_dir.exists():
        for path in sorted(output_dir.rglob("*"), reverse=True):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    for image_path, text in files.items():
        target = output_dir / image_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return output_dir


# ---- WLST stand-in runtime -------------------------------------------------------------


def _manifest_class_path(jar: Path) -> list[str]:
    """Return the Class-Path entries of a jar's manifest (continuation lines joined)."""
    with zipfile.ZipFile(jar) as archive:
        manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8")
    joined = re.sub(r"\r?\n ", "", manifest)
    for line in joined.splitlines():
        if line.startswith("Class-Path:"):
            return line.split(":", 1)[1].split()
    return []


def _add_file(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    archive.addfile(info, io.BytesIO(data))


def _add_directory(archive: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    archive.addfile(info)


def build_wlst_standin_runtime(output: Path, java_dir: Path = DEFAULT_JAVA_DIR) -> Path:
    """Pack Debian's Jython and the jars its manifest names into a tar.gz, and return ``output``.

    The archive has one top directory ``jython-VERSION/`` with ``lib/*.jar`` and a
    STAND-IN.txt, so ``java -cp 'jython-VERSION/lib/*' org.python.util.jython``
    runs it with any JDK 8 or later. Class-Path entries that are not installed
    (optional JDBC drivers) are left out and listed in STAND-IN.txt. Entries are
    sorted, owned by root with mtime 0, and the gzip header has no name or time,
    so the same jars always give the same bytes.
    """
    java_dir = Path(java_dir)
    output = Path(output)
    jython_link = java_dir / "jython.jar"
    if not jython_link.exists():
        raise InvalidInputError(f"{jython_link} not found; install Debian's jython package (apt-get install jython)")
    jython_jar = jython_link.resolve()
    version_match = re.fullmatch(r"jython-(\d+(?:\.\d+)+)\.jar", jython_jar.name)
    if version_match is None:
        raise InvalidInputError(f"{jython_link} points at {jython_jar.name}, expected jython-VERSION.jar")
    top = f"jython-{version_match.group(1)}"

    jars: dict[str, Path] = {jython_jar.name: jython_jar}
    missing: list[str] = []
    for entry in _manifest_class_path(jython_jar):
        # Entries are absolute paths under /usr/share/java; look them up in java_dir.
        candidate = java_dir / Path(entry).name
        if candidate.exists():
            jars[candidate.name] = candidate.resolve()
        else:
            missing.append(entry)

    note = (
        f"osb-image WLST stand-in runtime: Jython {version_match.group(1)} from Debian's jython package.\n"
        "It runs wlst/osb_domain.py with --wlst-standin on the local target, in place of\n"
        "Oracle's wlst.sh. It is not Oracle WebLogic Scripting Tool.\n\n"
        "Run: java -cp '" + top + "/lib/*' org.python.util.jython SCRIPT ARGS\n\n"
        "Jars: " + ", ".join(sorted(jars)) + "\n"
        "Left out (not installed on the machine that packed this archive): " + (", ".join(missing) or "none") + "\n"
    )

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        _add_directory(archive, top)
        _add_file(archive, f"{top}/STAND-IN.txt", note.encode("utf-8"))
        _add_directory(archive, f"{top}/lib")
        for name in sorted(jars):
            _add_file(archive, f"{top}/lib/{name}", jars[name].read_bytes())

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with partial.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed:
        compressed.write(buffer.getvalue())
    partial.replace(output)
    if missing:
        logger.info("%s: left out jars that are not installed: %s", output, ", ".join(missing))
    logger.info("%s: WLST stand-in runtime written (%d jars, %d MiB)", output, len(jars), output.stat().st_size >> 20)
    return output
