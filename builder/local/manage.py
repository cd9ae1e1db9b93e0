"""``osb-image local up|down|status``: the local target's lifecycle."""

from __future__ import annotations

import logging
import shutil
from typing import Any

from builder.config import LoadedPipeline
from builder.local import emulator, hosts
from builder.local.paths import LocalPaths

logger = logging.getLogger(__name__)


def up(loaded: LoadedPipeline) -> dict[str, Any]:
    """Start or reuse the emulator, seed it and return its state."""
    from builder.targets.local import LocalTarget

    target = LocalTarget(loaded)
    target.clients  # noqa: B018 - starting and seeding happen on first use
    state = emulator.read_state(target.paths)
    assert state is not None
    return state.to_dict()


def down(paths: LocalPaths | None = None) -> dict[str, Any]:
    """Stop every host and the emulator, and drop the image store; keep the cache."""
    paths = paths or LocalPaths.from_environment()
    hosts.require_root()
    stopped_hosts = hosts.stop_all_hosts(paths)
    state = emulator.stop(paths)
    if paths.images.exists():
        shutil.rmtree(paths.images)
    return {"hosts": stopped_hosts, "emulator": state.to_dict() if state else None}


def status(paths: LocalPaths | None = None) -> dict[str, Any]:
    """Return the emulator's state (with its endpoint URL), the hosts and stored images."""
    paths = paths or LocalPaths.from_environment()
    state = emulator.read_state(paths)
    images = sorted(path.name for path in paths.images.iterdir()) if paths.images.is_dir() else []
    return {
        "emulator": state.to_dict() if state else None,
        "endpoint": state.endpoint if state else None,
        "hosts": [{**host.to_dict(), "running": hosts.sshd_running(host)} for host in hosts.list_hosts(paths)],
        "images": images,
        "images_dir": str(paths.images),
        "cache_dir": str(paths.cache),
    }
