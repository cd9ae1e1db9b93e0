"""The output layer: progress logging on stderr, results as text or JSON on stdout.

On a terminal, progress lines carry a time and colour (rich); elsewhere, such as in
Rundeck, they are plain ``time level message`` lines. Results go to stdout, so that
``--json`` output can be piped into another program untouched by progress lines.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

_PLAIN_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def configure_logging(verbose: bool, debug: bool) -> None:
    """Send log records to stderr: INFO by default, DEBUG with --verbose or --debug."""
    level = logging.DEBUG if verbose or debug else logging.INFO
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=Console(stderr=True), show_path=False, markup=False, rich_tracebacks=False
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_PLAIN_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S"))
    root.addHandler(handler)
    logging.getLogger("builder").setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "paramiko"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def emit(result: Any, as_json: bool, text: str) -> None:
    """Write a command's result: JSON (one object) or the given human-readable text."""
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=False, default=str))
    else:
        click.echo(text)


def error(message: str) -> None:
    """Write one error line to stderr."""
    click.echo(f"error: {message}", err=True)


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Format rows as a left-aligned text table."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
