"""Directories of the local target: state (emulator, hosts, image store) and cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalPaths:
    """Directories of the local target's files.

    ``OSB_IMAGE_STATE_DIR`` and ``OSB_IMAGE_CACHE_DIR`` override the defaults, which
    follow the XDG base directories (``~/.local/state/osb-image``, ``~/.cache/osb-image``).
    """

    state: Path
    cache: Path

    @classmethod
    def from_environment(cls) -> LocalPaths:
        """Build the paths from the environment variables or the XDG defaults."""
        from platformdirs import user_cache_dir, user_state_dir

        state = os.environ.get("OSB_IMAGE_STATE_DIR") or user_state_dir("osb-image")
        cache = os.environ.get("OSB_IMAGE_CACHE_DIR") or user_cache_dir("osb-image")
        return cls(state=Path(state) / "local", cache=Path(cache))

    @property
    def emulator_state(self) -> Path:
        return self.state / "emulator.json"

    @property
    def emulator_pid(self) -> Path:
        return self.state / "emulator.pid"

    @property
    def emulator_log(self) -> Path:
        return self.state / "emulator.log"

    @property
    def hosts(self) -> Path:
        return self.state / "hosts"

    @property
    def images(self) -> Path:
        return self.state / "images"

    @property
    def runs(self) -> Path:
        return self.state / "runs"

    @property
    def rootfs_cache(self) -> Path:
        return self.cache / "debian-bookworm-minbase"

    @property
    def seed_cache(self) -> Path:
        return self.cache / "seed"
