"""Paths and fixtures shared by the Chef checks."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHEF_DIR = REPO_ROOT / "chef"
COOKBOOK = CHEF_DIR / "cookbooks" / "osb"

sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def ruby() -> str:
    path = shutil.which("ruby")
    if path is None:
        pytest.skip("ruby is not installed (Debian: apt-get install ruby); the Chef checks need it")
    return path
