"""``osb-image plan``: what a release would do, computed without changing anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from builder.config import LoadedPipeline
from builder.layers import LayerPlan
from builder.targets.base import Target


@dataclass
class ReleasePlan:
    """The layer decisions and the rollout that would follow them."""

    environment: str
    layers: list[LayerPlan]
    channel_ami: str | None
    stack_name: str
    stack_status: str
    stack_ami: str | None
    rollout_ami: str | None  # None when the domain layer will be baked: its id is not known yet

    def rollout_change(self) -> str:
        if self.rollout_ami is None and self.stack_status == "absent":
            return f"stack {self.stack_name} would be created on the newly baked domain AMI"
        if self.rollout_ami is None:
            return (
                f"stack {self.stack_name} would move from {self.stack_ami or 'nothing'} to the newly baked domain AMI"
            )
        if self.stack_status == "absent":
            return f"stack {self.stack_name} would be created on {self.rollout_ami}"
        if self.rollout_ami == self.stack_ami:
            return f"stack {self.stack_name} already runs {self.rollout_ami}: no change"
        return f"stack {self.stack_name} would move from {self.stack_ami or 'nothing'} to {self.rollout_ami}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.environment,
            "layers": [layer.to_dict() for layer in self.layers],
            "channel_ami": self.channel_ami,
            "stack": {"name": self.stack_name, "status": self.stack_status, "ami_id": self.stack_ami},
            "rollout": {"ami_id": self.rollout_ami, "change": self.rollout_change()},
        }

    def to_text(self) -> str:
        lines = [f"plan for {self.environment}:"]
        for layer in self.layers:
            target = layer.cached_ami if layer.decision == "reuse" else "new AMI"
            lines.append(f"  {layer.layer:<7} {layer.decision:<6} {target}: {layer.reason}")
        lines.append(f"  channel {self.channel_ami or '-'}")
        lines.append(f"  rollout {self.rollout_change()}")
        return "\n".join(lines)


def plan_release(target: Target, loaded: LoadedPipeline, environment: str, rebake: bool = False) -> ReleasePlan:
    """Return the layer decisions for ``environment`` and the rollout they lead to."""
    from builder.bake import plan
    from builder.channels import current
    from builder.rollout import stack_image

    layers = plan(target, loaded, environment, rebake)
    channel = current(target.clients, loaded, environment)
    deployed = stack_image(target.clients, loaded, environment)
    domain = layers[-1]
    rollout_ami = domain.cached_ami if domain.decision == "reuse" else None
    return ReleasePlan(
        environment=environment,
        layers=layers,
        channel_ami=channel.ami_id if channel else None,
        stack_name=loaded.environment(environment).stack_name,
        stack_status=deployed.stack_status,
        stack_ami=deployed.ami_id,
        rollout_ami=rollout_ami,
    )
