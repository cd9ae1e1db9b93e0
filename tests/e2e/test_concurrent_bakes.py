"""Two bakes of the same layers started at once make one AMI per layer."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Cli

pytestmark = pytest.mark.e2e


def test_concurrent_bakes_share_amis(cli: Cli) -> None:
    ready = cli.run("local", "up", timeout=600)
    assert ready.returncode == 0, ready.stderr
    first = cli.start("--json", "bake", "--env", "dev")
    second = cli.start("--json", "bake", "--env", "dev")

    first_out, first_err = first.communicate(timeout=900)
    second_out, second_err = second.communicate(timeout=900)

    assert first.returncode == 0, first_err[-3000:]
    assert second.returncode == 0, second_err[-3000:]
    first_layers = {layer["layer"]: layer["ami_id"] for layer in json.loads(first_out)["layers"]}
    second_layers = {layer["layer"]: layer["ami_id"] for layer in json.loads(second_out)["layers"]}
    assert first_layers == second_layers
    ec2 = cli.clients()("ec2")
    for layer in ("base", "domain"):
        images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:osb-image:layer", "Values": [layer]}])[
            "Images"
        ]
        assert [image["ImageId"] for image in images] == [first_layers[layer]]
