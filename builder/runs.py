"""Run ids and per-run working directories."""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


def new_run_id() -> str:
    """Return a sortable, unique run id such as ``20261204t201500-3fa2c1``."""
    return datetime.now(UTC).strftime("%Y%m%dt%H%M%S") + "-" + secrets.token_hex(3)


def runs_directory() -> Path:
    """Return the directory that contains per-run files (rendered templates, logs, keys)."""
    from platformdirs import user_state_dir

    root = os.environ.get("OSB_IMAGE_STATE_DIR") or user_state_dir("osb-image")
    return Path(root) / "runs"


def run_directory(run_id: str) -> Path:
    """Create and return the private working directory of one run."""
    directory = runs_directory() / run_id
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


@dataclass(frozen=True)
class GitRevision:
    """The repository revision a run was made from."""

    commit: str
    dirty: bool

    def __str__(self) -> str:
        return self.commit + ("-dirty" if self.dirty else "")


def git_revision(root: Path) -> GitRevision:
    """Return HEAD of the repository at ``root`` and whether its tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return GitRevision(commit="unknown", dirty=False)
    return GitRevision(commit=commit, dirty=bool(status.strip()))
