"""The interface that every target provides to the pipeline steps."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from builder.aws import ClientFactory


@dataclass(frozen=True)
class SshEndpoint:
    """Address, port and user of a builder or test machine's SSH server."""

    host: str
    port: int
    user: str
    host_id: str | None = None
    instance_id: str | None = None


class Target(Protocol):
    """A place where AWS calls and builder/test instances go: ``aws`` or ``local``."""

    name: str
    stand_in_installers: bool

    @property
    def clients(self) -> ClientFactory: ...

    def packer_variables(self, endpoint: SshEndpoint | None) -> dict[str, Any]: ...

    def packer_environment(self) -> dict[str, str]: ...

    def ssh_cidr(self) -> str: ...

    def stand_in_artifacts(self, layer: str) -> list[Any]: ...

    def builder_host(
        self, run_id: str, source_ami: str, public_key: str
    ) -> AbstractContextManager[SshEndpoint | None]: ...

    def store_image(self, endpoint: SshEndpoint | None, ami_id: str) -> None: ...

    def forget_image(self, ami_id: str) -> None: ...

    def test_instance(
        self, run_id: str, ami_id: str, access: Any, subnet_id: str
    ) -> AbstractContextManager[SshEndpoint]: ...
