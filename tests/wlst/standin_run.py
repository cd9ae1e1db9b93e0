"""Helpers and fixtures that run wlst/osb_domain.py under Jython against the WLST stand-in."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
WLST_DIR = REPO_ROOT / "wlst"
EXAMPLE_SPEC = WLST_DIR / "examples" / "domain-spec.dev.json"
RCU_PASSWORD = "rcu-test-password-7f3a"

sys.path.insert(0, str(WLST_DIR))
sys.path.insert(0, str(REPO_ROOT))


@dataclass
class Run:
    returncode: int
    output: str
    spec: dict[str, Any]

    @property
    def domain_home(self) -> Path:
        return Path(self.spec["domain"]["home"])

    def state(self) -> dict[str, Any]:
        state_file = self.domain_home / ".wlst-standin" / "state.json"
        return json.loads(state_file.read_text())


def example_spec(root: Path) -> dict[str, Any]:
    """Return the example spec with every path moved below root."""
    spec = json.loads(EXAMPLE_SPEC.read_text())
    spec["domain"]["home"] = str(root / "domains" / "osb_domain")
    spec["domain"]["applicationsHome"] = str(root / "applications" / "osb_domain")
    for adapter in spec["adapters"]:
        adapter["planPath"] = str(root / "plans" / adapter["name"] / "Plan.xml")
    return spec


@pytest.fixture(scope="session")
def jython() -> str:
    path = shutil.which("jython")
    if path is None:
        pytest.skip("jython is not installed (Debian: apt-get install jython); the WLST scripts need Jython 2.7")
    return path


@pytest.fixture
def run_build(jython: str, tmp_path: Path) -> Callable[..., Run]:
    def run(
        spec: dict[str, Any] | None = None,
        script_dir: Path = WLST_DIR,
        env_extra: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> Run:
        spec = copy.deepcopy(spec) if spec is not None else example_spec(tmp_path)
        spec_file = tmp_path / "domain-spec.json"
        spec_file.write_text(json.dumps(spec, indent=2))
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "OSB_RCU_PASSWORD": RCU_PASSWORD}
        env.update(env_extra or {})
        completed = subprocess.run(
            [jython, str(script_dir / "osb_domain.py"), "--spec", str(spec_file), "--wlst-standin", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        return Run(completed.returncode, completed.stdout + completed.stderr, spec)

    return run


@pytest.fixture(scope="module")
def built_domain(tmp_path_factory: pytest.TempPathFactory, jython: str) -> Run:
    """One build of the example spec, shared by the read-only assertions."""
    root = tmp_path_factory.mktemp("built")
    spec = example_spec(root)
    spec_file = root / "domain-spec.json"
    spec_file.write_text(json.dumps(spec))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "OSB_RCU_PASSWORD": RCU_PASSWORD}
    completed = subprocess.run(
        [jython, str(WLST_DIR / "osb_domain.py"), "--spec", str(spec_file), "--wlst-standin"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return Run(completed.returncode, completed.stdout + completed.stderr, spec)


def find_node(state: dict[str, Any], path: str) -> dict[str, Any] | None:
    """Return the stand-in state node at a WLST path such as /Cluster/c/DynamicServers/c."""
    node = state
    parts = [p for p in path.split("/") if p]
    for folder, name in zip(parts[0::2], parts[1::2], strict=False):
        matches = [child for child in node["children"].get(folder, []) if child["name"] == name]
        if not matches:
            return None
        node = matches[0]
    return node
