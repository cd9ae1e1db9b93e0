"""Provenance documents in the artifact bucket of a moto server: write, read, test results, secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from builder import provenance
from builder.aws import ClientFactory
from builder.errors import InvalidInputError, NotFoundError, RejectedError

BUCKET = "osb-image-artifacts"
AMI = "ami-0123456789abcdef0"


@pytest.fixture
def bucket(clients: ClientFactory) -> str:
    clients.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def _document(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "ami_id": AMI,
        "layer": "base",
        "environment": "all",
        "fingerprint": "f" * 64,
        "inputs": {"source_ami": "a" * 64, "installer:jdk": "b" * 64},
        "run_id": "20261204t201500-3fa2c1",
        "started_at": datetime(2026, 12, 4, 20, 15, tzinfo=UTC),
        "finished_at": datetime(2026, 12, 4, 20, 21, tzinfo=UTC),
        "source_ami": "ami-0deb12b00c5eed001",
        "git_revision": "3309981",
        "git_dirty": False,
        "packer_version": "1.11.2",
        "target": "local",
    }
    values.update(changes)
    return provenance.build_document(**values)


def _stored_body(clients: ClientFactory, ami_id: str = AMI) -> str:
    response = clients.client("s3").get_object(Bucket=BUCKET, Key=f"provenance/{ami_id}.json")
    return str(response["Body"].read().decode("utf-8"))


def test_document_has_every_field() -> None:
    document = _document()

    assert set(document) == {
        "schema_version",
        "ami_id",
        "layer",
        "environment",
        "fingerprint",
        "inputs",
        "tools",
        "git",
        "run_id",
        "started_at",
        "finished_at",
        "source_ami",
        "tests",
    }
    assert document["schema_version"] == provenance.SCHEMA_VERSION
    assert document["git"] == {"revision": "3309981", "dirty": False}
    assert document["started_at"] == "2026-12-04T20:15:00+00:00"
    assert document["tests"] is None


@pytest.mark.parametrize(("target", "has_moto"), [("local", True), ("aws", False), (None, False)])
def test_document_tools_by_target(target: str | None, has_moto: bool) -> None:
    tools = _document(target=target)["tools"]

    assert tools["packer"] == "1.11.2"
    assert tools["python"]
    assert tools["osb-image"]
    assert ("moto" in tools) is has_moto


def test_write_then_read_round_trip(clients: ClientFactory, bucket: str) -> None:
    document = _document()

    key = provenance.write(clients, bucket, document)

    assert key == f"provenance/{AMI}.json"
    assert provenance.read(clients, bucket, AMI) == document


def test_write_sorts_keys(clients: ClientFactory, bucket: str) -> None:
    document = _document()
    provenance.write(clients, bucket, document)

    assert _stored_body(clients) == json.dumps(document, sort_keys=True, indent=2) + "\n"


def test_read_missing_document_is_none(clients: ClientFactory, bucket: str) -> None:
    assert provenance.read(clients, bucket, AMI) is None


def test_read_missing_bucket_is_not_found(clients: ClientFactory) -> None:
    with pytest.raises(NotFoundError) as raised:
        provenance.read(clients, "no-such-bucket", AMI)

    assert "bucket no-such-bucket not found" in str(raised.value)


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        (
            "source_ami",
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc",
            "presigned URL",
        ),
        ("run_id", "https://b.s3.amazonaws.com/k?AWSAccessKeyId=x&Expires=1&Signature=abc", "presigned URL"),
        ("source_ami", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n", "private key material"),
        ("run_id", "AKIAIOSFODNN7EXAMPLE", "access key id"),
    ],
)
def test_write_rejects_secrets(clients: ClientFactory, bucket: str, field: str, value: str, kind: str) -> None:
    document = _document()
    document[field] = value

    with pytest.raises(RejectedError) as raised:
        provenance.write(clients, bucket, document)

    message = str(raised.value)
    assert f"field {field} looks like" in message
    assert kind in message
    assert value not in message, "the error message repeats the secret"
    assert provenance.read(clients, bucket, AMI) is None


def test_write_rejects_secret_in_nested_input(clients: ClientFactory, bucket: str) -> None:
    document = _document(inputs={"installer:osb": "https://x/k?X-Amz-Credential=AKIA/20261204&X-Amz-Signature=ab"})

    with pytest.raises(RejectedError) as raised:
        provenance.write(clients, bucket, document)

    assert "field inputs.installer:osb" in str(raised.value)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {
                "result": "passed",
                "tests": 41,
                "failures": 0,
                "errors": 0,
                "skipped": 6,
                "tested_at": "2026-12-04T20:30:00+00:00",
            },
            "passed",
        ),
        (
            {"passed": False, "tests": 41, "failures": 2, "errors": 1, "skipped": 6, "run_id": "r", "report": "x.xml"},
            "failed",
        ),
    ],
    ids=["result-field", "test-result-dict"],
)
def test_record_test_result_updates_document(
    clients: ClientFactory, bucket: str, result: dict[str, Any], expected: str
) -> None:
    provenance.write(clients, bucket, _document())

    updated = provenance.record_test_result(clients, bucket, AMI, result)
    stored = provenance.read(clients, bucket, AMI)

    assert updated == stored
    assert stored is not None
    assert stored["tests"]["result"] == expected
    assert stored["tests"]["failures"] == result["failures"]
    assert set(stored["tests"]) == {"result", "tests", "failures", "errors", "skipped", "tested_at"}
    assert stored["fingerprint"] == "f" * 64


def test_record_test_result_without_document(clients: ClientFactory, bucket: str) -> None:
    result = {"result": "passed", "tests": 1, "failures": 0, "errors": 0, "skipped": 0}

    assert provenance.record_test_result(clients, bucket, AMI, result) is None
    assert provenance.read(clients, bucket, AMI) is None


@pytest.mark.parametrize(
    "result",
    [
        {"result": "maybe", "tests": 1, "failures": 0, "errors": 0, "skipped": 0},
        {"result": "passed", "tests": -1, "failures": 0, "errors": 0, "skipped": 0},
        {"result": "passed", "tests": 1, "failures": 0, "errors": 0},
    ],
    ids=["bad-result", "negative-count", "missing-count"],
)
def test_record_test_result_rejects_invalid(clients: ClientFactory, bucket: str, result: dict[str, Any]) -> None:
    provenance.write(clients, bucket, _document())

    with pytest.raises(InvalidInputError):
        provenance.record_test_result(clients, bucket, AMI, result)

    assert provenance.read(clients, bucket, AMI)["tests"] is None  # type: ignore[index]


def test_delete_twice_is_success(clients: ClientFactory, bucket: str) -> None:
    provenance.write(clients, bucket, _document())

    provenance.delete(clients, bucket, AMI)
    provenance.delete(clients, bucket, AMI)

    assert provenance.read(clients, bucket, AMI) is None
