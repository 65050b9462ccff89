"""Fixtures for the command-line client suite: one private stack, the
`sealdrop` binary, and a throwaway identity per test."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import stack  # noqa: E402

PASS = "correct horse battery staple"


@pytest.fixture(scope="session")
def srv():
    s = stack.Stack(threads=4).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def cli_path():
    return os.environ.get("SEALDROP_CLI", os.path.join(ROOT, "build", "sealdrop"))


class Cli:
    def __init__(self, binary, identity, passphrase=PASS):
        self.binary = binary
        self.identity = identity
        self.passphrase = passphrase

    def __call__(self, *args, input=None, passphrase=None, check=True, timeout=60):
        env = dict(os.environ, SEALDROP_PASSPHRASE=passphrase or self.passphrase)
        r = subprocess.run([self.binary, "--identity", self.identity] + list(args),
                           input=input, capture_output=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("sealdrop %s -> %d: %s" % (" ".join(args), r.returncode,
                                                            r.stderr.decode()))
        return r

    def popen(self, *args):
        env = dict(os.environ, SEALDROP_PASSPHRASE=self.passphrase)
        return subprocess.Popen([self.binary, "--identity", self.identity] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


@pytest.fixture
def cli(cli_path, tmp_path):
    return Cli(cli_path, str(tmp_path / "cfg" / "sealdrop" / "identity"))


@pytest.fixture
def inbox(cli, srv):
    """An initialised and registered identity; returns its link."""
    cli("init")
    return cli("register", "--server", srv.url, "--name", "CLI Tester").stdout.decode().strip()
