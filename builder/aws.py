"""One factory for AWS clients per target: session, endpoint, retries and backoff.

No client is created at import time, and boto3 is imported on first use so that
``osb-image --help`` stays instant.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

logger = logging.getLogger(__name__)

# Standard retry mode backs off exponentially with jitter on throttling and 5xx errors.
_RETRIES = {"mode": "standard", "max_attempts": 8}


class ClientFactory:
    """Create and cache boto3 clients for one region and, optionally, one endpoint.

    >>> clients = ClientFactory(region="us-east-1")
    >>> ec2 = clients.client("ec2")
    """

    def __init__(
        self,
        region: str,
        endpoint_url: str | None = None,
        profile: str | None = None,
        static_credentials: tuple[str, str] | None = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self._static_credentials = static_credentials
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}

    @property
    def session(self) -> boto3.session.Session:
        """Return the boto3 session, created on first use."""
        if self._session is None:
            import boto3

            if self._static_credentials is not None:
                access_key, secret_key = self._static_credentials
                self._session = boto3.session.Session(
                    aws_access_key_id=access_key,
                    aws_secret_access_key=secret_key,
                    region_name=self.region,
                )
            else:
                self._session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    def client(self, service: str) -> Any:
        """Return a cached client for ``service`` with the factory's endpoint and retries."""
        if service not in self._clients:
            from botocore.config import Config

            logger.debug("%s: creating client (endpoint %s)", service, self.endpoint_url or "default")
            self._clients[service] = self.session.client(
                service,
                endpoint_url=self.endpoint_url,
                config=Config(retries=_RETRIES, connect_timeout=10, read_timeout=60),
            )
        return self._clients[service]


def error_code(error: BaseException) -> str:
    """Return the AWS error code of a botocore ClientError, or an empty string."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Collect every item under ``key`` across all pages of ``operation``."""
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items
