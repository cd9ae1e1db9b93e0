"""Provenance documents: what an AMI was built from, by which tools, and how its tests went.

Each AMI made by the driver gets one JSON document in the artifact bucket at
``provenance/<ami-id>.json``, written with sorted keys so that two writes of the
same facts give the same bytes. A document must never contain a secret, so
``write`` rejects any value that looks like a presigned URL or key material.
"""

from __future__ import annotations

import json
import logging
import platform
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from botocore.exceptions import ClientError

from builder import tags
from builder.aws import ClientFactory, error_code
from builder.channels import validate_ami_id
from builder.errors import InvalidInputError, NotFoundError, RejectedError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KEY_PREFIX = "provenance/"
TEST_COUNT_FIELDS = ("tests", "failures", "errors", "skipped")
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}
_NO_BUCKET_CODE = "NoSuchBucket"

# Patterns of secrets that must never reach a document, each with the name used in errors.
_SECRET_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("a presigned URL (SigV4 signature)", re.compile(r"X-Amz-(?:Signature|Credential|Security-Token)=", re.IGNORECASE)),
    ("a presigned URL (SigV2 signature)", re.compile(r"[?&]Signature=[^&]+", re.IGNORECASE)),
    ("private key material", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("an AWS secret access key", re.compile(r"aws_secret_access_key|SecretAccessKey", re.IGNORECASE)),
]


def build_document(
    *,
    ami_id: str,
    layer: str,
    environment: str,
    fingerprint: str,
    inputs: Mapping[str, str],
    run_id: str,
    started_at: datetime,
    finished_at: datetime,
    source_ami: str,
    git_revision: str,
    git_dirty: bool,
    packer_version: str,
    target: str | None = None,
    tests: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the provenance document of one bake.

    ``inputs`` maps each fingerprint input to its SHA-256, as in
    ``Fingerprint.inputs``. ``tools`` records the moto version only when ``target``
    is ``local``, where moto serves the AWS APIs, so pass the target's name.
    ``tests`` takes the same mapping as ``record_test_result`` and is usually None
    at bake time.
    """
    validate_ami_id(ami_id)
    tools = {
        "packer": packer_version,
        "python": platform.python_version(),
        "osb-image": _package_version("osb-image"),
    }
    if target == "local":
        tools["moto"] = _package_version("moto")
    return {
        "schema_version": SCHEMA_VERSION,
        "ami_id": ami_id,
        "layer": layer,
        "environment": environment,
        "fingerprint": fingerprint,
        "inputs": dict(sorted(inputs.items())),
        "tools": tools,
        "git": {"revision": git_revision, "dirty": git_dirty},
        "run_id": run_id,
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
        "source_ami": source_ami,
        "tests": None if tests is None else normalize_test_result(ami_id, tests),
    }


def document_key(ami_id: str) -> str:
    """Return the S3 key of an AMI's provenance document."""
    return f"{KEY_PREFIX}{validate_ami_id(ami_id)}.json"


def write(clients: ClientFactory, bucket: str, document: Mapping[str, Any]) -> str:
    """Store ``document`` as ``s3://bucket/provenance/<ami-id>.json``; return its key.

    Raises RejectedError, naming the field but not its value, when a value looks
    like a presigned URL or key material.
    """
    ami_id = str(document.get("ami_id", ""))
    key = document_key(ami_id)
    check_no_secrets(ami_id, document)
    body = json.dumps(document, sort_keys=True, indent=2) + "\n"
    try:
        clients.client("s3").put_object(
            Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/json"
        )
    except ClientError as error:
        _raise_if_no_bucket(error, bucket)
        raise
    logger.info("%s: provenance written to s3://%s/%s", ami_id, bucket, key)
    return key


def read(clients: ClientFactory, bucket: str, ami_id: str) -> dict[str, Any] | None:
    """Return the AMI's provenance document, or None when it has none (baked before provenance existed)."""
    key = document_key(ami_id)
    try:
        response = clients.client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in _NOT_FOUND_CODES:
            return None
        _raise_if_no_bucket(error, bucket)
        raise
    try:
        document: dict[str, Any] = json.loads(response["Body"].read())
    except ValueError as error:
        raise InvalidInputError(
            f"{ami_id}: provenance s3://{bucket}/{key} is not valid JSON ({error}); delete it or write it again"
        ) from None
    return document


def delete(clients: ClientFactory, bucket: str, ami_id: str) -> None:
    """Delete the AMI's provenance document; a document that is already gone counts as deleted."""
    key = document_key(ami_id)
    try:
        clients.client("s3").delete_object(Bucket=bucket, Key=key)
    except ClientError as error:
        _raise_if_no_bucket(error, bucket)
        if error_code(error) not in _NOT_FOUND_CODES:
            raise
    logger.info("%s: provenance s3://%s/%s deleted", ami_id, bucket, key)


def record_test_result(
    clients: ClientFactory, bucket: str, ami_id: str, result: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Store a test result in the AMI's provenance document; return the updated document.

    ``result`` takes ``result`` ("passed" or "failed") or a boolean ``passed``, as in
    ``TestResult.to_dict()``, plus the counts tests, failures, errors and skipped, and
    an optional ``tested_at`` (default: now). Returns None, with a warning, when the
    AMI has no document to update.
    """
    document = read(clients, bucket, ami_id)
    if document is None:
        logger.warning("%s: no provenance document in s3://%s; test result not recorded there", ami_id, bucket)
        return None
    document["tests"] = normalize_test_result(ami_id, result)
    write(clients, bucket, document)
    return document


def normalize_test_result(ami_id: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``tests`` section ``{result, tests, failures, errors, skipped, tested_at}``."""
    outcome = result.get("result")
    if outcome is None and isinstance(result.get("passed"), bool):
        outcome = tags.TESTS_PASSED if result["passed"] else tags.TESTS_FAILED
    if outcome not in (tags.TESTS_PASSED, tags.TESTS_FAILED):
        raise InvalidInputError(
            f"{ami_id}: test result {outcome!r} is invalid; give result 'passed' or 'failed', or a boolean 'passed'"
        )
    section: dict[str, Any] = {"result": outcome}
    for name in TEST_COUNT_FIELDS:
        count = result.get(name)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InvalidInputError(
                f"{ami_id}: test result field {name} is {count!r}; expected a count of zero or more"
            )
        section[name] = count
    tested_at = result.get("tested_at")
    if isinstance(tested_at, datetime):
        section["tested_at"] = _iso(tested_at)
    else:
        section["tested_at"] = str(tested_at or _iso(datetime.now(UTC)))
    return section


def check_no_secrets(ami_id: str, document: Mapping[str, Any]) -> None:
    """Raise RejectedError if any key or value of ``document`` looks like a presigned URL or key material."""
    for path, text in _strings(document, ""):
        for kind, pattern in _SECRET_PATTERNS:
            if pattern.search(text):
                raise RejectedError(
                    f"{ami_id}: provenance field {path or '(root)'} looks like {kind}; provenance is readable by "
                    "everyone with access to the bucket, so record an S3 key or a SHA-256 there instead"
                )


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield every string key and value of a JSON-like structure with its dotted path."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key)
            yield from _strings(item, child)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _raise_if_no_bucket(error: ClientError, bucket: str) -> None:
    if error_code(error) == _NO_BUCKET_CODE:
        raise NotFoundError(
            f"bucket {bucket} not found; check artifact_bucket in pipeline.yaml or create the bucket"
        ) from error


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")
