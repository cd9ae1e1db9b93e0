"""osb_slot.py (first-boot slot claims) against moto's in-process DynamoDB mock."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.chef.chef_paths import COOKBOOK

# Fake credentials before any client exists, so nothing can reach a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
)

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

TABLE = "osb-test-dynamic-server-slots"


def _load_slot_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("osb_slot", COOKBOOK / "files" / "default" / "osb_slot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


osb_slot = _load_slot_module()


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "slot", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "slot", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_first_claim_gets_slot_one(dynamodb: Any) -> None:
    assert osb_slot.claim_slot(dynamodb, TABLE, "i-a", 4) == 1


def test_claims_get_distinct_slots(dynamodb: Any) -> None:
    slots = [osb_slot.claim_slot(dynamodb, TABLE, f"i-{n}", 4) for n in range(4)]
    assert sorted(slots) == [1, 2, 3, 4]


def test_repeated_claim_returns_held_slot(dynamodb: Any) -> None:
    first = osb_slot.claim_slot(dynamodb, TABLE, "i-a", 4)
    osb_slot.claim_slot(dynamodb, TABLE, "i-b", 4)
    assert osb_slot.claim_slot(dynamodb, TABLE, "i-a", 4) == first


def test_concurrent_claims_never_share_slot(dynamodb: Any) -> None:
    results: dict[str, int] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def claim(instance_id: str) -> None:
        try:
            start.wait()
            results[instance_id] = osb_slot.claim_slot(dynamodb, TABLE, instance_id, 8)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(f"i-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results.values()) == list(range(1, 9))


def test_full_table_raises(dynamodb: Any) -> None:
    osb_slot.claim_slot(dynamodb, TABLE, "i-a", 1)
    with pytest.raises(osb_slot.NoFreeSlotError, match="all 1 dynamic server slots"):
        osb_slot.claim_slot(dynamodb, TABLE, "i-b", 1)


def test_release_frees_slot(dynamodb: Any) -> None:
    osb_slot.claim_slot(dynamodb, TABLE, "i-a", 2)
    osb_slot.claim_slot(dynamodb, TABLE, "i-b", 2)

    assert osb_slot.release_slot(dynamodb, TABLE, "i-a") == 1
    assert osb_slot.claim_slot(dynamodb, TABLE, "i-c", 2) == 1


def test_release_without_slot_returns_none(dynamodb: Any) -> None:
    assert osb_slot.release_slot(dynamodb, TABLE, "i-never") is None


def test_release_keeps_other_instances_slot(dynamodb: Any) -> None:
    osb_slot.claim_slot(dynamodb, TABLE, "i-a", 2)
    osb_slot.release_slot(dynamodb, TABLE, "i-b")
    assert osb_slot.held_slot(dynamodb, TABLE, "i-a") == 1


@pytest.mark.parametrize(
    ("argv", "exit_code", "stdout"),
    [
        (["claim", "--table", TABLE, "--instance-id", "i-cli", "--size", "2"], 0, "1\n"),
        (["release", "--table", TABLE, "--instance-id", "i-none"], 0, "\n"),
        (["claim", "--table", "no-such-table", "--instance-id", "i-cli", "--size", "2"], 1, ""),
    ],
)
def test_command_line(
    dynamodb: Any, capsys: pytest.CaptureFixture[str], argv: list[str], exit_code: int, stdout: str
) -> None:
    assert osb_slot.main([*argv, "--region", "eu-west-1"]) == exit_code
    assert capsys.readouterr().out == stdout


def test_command_line_full_exits_3(dynamodb: Any) -> None:
    osb_slot.claim_slot(dynamodb, TABLE, "i-a", 1)
    argv = ["claim", "--table", TABLE, "--instance-id", "i-b", "--size", "1", "--region", "eu-west-1"]
    assert osb_slot.main(argv) == osb_slot.EXIT_NO_FREE_SLOT
