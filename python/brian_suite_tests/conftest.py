"""Brisk's own tests in Brian's test framework (phase ``-m brisk`` of brian2.test)."""

from brian2.conftest import *  # noqa: F401,F403  (Brian's fixtures: device setup, reinit)

import brian2brisk  # noqa: F401  (registers the device)


def pytest_configure(config):
    config.addinivalue_line("markers", "brisk: tests of the brisk device itself")
