"""Exception tree and exit codes of osb-image.

Every failure a user can meet is a subclass of OsbImageError. The CLI's error
boundary turns it into one message on stderr and the exit code below; only
``--debug`` shows the traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1  # a step ran and failed: bake, test, rollout, AWS error
EXIT_INVALID_INPUT = 2  # bad configuration, arguments or references; nothing was changed
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM; cleanup has run


class OsbImageError(Exception):
    """Base class of every error that the CLI reports as a one-line message."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Problem:
    """One defect in an input file, located as precisely as the parser allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class InvalidInputError(OsbImageError):
    """Input that the user must fix: configuration, arguments, references."""

    exit_code = EXIT_INVALID_INPUT


class ConfigError(InvalidInputError):
    """A configuration file is invalid; carries every problem found, first one shown."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field))
        first = str(self.problems[0])
        more = len(self.problems) - 1
        if more:
            first += f" ({more} more problem{'s' if more > 1 else ''}; fix this one and run again)"
        super().__init__(first)


class NotFoundError(InvalidInputError):
    """A named thing (environment, AMI, channel, stack) does not exist."""


class PreconditionError(OsbImageError):
    """The machine or the account is not in a state that the command needs (e.g. not root)."""

    exit_code = EXIT_INVALID_INPUT


class RejectedError(OsbImageError):
    """A guarded operation was refused, e.g. promoting an AMI whose tests did not pass."""

    exit_code = EXIT_INVALID_INPUT


class StepFailedError(OsbImageError):
    """A pipeline step ran and failed (Packer, tests, CloudFormation)."""


class InterruptedRunError(OsbImageError):
    """The run was interrupted by a signal; cleanup has already run."""

    exit_code = EXIT_INTERRUPTED
