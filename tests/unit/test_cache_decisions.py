"""Each cache decision of a layer: reuse, miss naming the changed inputs, stale parent,
too old, forced. AMIs are made in moto's in-process mock with the tags a bake writes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from builder import tags
from builder.config import load_pipeline
from builder.fingerprint import Fingerprint
from builder.layers import BASE, DOMAIN, changed_inputs, decide, find_concurrent

REPOSITORY = Path(__file__).resolve().parents[2]


class Clients:
    """Minimal stand-in for ClientFactory over moto's in-process mock."""

    def __init__(self) -> None:
        import boto3

        self.region = "us-east-1"
        self._session = boto3.session.Session(region_name="us-east-1")

    def client(self, service: str) -> Any:
        return self._session.client(service)


@pytest.fixture
def clients() -> Iterator[Clients]:
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        os.environ.pop(key)
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    from moto import mock_aws

    with mock_aws():
        yield Clients()


def make_ami(
    clients: Clients,
    layer: str,
    environment: str,
    fingerprint: str,
    tested: bool,
    built_at: datetime,
    source_ami: str = "ami-0base",
) -> str:
    ec2 = clients.client("ec2")
    image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ami_id = str(
        ec2.create_image(InstanceId=instance, Name=f"osb-{layer}-{fingerprint[:8]}-{built_at.timestamp()}")["ImageId"]
    )
    image_tags = {
        tags.LAYER: layer,
        tags.ENVIRONMENT: environment,
        tags.FINGERPRINT: fingerprint,
        tags.BUILT_AT: built_at.isoformat(timespec="seconds"),
        tags.SOURCE_AMI: source_ami,
    }
    if tested:
        image_tags[tags.TESTS] = tags.TESTS_PASSED
    ec2.create_tags(Resources=[ami_id], Tags=tags.as_list(image_tags))
    return ami_id


def fingerprint_of(**inputs: str) -> Fingerprint:
    fingerprint = Fingerprint()
    for name, value in inputs.items():
        fingerprint.add_digest(name, value)
    return fingerprint


LOADED = load_pipeline(REPOSITORY / "pipeline.yaml")
NOW = datetime.now(UTC)
CURRENT = fingerprint_of(**{"file:chef/environments/dev.json": "a" * 64, "source_ami": "b" * 64})


def no_records(_ami_id: str) -> None:
    return None


def test_tested_ami_with_fingerprint_is_reused(clients: Clients) -> None:
    ami = make_ami(clients, DOMAIN, "dev", CURRENT.digest(), tested=True, built_at=NOW)

    plan = decide(clients, LOADED, DOMAIN, "dev", "ami-0base", CURRENT, rebake=False, recorded_inputs=no_records)

    assert plan.decision == "reuse"
    assert plan.cached_ami == ami


def test_untested_ami_is_not_reused(clients: Clients) -> None:
    make_ami(clients, DOMAIN, "dev", CURRENT.digest(), tested=False, built_at=NOW)

    plan = decide(clients, LOADED, DOMAIN, "dev", "ami-0base", CURRENT, rebake=False, recorded_inputs=no_records)

    assert plan.decision == "bake"
    assert plan.reason == "no tested AMI of this layer yet"


def test_miss_names_changed_inputs(clients: Clients) -> None:
    old = make_ami(clients, DOMAIN, "dev", "0" * 64, tested=True, built_at=NOW - timedelta(days=1))
    recorded = {old: {"file:chef/environments/dev.json": "c" * 64, "source_ami": "b" * 64}}

    plan = decide(clients, LOADED, DOMAIN, "dev", "ami-0base", CURRENT, rebake=False, recorded_inputs=recorded.get)

    assert plan.decision == "bake"
    assert plan.changed_inputs == ["file:chef/environments/dev.json"]
    assert "inputs changed since" in plan.reason


def test_new_base_makes_domain_stale(clients: Clients) -> None:
    make_ami(clients, DOMAIN, "dev", "0" * 64, tested=True, built_at=NOW, source_ami="ami-0oldbase")

    plan = decide(clients, LOADED, DOMAIN, "dev", "ami-0newbase", CURRENT, rebake=False, recorded_inputs=no_records)

    assert plan.decision == "bake"
    assert plan.reason.startswith("stale parent:")
    assert "ami-0newbase" in plan.reason


def test_too_old_ami_is_rebaked(clients: Clients) -> None:
    loaded = load_pipeline(REPOSITORY / "pipeline.yaml")
    settings = loaded.pipeline.layers.base.model_copy(update={"max_age_days": 7})
    layers = loaded.pipeline.layers.model_copy(update={"base": settings})
    loaded.pipeline = loaded.pipeline.model_copy(update={"layers": layers})
    make_ami(clients, BASE, "all", CURRENT.digest(), tested=True, built_at=NOW - timedelta(days=8))

    plan = decide(clients, loaded, BASE, "all", "ami-0base", CURRENT, rebake=False, recorded_inputs=no_records)

    assert plan.decision == "bake"
    assert "over max_age_days 7" in plan.reason


def test_rebake_forces_a_bake(clients: Clients) -> None:
    make_ami(clients, BASE, "all", CURRENT.digest(), tested=True, built_at=NOW)

    plan = decide(clients, LOADED, BASE, "all", "ami-0base", CURRENT, rebake=True, recorded_inputs=no_records)

    assert plan.decision == "bake"
    assert plan.reason == "forced with --rebake"


def test_other_environment_is_not_a_hit(clients: Clients) -> None:
    make_ami(clients, DOMAIN, "qa", CURRENT.digest(), tested=True, built_at=NOW)

    plan = decide(clients, LOADED, DOMAIN, "dev", "ami-0base", CURRENT, rebake=False, recorded_inputs=no_records)

    assert plan.decision == "bake"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"a": "1", "b": "2"}, {"a": "1", "b": "2"}, []),
        ({"a": "1", "b": "2"}, {"a": "1", "b": "3"}, ["b"]),
        ({"a": "1"}, {"a": "1", "c": "4"}, ["c"]),
        ({"a": "1", "d": "5"}, {"a": "1"}, ["d"]),
    ],
    ids=["same", "changed", "added", "removed"],
)
def test_changed_inputs_lists_differences(old: dict[str, str], new: dict[str, str], expected: list[str]) -> None:
    assert changed_inputs(old, new) == expected


def test_lock_check_ignores_too_old_ami(clients: Clients) -> None:
    make_ami(clients, BASE, "all", CURRENT.digest(), tested=True, built_at=NOW - timedelta(days=40))
    plan = decide(clients, LOADED, BASE, "all", "ami-0base", CURRENT, rebake=False, recorded_inputs=no_records)

    assert find_concurrent(clients, plan, max_age_days=30) is None


def test_lock_check_finds_untested_bake(clients: Clients) -> None:
    plan = decide(clients, LOADED, BASE, "all", "ami-0base", CURRENT, rebake=False, recorded_inputs=no_records)
    fresh = make_ami(clients, BASE, "all", CURRENT.digest(), tested=False, built_at=NOW)

    found = find_concurrent(clients, plan, max_age_days=30)

    assert found is not None
    assert found["ImageId"] == fresh


def test_lock_check_skips_failed_ami(clients: Clients) -> None:
    plan = decide(clients, LOADED, BASE, "all", "ami-0base", CURRENT, rebake=False, recorded_inputs=no_records)
    failed = make_ami(clients, BASE, "all", CURRENT.digest(), tested=False, built_at=NOW)
    clients.client("ec2").create_tags(Resources=[failed], Tags=[{"Key": tags.TESTS, "Value": tags.TESTS_FAILED}])

    assert find_concurrent(clients, plan, max_age_days=None) is None
