"""The Debian packages: built with dpkg-buildpackage from a copy of the
tree, lintian-clean, installed with dpkg -i (no systemd runs here, and the
install must neither fail nor start anything), serving a round trip with
the installed sealdropd behind the installed nginx site and the installed
client, and purged to nothing but what policy keeps: the system user."""

import json
import os
import pwd
import grp
import stat
import subprocess

import pytest
import requests

from conftest import PACKAGES, deb, dpkg, installed_state, run
from prodsite import ProductionSite

STATE = "/var/lib/sealdrop"
ENV_FILE = "/etc/sealdrop/sealdropd.env"
SITE = "/etc/nginx/sites-available/sealdrop"
ENABLED = "/etc/nginx/sites-enabled/sealdrop"
VENDOR = ["libsodium-sumo.js", "libsodium-wrappers.js", "qrcode.js"]
PASSPHRASE = "package test passphrase, long enough"


def contents(built, package):
    """{path: (mode string, owner)} of a .deb."""
    out = run(["dpkg-deb", "-c", deb(built, package)], check=True).stdout
    files = {}
    for line in out.splitlines():
        f = line.split()
        files[f[5].lstrip(".")] = (f[0], f[1])
    return files


def test_lintian_reports_no_error_or_warning(built):
    changes = [n for n in os.listdir(built) if n.endswith(".changes")]
    assert len(changes) == 1, changes
    r = run(["lintian", "--fail-on", "error,warning", "--display-level", ">=warning",
             os.path.join(built, changes[0])])
    tags = [line for line in r.stdout.splitlines() if line[:2] in ("E:", "W:")]
    assert r.returncode == 0 and tags == [], r.stdout + r.stderr


def test_daemon_package_holds_its_files(built):
    files = contents(built, "sealdropd")
    for path in ("/usr/sbin/sealdropd", "/lib/systemd/system/sealdropd.service",
                 "/lib/systemd/system/sealdropd.socket", "/usr/lib/sysusers.d/sealdropd.conf",
                 "/usr/share/man/man8/sealdropd.8.gz", SITE,
                 "/etc/nginx/snippets/sealdrop-fastcgi.conf", ENV_FILE):
        assert path in files, path
    assert files[ENV_FILE][0] == "-rw-------", files[ENV_FILE]
    # The site is offered, not switched on.
    assert not any(p.startswith("/etc/nginx/sites-enabled") for p in files)


def test_client_and_pages_packages_hold_their_files(built):
    client = contents(built, "sealdrop")
    assert "/usr/bin/sealdrop" in client and "/usr/share/man/man1/sealdrop.1.gz" in client
    www = contents(built, "sealdrop-www")
    for name in ["index.html", "send.html", "inbox.html", "receipt.html"] + ["vendor/" + v for v in VENDOR]:
        assert "/usr/share/sealdrop/www/" + name in www, name


def test_install_starts_nothing_and_creates_user_and_state(installed):
    assert all(installed_state(p) == "install ok installed" for p in PACKAGES)
    user = pwd.getpwnam("sealdrop")
    assert user.pw_uid < 1000 and user.pw_dir == STATE
    assert user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    assert grp.getgrgid(user.pw_gid).gr_name == "sealdrop"
    st = os.stat(STATE)
    assert st.st_uid == user.pw_uid and stat.S_IMODE(st.st_mode) == 0o700
    st = os.stat(ENV_FILE)
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
    # Enabled for when systemd runs (deb-systemd-helper needs no systemd).
    assert os.path.islink("/etc/systemd/system/sockets.target.wants/sealdropd.socket")
    assert not os.path.exists("/etc/nginx/sites-enabled/sealdrop")
    running = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink("/proc/%s/exe" % pid) == "/usr/sbin/sealdropd":
                running.append(pid)
        except OSError:
            pass
    assert running == [], "the install started sealdropd: %s" % running


@pytest.fixture(scope="module")
def site(installed, tmp_path_factory):
    """The installed sealdropd, as its user, on the packaged state directory,
    behind a private nginx running the installed site, snippets and pages."""
    prefix = tmp_path_factory.mktemp("site")
    os.chmod(prefix, 0o755)  # sealdropd, once it is sealdrop, works in it
    s = ProductionSite(prefix, "/usr/sbin/sealdropd", site=SITE, snippets="/etc/nginx/snippets",
                       www="/usr/share/sealdrop/www", db="sqlite:%s/sealdrop.db" % STATE,
                       daemon_args=["--user", "sealdrop", "--env-file", ENV_FILE]).start()
    yield s
    if s.daemon is not None:  # the purge test stops it first
        assert s.stop() == 0, s.daemon_log()


def cli(site, home, *args):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "SEALDROP_PASSPHRASE": PASSPHRASE,
           "SEALDROP_CA_FILE": site.cert}
    r = subprocess.run(["/usr/bin/sealdrop", "--identity", str(home / "identity")] + list(args),
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r.stdout


def test_installed_daemon_runs_as_its_user(site):
    with open("/proc/%d/status" % site.daemon.pid) as f:
        uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
    assert set(uids) == {str(pwd.getpwnam("sealdrop").pw_uid)}
    assert os.stat(STATE + "/sealdrop.db").st_uid == pwd.getpwnam("sealdrop").pw_uid


def test_round_trip_with_the_installed_client(site, tmp_path):
    cli(site, tmp_path, "init")
    link = cli(site, tmp_path, "register", "--server", site.url, "--name", "Package").strip()
    assert link.startswith(site.url + "/l/link_"), link
    text = "through the packaged stack"
    cli(site, tmp_path, "send", link, text)
    messages = json.loads(cli(site, tmp_path, "fetch", "--json"))
    assert [m["text"] for m in messages] == [text]


@pytest.mark.parametrize("path", ["/", "/inbox", "/l/link_x", "/r", "/js/receipt.js",
                                  "/vendor/libsodium-wrappers.js",
                                  "/vendor/qrcode.js", "/js/send.js"])
def test_installed_pages_are_served(site, path):
    r = requests.get(site.url + path, verify=site.cert)
    assert r.status_code == 200, path
    assert len(r.content) > 0


def test_purge_leaves_only_the_user(installed, site):
    # sealdropd writes into /var/lib/sealdrop: stop it before the purge.
    assert site.stop() == 0, site.daemon_log()
    assert os.path.exists(STATE + "/sealdrop.db")
    # The site enabled as docs/DEPLOY.md says: purge removes the link,
    # which would dangle and keep nginx from starting. (Only if nothing of
    # that name is there: not ours to replace.)
    made_link = link_left = False
    if os.path.isdir(os.path.dirname(ENABLED)) and not os.path.lexists(ENABLED):
        os.symlink("../sites-available/sealdrop", ENABLED)
        made_link = True
    try:
        r = installed.purge()
    finally:
        if made_link and os.path.islink(ENABLED) and \
                os.readlink(ENABLED) == "../sites-available/sealdrop":
            link_left = True
            os.unlink(ENABLED)  # ours: leave the system nginx no dangling link
    assert made_link, "%s exists already (or no sites-enabled): cannot test" % ENABLED
    assert not link_left, "purge left the enabled site's link " + ENABLED
    assert r is not None and r.returncode == 0, r and (r.stdout + r.stderr)
    assert [p for p in PACKAGES if installed_state(p)] == []
    left = [f for files in installed.files.values() for f in files
            if os.path.lexists(f) and not os.path.isdir(f)]
    assert left == [], left
    for path in (STATE, "/etc/sealdrop", SITE, "/usr/share/sealdrop",
                 "/etc/systemd/system/sockets.target.wants/sealdropd.socket",
                 "/var/lib/systemd/deb-systemd-helper-enabled/sealdropd.socket.dsh-also",
                 "/var/lib/systemd/deb-systemd-helper-enabled/sealdropd.service.dsh-also",
                 "/usr/share/doc/sealdropd"):
        assert not os.path.lexists(path), path
    # Policy keeps a system user: its id must not pass to someone else.
    assert pwd.getpwnam("sealdrop")
