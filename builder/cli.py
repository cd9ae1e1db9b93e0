"""Command-line interface: parse options, call one function of a logic module, render.

Exit codes: 0 success; 1 a step failed (bake, tests, rollout, AWS error); 2 invalid
input or a refused operation (nothing was changed); 130 interrupted (cleanup has run).
"""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from builder import output
from builder.cli_context import Context, pass_context
from builder.cli_images import images_group, reap_command
from builder.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, OsbImageError

logger = logging.getLogger(__name__)


ENV_OPTION = click.option(
    "--env", "environment", required=True, metavar="NAME", help="Environment from pipeline.yaml (dev, qa, prod)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("pipeline.yaml"),
    show_default=True,
    envvar="OSB_IMAGE_CONFIG",
    help="Pipeline configuration file.",
)
@click.option(
    "--target", type=click.Choice(["local", "aws"]), default=None, help="Override the target set in the configuration."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout.")
@click.option("--verbose", "-v", is_flag=True, help="Log debug details.")
@click.option("--debug", is_flag=True, help="Log debug details and show tracebacks of errors.")
@click.version_option(package_name="osb-image")
@click.pass_context
def cli(
    click_context: click.Context, config: Path, target: str | None, as_json: bool, verbose: bool, debug: bool
) -> None:
    """Bake, test, promote and roll out Oracle Service Bus AMIs."""
    output.configure_logging(verbose, debug)
    click_context.obj = Context(config, target, as_json, debug)


@cli.command()
@pass_context
def validate(context: Context) -> None:
    """Check pipeline.yaml, the cookbook and each environment's domain spec without calling AWS."""
    from builder.bake import require_valid_checkout

    loaded = context.loaded
    require_valid_checkout(loaded)
    environments = ", ".join(loaded.pipeline.environments)
    output.emit(
        {"config": str(loaded.path), "valid": True, "environments": list(loaded.pipeline.environments)},
        context.as_json,
        f"{loaded.path}: valid (environments: {environments})",
    )


@cli.command()
@ENV_OPTION
@click.option(
    "--rebake", is_flag=True, help="Bake every layer even when a tested AMI with the same fingerprint exists."
)
@pass_context
def bake(context: Context, environment: str, rebake: bool) -> None:
    """Bake the base layer (tested before use) and the environment's domain layer.

    A layer whose fingerprint already has a tested AMI is reused.
    """
    from builder.bake import bake_environment
    from builder.errors import StepFailedError
    from builder.imagetest import test_image

    context.loaded.environment(environment)

    def test_base(ami_id: str) -> None:
        result = test_image(context.target, context.loaded, ami_id)
        if not result.passed:
            raise StepFailedError(
                f"{ami_id}: base layer tests failed, so no domain layer is built on it; see {result.report}"
            )

    results = bake_environment(context.target, context.loaded, environment, rebake, test_base)
    lines = [
        f"{result.layer:<7} {result.ami_id} {'reused' if result.reused else 'baked'}: {result.reason}"
        for result in results
    ]
    output.emit(
        {"env": environment, "ami_id": results[-1].ami_id, "layers": [result.to_dict() for result in results]},
        context.as_json,
        "\n".join(lines),
    )


@cli.command()
@ENV_OPTION
@click.option("--rebake", is_flag=True, help="Plan as if every layer were forced to bake.")
@pass_context
def plan(context: Context, environment: str, rebake: bool) -> None:
    """Show which layers would be reused or baked, and why, and what the rollout would change."""
    from builder.plan import plan_release

    context.loaded.environment(environment)
    result = plan_release(context.target, context.loaded, environment, rebake)
    output.emit(result.to_dict(), context.as_json, result.to_text())


@cli.command("test")
@click.argument("ami_id", metavar="AMI")
@pass_context
def test_command(context: Context, ami_id: str) -> None:
    """Launch AMI, run the testinfra suite in tests/image and tag the AMI with the result."""
    from builder.errors import StepFailedError
    from builder.imagetest import test_image

    result = test_image(context.target, context.loaded, ami_id)
    output.emit(
        result.to_dict(),
        context.as_json,
        f"{ami_id}: tests {'passed' if result.passed else 'FAILED'} ({result.tests} tests, {result.skipped} skipped)",
    )
    if not result.passed:
        raise StepFailedError(f"{ami_id}: image tests failed; see {result.report}")


@cli.command()
@ENV_OPTION
@click.argument("ami_id", metavar="AMI")
@pass_context
def promote(context: Context, environment: str, ami_id: str) -> None:
    """Put a tested AMI into an environment's channel."""
    from builder.channels import promote as run_promote
    from builder.runs import new_run_id

    context.loaded.environment(environment)
    version = run_promote(context.target.clients, context.loaded, environment, ami_id, new_run_id())
    output.emit(
        version.to_dict(), context.as_json, f"channel {version.name}: version {version.version} is {version.ami_id}"
    )


@cli.command()
@ENV_OPTION
@click.option("--ami", "ami_id", default=None, metavar="AMI", help="Roll out this tested AMI instead of the channel's.")
@pass_context
def rollout(context: Context, environment: str, ami_id: str | None) -> None:
    """Roll an environment's stack onto the AMI in its channel."""
    from builder.rollout import rollout as run_rollout

    context.loaded.environment(environment)
    result = run_rollout(context.target.clients, context.loaded, environment, ami_id=ami_id, progress=_log_progress)
    output.emit(result.to_dict(), context.as_json, f"stack {result.stack_name}: {result.status} on {result.ami_id}")


@cli.command()
@ENV_OPTION
@click.option("--rebake", is_flag=True, help="Bake even when a tested AMI with the same fingerprint exists.")
@pass_context
def release(context: Context, environment: str, rebake: bool) -> None:
    """Bake, test, promote and roll out one environment."""
    from builder.release import release as run_release

    context.loaded.environment(environment)
    summary = run_release(context.target, context.loaded, environment, rebake=rebake, progress=_log_progress)
    output.emit(summary.to_dict(), context.as_json, summary.to_text())
    if summary.failed_step is not None:
        raise summary.error  # type: ignore[misc]


@cli.command()
@pass_context
def status(context: Context) -> None:
    """Show, per environment, the channel's AMI and the AMI the stack runs."""
    from builder.status import environment_status

    statuses = environment_status(context.target.clients, context.loaded)
    rows = [
        [
            item.environment,
            item.channel_ami or "-",
            str(item.channel_version or "-"),
            item.stack_name,
            item.stack_status,
            item.stack_ami or "-",
        ]
        for item in statuses
    ]
    text = output.table(rows, ["ENV", "CHANNEL AMI", "VERSION", "STACK", "STATUS", "STACK AMI"])
    output.emit({"environments": [item.to_dict() for item in statuses]}, context.as_json, text)


@cli.group()
def local() -> None:
    """Manage the embedded local target (AWS emulator, chroot hosts, image store)."""


@local.command("up")
@pass_context
def local_up(context: Context) -> None:
    """Start (or reuse) the AWS emulator and seed it; build the root file system cache."""
    from builder.local.manage import up

    state = up(context.loaded)
    output.emit(state, context.as_json, f"emulator: {state['endpoint']} (pid {state['pid']})")


@local.command("down")
@pass_context
def local_down(context: Context) -> None:
    """Stop every local host and the emulator; drop the image store (the cache stays)."""
    from builder.local.manage import down

    result = down()
    output.emit(
        result,
        context.as_json,
        f"stopped {len(result['hosts'])} host(s); emulator {'stopped' if result['emulator'] else 'was not running'}",
    )


@local.command("status")
@pass_context
def local_status(context: Context) -> None:
    """Show the emulator endpoint, running hosts and stored images."""
    from builder.local.manage import status as local_state

    state = local_state()
    emulator = state["emulator"]
    lines = [f"emulator: {emulator['endpoint']} (pid {emulator['pid']})" if emulator else "emulator: not running"]
    described = [
        host["host_id"] + ("" if host["running"] else " (sshd stopped: run `osb-image reap`)")
        for host in state["hosts"]
    ]
    lines.append(f"hosts: {len(state['hosts'])} ({', '.join(described) or 'none'})")
    lines.append(f"images: {len(state['images'])} stored in {state['images_dir']}")
    output.emit(state, context.as_json, "\n".join(lines))


cli.add_command(images_group)
cli.add_command(reap_command)


def _set_json(click_context: click.Context, _parameter: click.Parameter, value: bool) -> None:
    if value:
        click_context.ensure_object(Context).as_json = True


def _add_json_option(command: click.Command) -> None:
    """Accept ``--json`` after the command name too (``osb-image release --env dev --json``)."""
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _add_json_option(subcommand)
        return
    command.params.append(
        click.Option(
            ["--json"],
            is_flag=True,
            expose_value=False,
            callback=_set_json,
            help="Print the result as one JSON object on stdout.",
        )
    )


for _command in cli.commands.values():
    _add_json_option(_command)


def _log_progress(message: str) -> None:
    logger.info("%s", message)


def _interrupt_on_sigterm(signum: int, _frame: Any) -> None:
    """Turn SIGTERM (Rundeck's kill, systemd's stop) into the same path as Ctrl-C."""
    raise KeyboardInterrupt(f"received signal {signum}")


def main() -> None:
    """Run the CLI and turn every known error into one message and its exit code."""
    debug = "--debug" in sys.argv[1:]
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        cli.main(standalone_mode=False)
    except BaseException:
        # Cleanup has run by now; a late Ctrl-C must not turn the exit status into a signal.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        _report_and_exit(debug)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    sys.exit(0)


def _report_and_exit(debug: bool) -> None:
    """Turn the exception being handled into one message and its exit code."""
    try:
        raise
    except click.exceptions.Abort:
        output.error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_INVALID_INPUT if isinstance(error, click.UsageError) else error.exit_code)
    except OsbImageError as error:
        if debug:
            traceback.print_exc()
        output.error(str(error))
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        output.error("interrupted; temporary resources of the run were cleaned up")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # noqa: BLE001 - the one boundary for unexpected failures
        if debug:
            traceback.print_exc()
        output.error(f"unexpected {type(error).__name__}: {error} (run again with --debug for the traceback)")
        sys.exit(EXIT_FAILED)
