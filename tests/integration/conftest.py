"""Fixtures for tests against a moto server subprocess on 127.0.0.1.

The server serves the AWS APIs in place of the local target's emulator. Every test starts from
an empty server, seeded with what the local target provides: a VPC with the
subnets osb-private-a and osb-private-b, the private hosted zone osb.internal and
two registered AMIs, one tagged as tested and one never tested.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto_seed import Seed, seed_local_target

from builder.aws import ClientFactory
from builder.config import LoadedPipeline, load_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_SERVER_START_SECONDS = 30.0


@pytest.fixture(scope="session", autouse=True)
def fake_credentials() -> Iterator[None]:
    """Set fake credentials before any client exists so that nothing can reach a real account."""
    saved = {key: os.environ.get(key) for key in [*_FAKE_CREDENTIALS, "AWS_PROFILE"]}
    os.environ.update(_FAKE_CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint(fake_credentials: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `python -m moto.server` on a free loopback port and stop it by pid after the session."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **_FAKE_CREDENTIALS},
        )
    try:
        deadline = time.monotonic() + _SERVER_START_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"moto server exited with {server.returncode}; see {log_path}")
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto server on {endpoint} did not answer within {_SERVER_START_SECONDS} s")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def clients(moto_endpoint: str) -> ClientFactory:
    """Return a client factory for the moto server, after resetting the server's state."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    return ClientFactory(region="us-east-1", endpoint_url=moto_endpoint, static_credentials=("testing", "testing"))


@pytest.fixture
def pipeline() -> LoadedPipeline:
    """Return the repository's example pipeline.yaml."""
    return load_pipeline(REPO_ROOT / "pipeline.yaml")


@pytest.fixture
def seed(clients: ClientFactory) -> Seed:
    """Seed the reset server with the local target's network, hosted zone and AMIs."""
    return seed_local_target(clients)
