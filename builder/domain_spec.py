"""Validate a domain spec (the JSON input of wlst/osb_domain.py) before a bake.

validate_domain_spec() checks the file against builder/schemas/domain-spec.schema.json
and then applies the semantic rules of wlst/osbwlst/spec_rules.py, the same
module the WLST entry point runs under Jython, so both report the same problems.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from jsonschema import Draft202012Validator

from builder.errors import Problem

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO_ROOT / "builder" / "schemas" / "domain-spec.schema.json"
SPEC_RULES_PATH = REPO_ROOT / "wlst" / "osbwlst" / "spec_rules.py"

_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


def _load_spec_rules() -> ModuleType:
    # NOTE: loaded by path from the repository, so builder needs the wlst/ tree next to it.
    spec = importlib.util.spec_from_file_location("osb_spec_rules", SPEC_RULES_PATH)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {SPEC_RULES_PATH}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def pointer_lines(text: str) -> dict[str, int]:
    """Map every JSON pointer in a valid JSON document to the 1-based line where it starts.

    An object member maps to the line of its key, an array item to the line of its value.
    """
    lines: dict[str, int] = {}

    def line_at(index: int) -> int:
        return text.count("\n", 0, index) + 1

    def skip(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    def value(index: int, pointer: str) -> int:
        index = skip(index)
        char = text[index]
        if char == "{":
            index = skip(index + 1)
            if text[index] == "}":
                return index + 1
            while True:
                index = skip(index)
                key_line = line_at(index)
                key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
                child = pointer + "/" + key.replace("~", "~0").replace("/", "~1")
                lines[child] = key_line
                index = skip(index)
                index = value(index + 1, child)
                index = skip(index)
                if text[index] == "}":
                    return index + 1
                index += 1
        if char == "[":
            index = skip(index + 1)
            if text[index] == "]":
                return index + 1
            position = 0
            while True:
                index = skip(index)
                child = f"{pointer}/{position}"
                lines[child] = line_at(index)
                index = skip(value(index, child))
                position += 1
                if text[index] == "]":
                    return index + 1
                index += 1
        if char == '"':
            _, end = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
            return int(end)
        for literal in ("true", "false", "null"):
            if text.startswith(literal, index):
                return index + len(literal)
        match = _NUMBER.match(text, index)
        if match is None:
            raise ValueError(f"unexpected character {char!r} at line {line_at(index)}")
        return match.end()

    lines[""] = 1
    value(0, "")
    return lines


def _field(pointer: str) -> str:
    """Turn '/jms/modules/0/targets' into 'jms.modules[0].targets'."""
    field = ""
    for part in [p for p in pointer.split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if part.isdigit():
            field += f"[{part}]"
        elif field:
            field += f".{part}"
        else:
            field = part
    return field


def _line_for(lines: dict[str, int], pointer: str) -> int | None:
    """Return the line of pointer, or of its nearest ancestor that the file contains."""
    while True:
        if pointer in lines:
            return lines[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]


def validate_domain_spec(path: str | Path, asg_max: int | None = None) -> list[Problem]:
    """Return every problem of the domain spec at path; an empty list means it is valid.

    asg_max is the MaxSize of the managed servers' Auto Scaling group, when known.
    The spec's cluster.dynamicClusterSize must be at least asg_max and at least
    the spec's own cluster.asgMaxSize.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        return [Problem(file, None, "", f"cannot read the domain spec: {error.strerror}")]
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        return [Problem(file, error.lineno, "", f"invalid JSON: {error.msg} (column {error.colno})")]

    lines = pointer_lines(text)
    problems: list[Problem] = []
    validator = Draft202012Validator(load_schema())
    for schema_error in sorted(validator.iter_errors(spec), key=lambda e: list(map(str, e.absolute_path))):
        pointer = "".join(f"/{part}" for part in schema_error.absolute_path)
        if schema_error.validator == "required":
            missing = re.match(r"'([^']+)'", schema_error.message)
            field_pointer = f"{pointer}/{missing.group(1)}" if missing else pointer
            problems.append(Problem(file, _line_for(lines, pointer), _field(field_pointer), "missing required field"))
            continue
        problems.append(Problem(file, _line_for(lines, pointer), _field(pointer), schema_error.message))
    if problems:
        # The semantic rules assume the structure the schema guarantees.
        return problems

    rules = _load_spec_rules()
    for pointer, message in rules.check_spec(spec, asg_max):
        problems.append(Problem(file, _line_for(lines, pointer), _field(pointer), message))
    return problems
