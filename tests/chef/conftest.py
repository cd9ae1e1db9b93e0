"""Fixtures of the Chef checks; the paths live in chef_paths.py."""

from tests.chef.chef_paths import ruby  # noqa: F401 - pytest fixture
