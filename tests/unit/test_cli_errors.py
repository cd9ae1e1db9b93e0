"""The CLI's error boundary: bad input gives one line, exit status 2 and no AWS call.

These run ``osb-image`` as a real subprocess with a private state directory; the
absence of an emulator state file afterwards shows that no AWS endpoint was started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = (REPOSITORY / "pipeline.yaml").read_text(encoding="utf-8")

BROKEN = [
    pytest.param("architecture: x86_64", "architecture: yes", id="yes-as-boolean"),
    pytest.param('version: "17"', "version: 1.10", id="version-as-float"),
    pytest.param('owners: ["136693071363"]', "owners: [012345678901]", id="account-leading-zero"),
    pytest.param('version: "17"', "version: 12:30", id="time-as-base-60"),
    pytest.param("region: us-east-1", "region: us-east-1\nregion: us-east-2", id="duplicate-key"),
    pytest.param("  architecture: x86_64", "\tarchitecture: x86_64", id="tab"),
    pytest.param("    stack_name: osb-dev\n", "", id="missing-field"),
]


def run_cli(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment["OSB_IMAGE_STATE_DIR"] = str(tmp_path / "state")
    environment["OSB_IMAGE_CACHE_DIR"] = str(tmp_path / "cache")
    return subprocess.run(
        [sys.executable, "-m", "builder", *arguments],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("old", "new"), BROKEN)
@pytest.mark.parametrize("command", [["validate"], ["release", "--env", "dev"], ["bake", "--env", "dev"]])
def test_broken_config_exits_2(tmp_path: Path, old: str, new: str, command: list[str]) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text(EXAMPLE.replace(old, new, 1), encoding="utf-8")

    result = run_cli(tmp_path, "--config", str(config), *command)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: {config}:")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state").exists()


def test_unknown_environment_exits_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "release", "--env", "staging")

    assert result.returncode == 2
    assert "--env: environment 'staging' is not defined in pipeline.yaml; use one of: dev, prod, qa" in result.stderr
    assert not (tmp_path / "state").exists()


def test_unknown_option_exits_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "bake", "--environment", "dev")

    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    levels = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        levels.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    config.write_text("\n".join(levels) + "\n", encoding="utf-8")

    result = run_cli(tmp_path, "--config", str(config), "validate")

    assert result.returncode == 2
    assert "expands to more than 10000 values" in result.stderr


def test_json_option_after_command(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "validate", "--json")

    assert result.returncode == 0
    assert '"valid": true' in result.stdout


def test_validate_prints_environments(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "validate")

    assert result.returncode == 0
    assert "valid (environments: dev, qa, prod)" in result.stdout
