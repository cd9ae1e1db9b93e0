"""Fingerprints: a SHA-256 over a canonical list of everything that can change an image."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Fingerprint:
    """Named inputs and their hashes; the fingerprint is the SHA-256 of their sorted list.

    >>> fingerprint = Fingerprint()
    >>> fingerprint.add_value("source_ami", "ami-0123")
    >>> len(fingerprint.digest())
    64
    """

    inputs: dict[str, str] = field(default_factory=dict)

    def add_value(self, name: str, value: Any) -> None:
        """Add a configuration value, hashed from its canonical JSON form."""
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
        self._add(name, hashlib.sha256(canonical.encode("utf-8")).hexdigest())

    def add_file(self, name: str, path: Path) -> None:
        """Add a file by the SHA-256 of its bytes."""
        self._add(name, hashlib.sha256(path.read_bytes()).hexdigest())

    def add_digest(self, name: str, sha256: str) -> None:
        """Add an input whose SHA-256 is already known, such as an installer's."""
        self._add(name, sha256)

    def digest(self) -> str:
        """Return the fingerprint: SHA-256 over ``name=hash`` lines sorted by name."""
        lines = "".join(f"{name}={value}\n" for name, value in sorted(self.inputs.items()))
        return hashlib.sha256(lines.encode("utf-8")).hexdigest()

    def _add(self, name: str, sha256: str) -> None:
        if name in self.inputs and self.inputs[name] != sha256:
            raise ValueError(f"fingerprint input {name!r} added twice with different hashes")
        self.inputs[name] = sha256
