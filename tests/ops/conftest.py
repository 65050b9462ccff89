"""Fixtures for the operations suite: the built sealdropd. The shared
bootstrap (tests/lib on sys.path, stack, sdclient) comes from
tests/lib/sdfixtures.py."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "lib")))

pytest_plugins = ["sdfixtures"]

import stack  # noqa: E402


@pytest.fixture(scope="session")
def sealdropd():
    return stack.sealdropd_path()
