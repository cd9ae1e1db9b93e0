"""Static checks of the driver: ruff's lint rules and mypy in strict mode."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    shutil.which("ruff", path=str(Path(sys.executable).parent)) is None,
    reason="ruff is not installed (pip install -e '.[test]')",
)
def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "builder", "tests", "benchmarks"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-4000:]


def test_mypy_strict_passes() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")

    result = subprocess.run(
        [sys.executable, "-m", "mypy", "builder"], cwd=REPOSITORY, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout[-4000:]
