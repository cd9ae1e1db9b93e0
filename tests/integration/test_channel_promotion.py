"""Channel promotion against a moto server: guards, versions and the promote_from chain."""

from __future__ import annotations

import pytest
from moto_seed import Seed, register_ami, register_tested_ami

from builder import channels, tags
from builder.aws import ClientFactory
from builder.config import LoadedPipeline
from builder.errors import InvalidInputError, NotFoundError, RejectedError


@pytest.mark.parametrize(
    ("ami", "error", "message_part"),
    [
        ("untested", RejectedError, "tag osb-image:tests is missing"),
        ("failed", RejectedError, "tag osb-image:tests is 'failed'"),
        ("ami-0123456789abcdef0", NotFoundError, "not found"),
        ("ami-XYZ", InvalidInputError, "is invalid"),
        ("i-0123456789abcdef0", InvalidInputError, "is invalid"),
        ("", InvalidInputError, "is invalid"),
    ],
)
def test_promote_rejects_bad_ami(
    clients: ClientFactory,
    pipeline: LoadedPipeline,
    seed: Seed,
    ami: str,
    error: type[Exception],
    message_part: str,
) -> None:
    if ami == "untested":
        ami = seed.untested_ami
    elif ami == "failed":
        ami = register_ami(clients, "osb-image-failed", {tags.TESTS: tags.TESTS_FAILED})

    with pytest.raises(error) as raised:
        channels.promote(clients, pipeline, "dev", ami, "run-1")

    assert message_part in str(raised.value)
    assert channels.current(clients, pipeline, "dev") is None


def test_promote_rejection_says_what_to_run(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    with pytest.raises(RejectedError) as raised:
        channels.promote(clients, pipeline, "dev", seed.untested_ami, "run-1")

    assert f"osb-image test {seed.untested_ami}" in str(raised.value)


def test_promote_writes_version_one(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    promoted = channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")

    assert promoted == channels.ChannelVersion("/osb-image/channels/dev", 1, seed.tested_ami)
    assert channels.current(clients, pipeline, "dev") == promoted


def test_promote_tags_new_parameter(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")

    listed = clients.client("ssm").list_tags_for_resource(
        ResourceType="Parameter", ResourceId="/osb-image/channels/dev"
    )
    parameter_tags = tags.as_dict(listed["TagList"])
    assert parameter_tags[tags.ENVIRONMENT] == "dev"
    assert parameter_tags[tags.RUN_ID] == "run-1"


def test_repromote_same_ami_writes_nothing(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    first = channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")

    again = channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-2")

    assert again == first
    assert len(channels.history(clients, pipeline, "dev")) == 1


def test_promote_new_ami_adds_version(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    first = channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    second_ami = register_tested_ami(clients, "osb-image-second")

    second = channels.promote(clients, pipeline, "dev", second_ami, "run-2")

    assert second == channels.ChannelVersion("/osb-image/channels/dev", 2, second_ami)
    assert channels.history(clients, pipeline, "dev") == [first, second]
    assert channels.previous(clients, pipeline, "dev") == first


def test_previous_skips_repeated_ami(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    second_ami = register_tested_ami(clients, "osb-image-second")
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    channels.promote(clients, pipeline, "dev", second_ami, "run-2")
    # A rollback promotes the first AMI again as version 3.
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-3")

    previous = channels.previous(clients, pipeline, "dev")

    assert previous == channels.ChannelVersion("/osb-image/channels/dev", 2, second_ami)


def test_unpromoted_channel_is_empty(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    assert channels.current(clients, pipeline, "dev") is None
    assert channels.history(clients, pipeline, "dev") == []
    assert channels.previous(clients, pipeline, "dev") is None


def test_promote_unknown_environment_not_found(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    with pytest.raises(NotFoundError) as raised:
        channels.promote(clients, pipeline, "staging", seed.tested_ami, "run-1")

    assert "staging" in str(raised.value)


def test_qa_rejects_ami_never_in_dev(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    with pytest.raises(RejectedError) as raised:
        channels.promote(clients, pipeline, "qa", seed.tested_ami, "run-1")

    assert "takes only what dev ran" in str(raised.value)
    assert channels.current(clients, pipeline, "qa") is None


def domain_ami(clients: ClientFactory, name: str, environment: str, base: str) -> str:
    return register_ami(
        clients,
        name,
        {tags.TESTS: tags.TESTS_PASSED, tags.LAYER: "domain", tags.ENVIRONMENT: environment, tags.SOURCE_AMI: base},
    )


def test_qa_accepts_domain_on_dev_base(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    channels.promote(clients, pipeline, "dev", domain_ami(clients, "osb-dev-domain", "dev", "ami-0base1"), "run-1")
    qa_ami = domain_ami(clients, "osb-qa-domain", "qa", "ami-0base1")

    version = channels.promote(clients, pipeline, "qa", qa_ami, "run-2")

    assert version.ami_id == qa_ami


@pytest.mark.parametrize(
    ("layer", "environment", "phrase"),
    [
        ("base", "all", "is a base layer AMI with no OSB domain"),
        ("domain", "qa", "contains the domain of environment 'qa', not 'dev'"),
    ],
    ids=["base-layer", "other-environment"],
)
def test_promote_rejects_wrong_image_kind(
    clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed, layer: str, environment: str, phrase: str
) -> None:
    ami_id = register_ami(
        clients,
        f"osb-{layer}-{environment}",
        {tags.TESTS: tags.TESTS_PASSED, tags.LAYER: layer, tags.ENVIRONMENT: environment},
    )

    with pytest.raises(RejectedError) as raised:
        channels.promote(clients, pipeline, "dev", ami_id, "run-1")

    assert phrase in str(raised.value)
    assert channels.current(clients, pipeline, "dev") is None


def test_qa_rejects_domain_on_other_base(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    channels.promote(clients, pipeline, "dev", domain_ami(clients, "osb-dev-domain", "dev", "ami-0base1"), "run-1")
    qa_ami = domain_ami(clients, "osb-qa-domain", "qa", "ami-0base2")

    with pytest.raises(RejectedError) as raised:
        channels.promote(clients, pipeline, "qa", qa_ami, "run-2")

    assert "its base ami-0base2 was never under an AMI of channel /osb-image/channels/dev" in str(raised.value)


def test_qa_accepts_ami_from_dev(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")

    promoted = channels.promote(clients, pipeline, "qa", seed.tested_ami, "run-2")

    assert promoted == channels.ChannelVersion("/osb-image/channels/qa", 1, seed.tested_ami)


def test_qa_accepts_ami_dev_replaced(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    """An AMI that dev has since replaced still counts: the chain checks dev's whole history."""
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")
    channels.promote(clients, pipeline, "dev", register_tested_ami(clients, "osb-image-second"), "run-2")

    promoted = channels.promote(clients, pipeline, "qa", seed.tested_ami, "run-3")

    assert promoted.ami_id == seed.tested_ami


def test_prod_rejects_ami_only_in_dev(clients: ClientFactory, pipeline: LoadedPipeline, seed: Seed) -> None:
    channels.promote(clients, pipeline, "dev", seed.tested_ami, "run-1")

    with pytest.raises(RejectedError) as raised:
        channels.promote(clients, pipeline, "prod", seed.tested_ami, "run-2")

    assert "takes only what qa ran" in str(raised.value)
