"""Release one environment: bake, test, promote, roll out, and summarise each step.

A step runs only when the one before it succeeded. A reused AMI whose tests already
passed is not tested again. The summary records every step with its status and time,
and names the step that failed together with its error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from builder import tags
from builder.config import LoadedPipeline
from builder.errors import OsbImageError, StepFailedError
from builder.targets.base import Target

logger = logging.getLogger(__name__)

STEPS = ("bake:base", "test:base", "bake:domain", "test:domain", "promote", "rollout")


@dataclass
class StepRecord:
    """Status and duration of one step: ok, reused, skipped, failed or not-run."""

    name: str
    status: str = "not-run"
    seconds: float = 0.0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "seconds": round(self.seconds, 1), "detail": self.detail}


@dataclass
class ReleaseSummary:
    """Outcome of a release; ``to_dict`` returns the documented ``--json`` shape."""

    environment: str
    ami_id: str | None = None
    tested: bool = False
    channel_name: str | None = None
    channel_version: int | None = None
    stack_name: str | None = None
    stack_status: str | None = None
    steps: list[StepRecord] = field(default_factory=lambda: [StepRecord(name) for name in STEPS])
    failed_step: str | None = None
    error: OsbImageError | None = None

    def step(self, name: str) -> StepRecord:
        return next(record for record in self.steps if record.name == name)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "env": self.environment,
            "ami_id": self.ami_id,
            "tested": self.tested,
            "channel": {"name": self.channel_name, "version": self.channel_version},
            "stack": {"name": self.stack_name, "status": self.stack_status},
            "steps": [record.to_dict() for record in self.steps],
        }
        if self.failed_step is not None:
            result["error"] = {"step": self.failed_step, "message": str(self.error)}
        return result

    def to_text(self) -> str:
        lines = [f"release {self.environment}: {'FAILED at ' + self.failed_step if self.failed_step else 'done'}"]
        for record in self.steps:
            lines.append(f"  {record.name:<12} {record.status:<8} {record.seconds:7.1f} s  {record.detail}".rstrip())
        lines.append(f"  AMI          {self.ami_id or '-'} (tests {'passed' if self.tested else 'not passed'})")
        lines.append(
            f"  channel      {self.channel_name or '-'} version {self.channel_version if self.channel_version is not None else '-'}"
        )
        lines.append(f"  stack        {self.stack_name or '-'} {self.stack_status or '-'}")
        return "\n".join(lines)


def release(
    target: Target,
    loaded: LoadedPipeline,
    environment: str,
    rebake: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ReleaseSummary:
    """Run bake → test → promote → rollout for ``environment`` and return the summary."""
    from builder.bake import bake_layer
    from builder.channels import describe_image, promote
    from builder.imagetest import test_image
    from builder.rollout import rollout

    summary = ReleaseSummary(environment=environment, stack_name=loaded.environment(environment).stack_name)
    summary.channel_name = loaded.pipeline.channels.parameter_name(environment)

    def run_step(name: str, action: Callable[[], str]) -> bool:
        record = summary.step(name)
        started = time.monotonic()
        logger.info("release %s: %s", environment, name)
        try:
            record.detail = action()
            if record.status == "not-run":
                record.status = "ok"
            return True
        except OsbImageError as error:
            record.status = "failed"
            record.detail = str(error)
            summary.failed_step, summary.error = name, error
            return False
        finally:
            record.seconds = time.monotonic() - started

    plans: dict[str, Any] = {}
    base_ami: dict[str, str] = {}

    def do_bake_base() -> str:
        from builder.bake import plan

        for layer_plan in plan(target, loaded, environment, rebake):
            plans[layer_plan.layer] = layer_plan
        result = bake_layer(target, loaded, plans["base"])
        base_ami["id"] = result.ami_id
        if result.reused:
            summary.step("bake:base").status = "reused"
        return f"{result.ami_id}: {result.reason}"

    def do_test(step: str, ami_id: str) -> str:
        image_tags = tags.as_dict(describe_image(target.clients, ami_id).get("Tags"))
        if image_tags.get(tags.TESTS) == tags.TESTS_PASSED:
            summary.step(step).status = "skipped"
            return f"{ami_id} already passed at {image_tags.get(tags.TESTED_AT, 'an earlier run')}"
        result = test_image(target, loaded, ami_id)
        if not result.passed:
            raise StepFailedError(
                f"{ami_id}: image tests failed ({result.failures} failed, {result.errors} errors); see {result.report}"
            )
        return f"{ami_id}: {result.tests} tests, {result.skipped} skipped"

    def do_bake_domain() -> str:
        from builder.bake import plan_layer
        from builder.render import packer_version

        domain_plan = plans["domain"]
        if domain_plan.source_ami != base_ami["id"]:
            domain_plan = plan_layer(target, loaded, "domain", environment, base_ami["id"], rebake, packer_version())
        result = bake_layer(target, loaded, domain_plan)
        summary.ami_id = result.ami_id
        if result.reused:
            summary.step("bake:domain").status = "reused"
        return f"{result.ami_id}: {result.reason}"

    def do_test_domain() -> str:
        assert summary.ami_id is not None
        detail = do_test("test:domain", summary.ami_id)
        summary.tested = True
        return detail

    def do_promote() -> str:
        from builder.runs import new_run_id

        assert summary.ami_id is not None
        version = promote(target.clients, loaded, environment, summary.ami_id, new_run_id())
        summary.channel_name, summary.channel_version = version.name, version.version
        return f"version {version.version}"

    def do_rollout() -> str:
        from builder.rollout import stack_image

        result = rollout(target.clients, loaded, environment, ami_id=None, progress=progress)
        summary.stack_status = stack_image(target.clients, loaded, environment).stack_status
        return f"{result.status}, launch template version {result.launch_template_version}"

    steps: tuple[tuple[str, Callable[[], str]], ...] = (
        ("bake:base", do_bake_base),
        ("test:base", lambda: do_test("test:base", base_ami["id"])),
        ("bake:domain", do_bake_domain),
        ("test:domain", do_test_domain),
        ("promote", do_promote),
        ("rollout", do_rollout),
    )
    for name, action in steps:
        if not run_step(name, action):
            break
    return summary
