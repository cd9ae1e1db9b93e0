#!/usr/bin/env python3
"""Claim or release a dynamic server slot of the OSB cluster in DynamoDB.

Each managed-server instance runs dynamic server <prefix><slot>, so two
instances must never hold the same slot. The table has the number partition
key "slot". A claim is a conditional put that succeeds only when the slot's
item does not exist, so concurrent claims on one slot leave exactly one
winner. Release deletes the item only when this instance holds it.

  osb_slot.py claim   --table T --instance-id i-... --size N [--region R] [--endpoint-url URL]
  osb_slot.py release --table T --instance-id i-... [--region R] [--endpoint-url URL]

claim prints the slot number (1..N); exit 3 when every slot is taken.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger("osb_slot")
EXIT_NO_FREE_SLOT = 3


class NoFreeSlotError(Exception):
    """Every slot from 1 to size is held by another instance."""


def held_slot(client: Any, table: str, instance_id: str) -> int | None:
    """Return the slot this instance already holds, or None."""
    paginator = client.get_paginator("scan")
    pages = paginator.paginate(
        TableName=table,
        FilterExpression="instance_id = :id",
        ExpressionAttributeValues={":id": {"S": instance_id}},
        ConsistentRead=True,
    )
    for page in pages:
        for item in page.get("Items", []):
            return int(item["slot"]["N"])
    return None


def claim_slot(client: Any, table: str, instance_id: str, size: int) -> int:
    """Claim the lowest free slot in 1..size for instance_id and return it.

    A second claim by the same instance returns the slot it already holds,
    so first boot can be retried safely.
    """
    existing = held_slot(client, table, instance_id)
    if existing is not None:
        LOG.info("instance %s already holds slot %d", instance_id, existing)
        return existing
    for slot in range(1, size + 1):
        try:
            client.put_item(
                TableName=table,
                Item={
                    "slot": {"N": str(slot)},
                    "instance_id": {"S": instance_id},
                    "claimed_at": {"N": str(int(time.time()))},
                },
                ConditionExpression="attribute_not_exists(slot)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                continue
            raise
        LOG.info("instance %s claimed slot %d", instance_id, slot)
        return slot
    raise NoFreeSlotError(f"all {size} dynamic server slots in table {table} are taken")


def release_slot(client: Any, table: str, instance_id: str) -> int | None:
    """Release the slot held by instance_id; return it, or None when it held none."""
    slot = held_slot(client, table, instance_id)
    if slot is None:
        LOG.info("instance %s holds no slot in %s", instance_id, table)
        return None
    try:
        client.delete_item(
            TableName=table,
            Key={"slot": {"N": str(slot)}},
            ConditionExpression="instance_id = :id",
            ExpressionAttributeValues={":id": {"S": instance_id}},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            LOG.warning("slot %d changed owner before release by %s", slot, instance_id)
            return None
        raise
    LOG.info("instance %s released slot %d", instance_id, slot)
    return slot


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Claim or release an OSB dynamic server slot.")
    parser.add_argument("action", choices=["claim", "release"])
    parser.add_argument("--table", required=True, help="DynamoDB table with number partition key 'slot'")
    parser.add_argument("--instance-id", required=True, help="EC2 instance id that holds the slot")
    parser.add_argument("--size", type=int, help="number of slots (the dynamic cluster size); needed by claim")
    parser.add_argument("--region", help="AWS region (default: from the environment)")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint, e.g. a local test endpoint")
    args = parser.parse_args(argv)
    if args.action == "claim" and (args.size is None or args.size < 1):
        parser.error("claim needs --size N with N >= 1")
    return args


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    args = parse_args(argv)
    client = boto3.client("dynamodb", region_name=args.region, endpoint_url=args.endpoint_url)
    try:
        if args.action == "claim":
            print(claim_slot(client, args.table, args.instance_id, args.size))
        else:
            slot = release_slot(client, args.table, args.instance_id)
            print("" if slot is None else slot)
    except NoFreeSlotError as error:
        LOG.error("%s; raise the dynamic cluster size or lower the Auto Scaling group's MaxSize", error)
        return EXIT_NO_FREE_SLOT
    except (ClientError, BotoCoreError) as error:
        LOG.error("DynamoDB %s failed on table %s: %s", args.action, args.table, error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
