"""Fixtures of the WLST checks; the helpers live in standin_run.py."""

from tests.wlst.standin_run import built_domain, jython, run_build  # noqa: F401 - pytest fixtures
