"""Duration parsing and option errors of the ``images`` and ``reap`` commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from builder.cli_images import format_age, images_group, parse_duration, reap_command


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("90m", 5400), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), (" 2H ", 7200), ("0m", 0)],
)
def test_parse_duration_valid(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "-1h", "1.5h", "2 h", "2h-", "1w"])
def test_parse_duration_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="is invalid; give a number with a unit s, m, h or d"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (40, "40s"), (125, "2m5s"), (7500, "2h5m"), (7205, "2h"), (273600, "3d4h")],
)
def test_format_age_two_units(seconds: int, text: str) -> None:
    assert format_age(seconds) == text


@pytest.mark.parametrize("value", ["2x", "soon", "-1h"])
def test_reap_bad_duration_exits_2(value: str) -> None:
    result = CliRunner().invoke(reap_command, ["--older-than", value])

    assert result.exit_code == 2
    assert "--older-than" in result.output
    assert f"duration '{value}' is invalid" in result.output


@pytest.mark.parametrize(
    "arguments",
    [["gc", "--keep", "-1"], ["gc", "--channel-depth", "0"], ["gc", "--keep", "many"]],
)
def test_gc_bad_counts_exit_2(arguments: list[str]) -> None:
    result = CliRunner().invoke(images_group, arguments)

    assert result.exit_code == 2
