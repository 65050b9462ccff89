"""The systemd units: they parse cleanly (systemd-analyze verify prints
nothing), systemd's own exposure score rates the service's sandbox, and each
hardening line docs/DEPLOY.md promises is there: its own user and group, the
socket's group (nginx's) set on the socket alone, no IP traffic, bounded
memory and tasks, a private umask, restarts on failure."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

UNITS = ["sealdropd.service", "sealdropd.socket"]
INSTALLED_BINARY = "/usr/sbin/sealdropd"


def parse_unit(name):
    """{section: {key: [values in order]}} of systemd/NAME."""
    sections, cur = {}, None
    with open(os.path.join(ROOT, "systemd", name)) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            m = re.match(r"^\[(\w+)\]$", line)
            if m:
                cur = sections.setdefault(m.group(1), {})
                continue
            key, _, value = line.partition("=")
            cur.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def service():
    return parse_unit("sealdropd.service")["Service"]


@pytest.fixture(scope="module")
def socket_unit():
    return parse_unit("sealdropd.socket")


@pytest.fixture
def unit_dir(tmp_path, sealdropd):
    """The units with ExecStart= pointed at the built binary (verify checks
    that it exists), and a MANPATH holding sealdropd(8) for Documentation=."""
    for name in UNITS:
        with open(os.path.join(ROOT, "systemd", name)) as f:
            text = f.read()
        (tmp_path / name).write_text(text.replace(INSTALLED_BINARY, sealdropd))
    (tmp_path / "man" / "man8").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "src", "server", "sealdropd.8"), tmp_path / "man" / "man8")
    return tmp_path


def test_units_name_the_installed_binary(service):
    assert all(cmd.split()[0] == INSTALLED_BINARY
               for cmd in service["ExecStart"] + service["ExecStartPre"])


def test_units_verify_cleanly(unit_dir):
    env = dict(os.environ, MANPATH=str(unit_dir / "man"))
    r = subprocess.run(["systemd-analyze", "verify"] + [str(unit_dir / n) for n in UNITS],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr


def test_systemd_rates_the_service_sandbox_ok(unit_dir):
    # systemd's own score, 0 (locked down) to 10 (exposed); "OK" is below 4.
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                        str(unit_dir / "sealdropd.service")], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for sealdropd\.service: (\d+\.\d)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, r.stdout


def test_service_runs_as_its_own_user_and_group_never_www_data(service):
    assert service["User"] == ["sealdrop"]
    assert service["Group"] == ["sealdrop"]
    assert "DynamicUser" not in service  # the package's system user owns the state
    assert service.get("SupplementaryGroups", [""]) == [""]
    with open(os.path.join(ROOT, "systemd", "sealdropd.service")) as f:
        assert "www-data" not in re.sub(r"#.*", "", f.read())


def test_service_takes_its_socket_from_the_socket_unit(service):
    assert service["StandardInput"] == ["socket"]
    assert not any("--listen" in cmd for cmd in service["ExecStart"])


def test_socket_group_is_nginx_s_and_only_group_may_connect(socket_unit):
    s = socket_unit["Socket"]
    assert s["ListenStream"] == ["/run/sealdrop/sealdropd.sock"]
    assert s["SocketUser"] == ["root"]
    assert s["SocketGroup"] == ["www-data"]
    assert s["SocketMode"] == ["0660"]
    assert socket_unit["Install"]["WantedBy"] == ["sockets.target"]


@pytest.mark.parametrize("key,value", [
    ("ProtectProc", "invisible"),
    ("ProcSubset", "pid"),
    ("RemoveIPC", "yes"),
    ("Restart", "on-failure"),
    ("IPAddressDeny", "any"),
    ("UMask", "0077"),
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("CapabilityBoundingSet", ""),
    ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ("StateDirectory", "sealdrop"),
    ("StateDirectoryMode", "0700"),
])
def test_service_hardening_line(service, key, value):
    assert service.get(key) == [value], "%s=%s expected, found %r" % (key, value, service.get(key))


def test_service_keeps_restarting_while_the_database_is_not_up():
    # ExecStartPre=--migrate fails until a remote database answers: the
    # restarts must not run into the start limit (the socket would stay
    # down), nor spin.
    unit = parse_unit("sealdropd.service")
    assert unit["Unit"].get("StartLimitIntervalSec") == ["0"]
    assert "StartLimitIntervalSec" not in unit["Service"]
    assert unit["Service"].get("Restart") == ["on-failure"]
    assert int(unit["Service"]["RestartSec"][0]) >= 2


@pytest.mark.parametrize("key", ["MemoryMax", "TasksMax"])
def test_service_resources_are_bounded(service, key):
    values = service.get(key, [])
    assert len(values) == 1 and values[0] not in ("", "infinity"), (key, values)
    assert re.fullmatch(r"\d+[KMG]?", values[0]), (key, values)
