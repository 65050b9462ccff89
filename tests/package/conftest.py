"""Fixtures for the package suite: the packages built once from a copy of
the tree, and their installation on this machine, held under a lock (one
run of this suite at a time per machine) and purged however the tests end."""

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

PACKAGES = ["sealdropd", "sealdrop", "sealdrop-www"]
LOCK = "/run/lock/sealdrop-package-test.lock"
POLICY_RC_D = "/usr/sbin/policy-rc.d"


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def installed_state(package):
    """dpkg's status of package ("install ok installed", ...) or ""."""
    r = run(["dpkg-query", "-W", "-f=${Status}", package])
    status = r.stdout.strip() if r.returncode == 0 else ""
    return "" if status.endswith("not-installed") else status


def dpkg(*args, timeout=300):
    """dpkg ARGS, waiting while another dpkg or apt holds its lock."""
    deadline = time.monotonic() + timeout
    while True:
        r = run(["dpkg"] + list(args))
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > deadline:
            return r
        time.sleep(2)


@pytest.fixture(scope="session")
def machine_lock():
    if os.geteuid() != 0:
        pytest.fail("the package suite installs packages: run it as root")
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    with open(LOCK, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def built(machine_lock, tmp_path_factory):
    """Directory holding the .debs and .changes, built from a copy of the
    tree (the worktree stays clean): the tracked and untracked files that
    git does not ignore, plus www/vendor/ from scripts/www-build."""
    r = run([os.path.join(ROOT, "scripts", "www-build")], cwd=ROOT)
    assert r.returncode == 0, r.stderr
    out = tmp_path_factory.mktemp("debs")
    src = out / "src"
    files = run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True)
    names = [n for n in files.stdout.split("\0") if n and os.path.lexists(os.path.join(ROOT, n))]
    names += [os.path.join("www", "vendor", n)
              for n in os.listdir(os.path.join(ROOT, "www", "vendor"))]
    for name in names:
        dest = src / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), dest, follow_symlinks=False)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
    r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env)
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
    return out


def deb(built, package):
    names = [n for n in os.listdir(built) if n.startswith(package + "_") and n.endswith(".deb")]
    assert len(names) == 1, names
    return os.path.join(built, names[0])


class Installation:
    """The packages as installed: what dpkg put where, for the purge test."""

    def __init__(self, built):
        self.built = built
        self.files = {}

    def install(self):
        r = dpkg("-i", *[deb(self.built, p) for p in PACKAGES])
        assert r.returncode == 0, r.stdout + r.stderr
        for p in PACKAGES:
            listing = run(["dpkg", "-L", p], check=True).stdout.split("\n")
            self.files[p] = [f for f in listing if f and f != "/."]
        return r

    def purge(self):
        present = [p for p in PACKAGES if installed_state(p)]
        if not present:
            return None
        return dpkg("--purge", *present)


@pytest.fixture(scope="session")
def installed(built):
    """The three packages, installed by dpkg -i; purged at the end whatever
    happened. Refuses to touch packages it did not install. While they are
    installed, a policy-rc.d (unless one exists) forbids maintainer scripts
    to start services, as in a chroot: nothing here may run as a service."""
    already = [p for p in PACKAGES if installed_state(p)]
    if already:
        pytest.fail("already on this machine (not installed by this test; purge them "
                    "first if that is intended): %s" % ", ".join(already))
    own_policy = not os.path.exists(POLICY_RC_D)
    if own_policy:
        with open(POLICY_RC_D, "w") as f:
            f.write("#!/bin/sh\n# tests/package: start no service\nexit 101\n")
        os.chmod(POLICY_RC_D, 0o755)
    inst = Installation(built)
    try:
        inst.install_result = inst.install()
        yield inst
    finally:
        inst.purge()
        if own_policy:
            os.unlink(POLICY_RC_D)
