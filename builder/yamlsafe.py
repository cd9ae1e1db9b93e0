"""Load YAML while catching the YAML 1.1 typing traps that silently change values.

PyYAML follows YAML 1.1, where an unquoted ``yes``, ``no``, ``on`` or ``off`` is a
boolean, ``1.10`` is the float 1.1, ``012345678901`` is an octal integer and ``12:30``
is the base-60 integer 750. Duplicate keys keep the last value without a word.

This loader rejects duplicate keys and tabs and records the line, the raw text and the
quoting of every scalar. It returns that record, keyed by each value's path, next to
the data, so that later validation can name the line and the trap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from builder.errors import ConfigError, Problem

PathKey = tuple[str | int, ...]

_BOOLEAN_WORDS = {"true", "false"}
# A pipeline has a few hundred values; nested aliases ("billion laughs") can expand a
# small file to millions, so expansion stops here.
MAX_NODES = 10_000
_LEADING_ZERO_INT = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_OTHER_BASE_INT = re.compile(r"^[-+]?0[xob]", re.IGNORECASE)


@dataclass(frozen=True)
class Scalar:
    """Line, raw text and quoting of one scalar."""

    line: int
    raw: str
    plain: bool
    tag: str


@dataclass
class LoadedYaml:
    """Parsed data plus the source record of each path in it."""

    data: Any
    scalars: dict[PathKey, Scalar]
    lines: dict[PathKey, int]
    file: str

    def line_of(self, path: PathKey) -> int | None:
        """Return the line of the value at ``path``, or of its nearest parent."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


class _MarkingLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys; marks are read from the node tree."""


def _node_line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _describe_trap(scalar: Scalar) -> str | None:
    """Return why an unquoted scalar does not mean what it looks like, or None."""
    if not scalar.plain:
        return None
    raw = scalar.raw
    if scalar.tag.endswith(":bool") and raw.lower() not in _BOOLEAN_WORDS:
        meaning = "true" if raw.lower() in {"yes", "y", "on"} else "false"
        return (
            f"the unquoted value {raw!r} is read by YAML 1.1 as the boolean {meaning}; "
            f"write true or false for a boolean, or quote it ('{raw}') for text"
        )
    if _LEADING_ZERO_INT.match(raw):
        # YAML 1.1 reads 0-7 digits as octal; YAML 1.2 tools read any such value as a
        # decimal integer. Either way the leading zero (of an account id, say) is lost.
        return f"the unquoted value {raw!r} is read by YAML as a number and loses its leading zero; quote it ('{raw}')"
    if scalar.tag.endswith((":int", ":float")) and _SEXAGESIMAL.match(raw):
        return f"the unquoted value {raw!r} is read by YAML 1.1 as a base-60 number; quote it ('{raw}')"
    if scalar.tag.endswith(":int") and _OTHER_BASE_INT.match(raw):
        return f"the unquoted value {raw!r} is read as a hexadecimal, octal or binary number; quote it ('{raw}') or write it in decimal"
    return None


def _mismatch_hint(scalar: Scalar) -> str:
    """Explain how YAML typed an unquoted value that the schema wanted as text."""
    kind = scalar.tag.rsplit(":", 1)[-1]
    described = {
        "float": "a number (so 1.10 would become 1.1)",
        "int": "an integer",
        "bool": "a boolean",
        "null": "an empty value (null)",
        "timestamp": "a date",
    }.get(kind, kind)
    return f"the unquoted value {scalar.raw!r} is read by YAML as {described}; quote it ('{scalar.raw}')"


def load_yaml(path: Path) -> LoadedYaml:
    """Parse ``path``, raising ConfigError for syntax errors and YAML traps.

    Every plain scalar is typed as YAML 1.1 types it. The traps listed in the module
    docstring raise ConfigError instead of being accepted.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(name, None, "", "file not found; create it or pass its path with --config")]
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([Problem(name, None, "", f"cannot read the file ({error})")]) from None

    tab_problems = [
        Problem(
            name,
            number,
            "",
            "a tab character is used for indentation; YAML allows only spaces, so replace it with spaces",
        )
        for number, line in enumerate(text.splitlines(), start=1)
        if line[: len(line) - len(line.lstrip(" \t"))].count("\t")
    ]
    if tab_problems:
        raise ConfigError(tab_problems)

    try:
        node = yaml.compose(text, Loader=_MarkingLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = int(mark.line) + 1 if mark else None
        reason = error.problem or "syntax error"
        raise ConfigError([Problem(name, line, "", f"invalid YAML: {reason}; fix the syntax on this line")]) from None
    except yaml.YAMLError as error:
        raise ConfigError([Problem(name, None, "", f"invalid YAML: {error}")]) from None

    if node is None:
        raise ConfigError([Problem(name, 1, "", "the file is empty; see the example pipeline.yaml in the repository")])

    loaded = LoadedYaml(data=None, scalars={}, lines={}, file=name)
    problems: list[Problem] = []
    constructor = _MarkingLoader("")
    try:
        loaded.data = _build(node, (), loaded, problems, constructor)
    except _TooManyNodes:
        raise ConfigError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"the file expands to more than {MAX_NODES} values through YAML aliases; remove the nested aliases",
                )
            ]
        ) from None
    if problems:
        raise ConfigError(problems)
    return loaded


class _TooManyNodes(Exception):
    """Raised when aliases make the document expand past MAX_NODES values."""


def _build(
    node: yaml.Node,
    path: PathKey,
    loaded: LoadedYaml,
    problems: list[Problem],
    constructor: yaml.SafeLoader,
) -> Any:
    if len(loaded.lines) >= MAX_NODES:
        raise _TooManyNodes
    loaded.lines[path] = _node_line(node)
    field = format_path(path)

    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(loaded.file, _node_line(key_node), field, "a mapping key must be plain text"))
                continue
            if key in seen:
                problems.append(
                    Problem(
                        loaded.file,
                        _node_line(key_node),
                        format_path((*path, key)),
                        f"duplicate key (first defined on line {seen[key]}); YAML would keep only the last one, so remove one of them",
                    )
                )
                continue
            seen[key] = _node_line(key_node)
            result[key] = _build(value_node, (*path, key), loaded, problems, constructor)
        return result

    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, index), loaded, problems, constructor) for index, item in enumerate(node.value)]

    assert isinstance(node, yaml.ScalarNode)
    scalar = Scalar(line=_node_line(node), raw=str(node.value), plain=node.style is None, tag=str(node.tag))
    loaded.scalars[path] = scalar
    trap = _describe_trap(scalar)
    if trap:
        problems.append(Problem(loaded.file, scalar.line, field, trap))
        return scalar.raw
    if not scalar.plain:
        return scalar.raw
    return constructor.construct_object(node, deep=True)


def format_path(path: PathKey) -> str:
    """Format a path as the dotted field name users see, e.g. ``environments.dev.asg.max``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def explain_type_mismatch(loaded: LoadedYaml, path: PathKey) -> str | None:
    """Return a hint for a value that YAML typed differently from what the schema wants."""
    scalar = loaded.scalars.get(path)
    if scalar is None or not scalar.plain or scalar.tag.endswith(":str"):
        return None
    return _mismatch_hint(scalar)
