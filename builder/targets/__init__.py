"""Targets: where AWS calls and builder/test instances go."""

from __future__ import annotations

from builder.config import LoadedPipeline
from builder.targets.base import SshEndpoint, Target

__all__ = ["SshEndpoint", "Target", "make_target"]


def make_target(loaded: LoadedPipeline) -> Target:
    """Return the target that the pipeline (or its --target override) names."""
    if loaded.pipeline.target == "local":
        from builder.targets.local import LocalTarget

        return LocalTarget(loaded)
    from builder.targets.aws import AwsTarget

    return AwsTarget(loaded)
