"""Fingerprints change with any input and with nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.fingerprint import Fingerprint


def sample(
    tmp_path: Path, script: str = "echo hi\n", ami: str = "ami-1", config: dict[str, object] | None = None
) -> str:
    path = tmp_path / "script.sh"
    path.write_text(script, encoding="utf-8")
    fingerprint = Fingerprint()
    fingerprint.add_value("source_ami", ami)
    fingerprint.add_file("file:script.sh", path)
    fingerprint.add_digest("installer:jdk", "a" * 64)
    fingerprint.add_value("config", config or {"b": 1, "a": [1, 2]})
    return fingerprint.digest()


def test_fingerprint_is_stable(tmp_path: Path) -> None:
    assert sample(tmp_path) == sample(tmp_path)


def test_fingerprint_ignores_key_order(tmp_path: Path) -> None:
    assert sample(tmp_path, config={"a": [1, 2], "b": 1}) == sample(tmp_path, config={"b": 1, "a": [1, 2]})


@pytest.mark.parametrize(
    "change",
    [{"script": "echo bye\n"}, {"ami": "ami-2"}, {"config": {"b": 2, "a": [1, 2]}}, {"config": {"b": 1, "a": [2, 1]}}],
    ids=["script", "source-ami", "config-value", "list-order"],
)
def test_fingerprint_changes_with_input(tmp_path: Path, change: dict[str, object]) -> None:
    assert sample(tmp_path) != sample(tmp_path, **change)  # type: ignore[arg-type]


def test_conflicting_input_is_rejected() -> None:
    fingerprint = Fingerprint()
    fingerprint.add_digest("installer:jdk", "a" * 64)

    with pytest.raises(ValueError):
        fingerprint.add_digest("installer:jdk", "b" * 64)
