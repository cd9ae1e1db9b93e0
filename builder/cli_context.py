"""Options shared by every command, kept apart so that command modules can import them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


class Context:
    """Options shared by every command; loads the pipeline and target on first use."""

    def __init__(self, config: Path, target: str | None, as_json: bool, debug: bool) -> None:
        self.config = config
        self.target_name = target
        self.as_json = as_json
        self.debug = debug
        self._loaded: Any = None
        self._target: Any = None

    @property
    def loaded(self) -> Any:
        if self._loaded is None:
            from builder.config import load_pipeline

            self._loaded = load_pipeline(self.config, self.target_name)
        return self._loaded

    @property
    def target(self) -> Any:
        if self._target is None:
            from builder.targets import make_target

            self._target = make_target(self.loaded)
        return self._target


pass_context = click.make_pass_decorator(Context)
