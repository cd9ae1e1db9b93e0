"""Commands ``images list|show|gc`` and ``reap``, attached to the main group in builder.cli."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import click

from builder import output
from builder.cli_context import Context, pass_context
from builder.errors import StepFailedError

DEFAULT_REAP_AGE = "2h"
_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Return the seconds in a duration such as ``90m``, ``2h``, ``1d`` or ``1h30m``; raise ValueError if invalid."""
    value = text.strip().lower()
    if not value or _DURATION_PART.sub("", value):
        raise ValueError(f"duration {text!r} is invalid; give a number with a unit s, m, h or d, such as 90m, 2h or 1d")
    return sum(int(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(value))


def format_age(seconds: int) -> str:
    """Return an age in its largest unit and the next one, e.g. ``3d4h``, ``2h5m``, ``2h`` or ``40s``."""
    units = ("d", "h", "m", "s")
    counts = []
    remainder = max(0, seconds)
    for unit in units:
        count, remainder = divmod(remainder, _UNIT_SECONDS[unit])
        counts.append(count)
    first = next((index for index, count in enumerate(counts) if count), len(units) - 1)
    text = f"{counts[first]}{units[first]}"
    if first + 1 < len(units) and counts[first + 1]:
        text += f"{counts[first + 1]}{units[first + 1]}"
    return text


def _duration_callback(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """Convert a duration option to seconds; a bad value is a usage error (exit status 2)."""
    try:
        return parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@click.group("images")
def images_group() -> None:
    """List, show and garbage-collect the AMIs that the pipeline made."""


@images_group.command("list")
@pass_context
def images_list(context: Context) -> None:
    """List the pipeline's AMIs by layer and environment, newest first."""
    from builder.images import list_images

    summaries = list_images(context.target.clients, context.loaded)
    rows = [
        [
            item.ami_id,
            item.layer,
            item.environment,
            format_age(item.age_seconds),
            item.tests or "untested",
            ",".join(item.channels) or "-",
        ]
        for item in summaries
    ]
    text = output.table(rows, ["AMI", "LAYER", "ENV", "AGE", "TESTS", "CHANNELS"]) if rows else "no pipeline AMIs"
    output.emit({"images": [item.to_dict() for item in summaries]}, context.as_json, text)


@images_group.command("show")
@click.argument("ami_id", metavar="AMI")
@pass_context
def images_show(context: Context, ami_id: str) -> None:
    """Show an AMI's tags, snapshots, channels and provenance document."""
    from builder.images import show

    details = show(context.target.clients, context.loaded, ami_id)
    lines = [
        f"{details['ami_id']}: {details['name']} ({details['state']}, created {details['creation_date']})",
        f"channels: {', '.join(details['channels']) or 'none'}",
        f"snapshots: {', '.join(details['snapshots']) or 'none'}",
        "tags:",
        *(f"  {key} = {value}" for key, value in sorted(details["tags"].items())),
    ]
    if details["provenance"] is None:
        lines.append("provenance: none recorded")
    else:
        lines.append("provenance:")
        lines.append(json.dumps(details["provenance"], indent=2, sort_keys=True))
    output.emit(details, context.as_json, "\n".join(lines))


@images_group.command("gc")
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    metavar="N",
    help="Number of newest tested AMIs to keep per layer and environment.",
)
@click.option(
    "--channel-depth",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    metavar="N",
    help="Number of latest versions of each channel whose AMIs are kept.",
)
@click.option(
    "--min-age",
    "min_age",
    callback=_duration_callback,
    default="3h",
    show_default=True,
    metavar="DURATION",
    help="Keep every AMI built less than this long ago, because a release may be about to promote it.",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed and why the other AMIs stay; change nothing.")
@pass_context
def images_gc(context: Context, keep: int, channel_depth: int, min_age: int, dry_run: bool) -> None:
    """Deregister the AMIs that no channel, stack or newer AMI needs, with their snapshots."""
    from builder.images import gc

    target = context.target
    report = gc(
        target.clients,
        context.loaded,
        keep,
        channel_depth,
        dry_run,
        on_deregister=target.forget_image,
        min_age_seconds=min_age,
    )
    verb = "would remove" if dry_run else "removed"
    lines = [f"{verb} {len(report.removed)} AMI(s), kept {len(report.kept)}"]
    for removed in report.removed:
        snapshots = ", ".join(removed.snapshots) or "no snapshots"
        lines.append(f"  {verb} {removed.ami_id} ({removed.layer} {removed.environment}; {snapshots})")
    for kept in report.kept:
        lines.append(f"  kept {kept.ami_id} ({kept.layer} {kept.environment}): {'; '.join(kept.reasons)}")
    output.emit(report.to_dict(), context.as_json, "\n".join(lines))


@click.command("reap")
@click.option(
    "--older-than",
    "older_than",
    callback=_duration_callback,
    default=DEFAULT_REAP_AGE,
    show_default=True,
    metavar="DURATION",
    help="Minimum age of an ended run to reap, such as 90m, 2h or 1d.",
)
@pass_context
def reap_command(context: Context, older_than: int) -> None:
    """Remove instances, key pairs, security groups and untested AMIs left by ended runs."""
    from builder.reap import local_run_ids, reap
    from builder.runs import runs_directory

    target = context.target
    known_run_ids: list[str] = []
    on_run_reaped: Callable[[str], None] | None = None
    if target.name == "local":
        known_run_ids = local_run_ids(target.paths)
        on_run_reaped = _host_stopper(target.paths)

    report = reap(
        target.clients,
        older_than,
        runs_directory(),
        known_run_ids=known_run_ids,
        on_run_reaped=on_run_reaped,
        on_deregister=target.forget_image,
        bucket=context.loaded.pipeline.artifact_bucket,
    )
    lines = [
        f"reaped {len(report.reaped_runs)} run(s): {len(report.instances)} instance(s), "
        f"{len(report.key_pairs)} key pair(s), {len(report.security_groups)} security group(s), "
        f"{len(report.images)} AMI(s), {len(report.snapshots)} snapshot(s)",
        f"left alone: {len(report.live_runs)} running, "
        f"{len(report.recent_runs)} newer than {format_age(older_than)} or of unknown age",
        *(f"failed: {failure}" for failure in report.failures),
    ]
    output.emit(report.to_dict(), context.as_json, "\n".join(lines))
    if report.failures:
        raise StepFailedError(
            f"reaping failed for {len(report.failures)} run(s), first {report.failures[0]}; "
            "fix the cause and run `osb-image reap` again"
        )


def _host_stopper(paths: Any) -> Callable[[str], None]:
    """Return a hook that stops the local target's hosts of a reaped run."""
    from builder.reap import stop_local_hosts

    def stop(run_id: str) -> None:
        stop_local_hosts(paths, run_id)

    return stop
