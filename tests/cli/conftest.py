"""Fixtures for the command-line client suite: one private stack (the real
nginx + sealdropd), the `sealdrop` binary, a throwaway identity per test,
and a scriptable fake server for the replies a real one never gives."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, HERE)

# The session stack (srv) is tests/lib/sdfixtures.py's, with 4 threads.
pytest_plugins = ["sdfixtures"]

from fakeserver import FakeServer  # noqa: E402
from sdclient import b64, b64url, unb64url  # noqa: E402,F401 - the tests import them from here

PASS = "correct horse battery staple"


@pytest.fixture(scope="session")
def stack_options():
    """Receipts release status changes every second here (test_receipts)."""
    return {"threads": 4, "env": {"SEALDROP_STATUS_INTERVAL": "1"}}


def link_parts(link):
    """(server, token, fragment or None) of a sealdrop link."""
    server, rest = link.split("/l/", 1)
    token, _, key = rest.partition("#")
    return server, token, key or None


@pytest.fixture(scope="session")
def cli_path():
    path = os.environ.get("SEALDROP_CLI", os.path.join(ROOT, "build", "sealdrop"))
    assert os.access(path, os.X_OK), "no sealdrop binary at %s (build it, or set SEALDROP_CLI)" % path
    return path


def clean_env(**extra):
    """The environment of a CLI run: no proxies, no inherited passphrase,
    a private HOME so nothing touches the real user's files."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
           and k != "SEALDROP_PASSPHRASE"}
    env.update(extra)
    return env


class Cli:
    def __init__(self, binary, identity, passphrase=PASS, home=None):
        self.binary = binary
        self.identity = identity
        self.passphrase = passphrase
        self.home = home or os.path.dirname(identity)

    def env(self, passphrase):
        extra = {"HOME": self.home, "XDG_CONFIG_HOME": os.path.join(self.home, "xdg")}
        if passphrase is not False:
            extra["SEALDROP_PASSPHRASE"] = passphrase or self.passphrase
        return clean_env(**extra)

    def argv(self, args, identity=True):
        return [self.binary] + (["--identity", self.identity] if identity else []) + list(args)

    def __call__(self, *args, input=None, passphrase=None, check=True, timeout=60,
                 identity=True):
        r = subprocess.run(self.argv(args, identity), input=input, capture_output=True,
                           env=self.env(passphrase), timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("sealdrop %s -> %d: %s" % (" ".join(args), r.returncode,
                                                            r.stderr.decode()))
        return r

    def popen(self, *args):
        return subprocess.Popen(self.argv(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env(None))

    def doc(self):
        with open(self.identity) as f:
            return json.load(f)

    def write_doc(self, doc):
        with open(self.identity, "w") as f:
            json.dump(doc, f)


@pytest.fixture
def cli(cli_path, tmp_path):
    return Cli(cli_path, str(tmp_path / "cfg" / "sealdrop" / "identity"), home=str(tmp_path))


@pytest.fixture
def inbox(cli, srv):
    """An initialised and registered identity; returns its link."""
    cli("init")
    return cli("register", "--server", srv.url, "--name", "CLI Tester").stdout.decode().strip()


@pytest.fixture
def fake():
    s = FakeServer().start()
    yield s
    s.stop()


def assert_one_clean_line(stderr, *secrets):
    """The error contract: exactly one line, prefixed, no control
    characters, none of the given secrets."""
    text = stderr.decode("utf-8", "replace")
    assert text.count("\n") == 1 and text.startswith("sealdrop: "), repr(text)
    assert not any(ord(c) < 0x20 and c != "\n" for c in text), repr(text)
    for s in secrets:
        assert s not in text, "secret %r on stderr" % s
