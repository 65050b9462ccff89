"""The systemd units parse cleanly (systemd-analyze verify prints nothing)."""

import os
import subprocess

from conftest import ROOT


def test_units_verify_cleanly(tmp_path, sealdropd):
    names = ["sealdropd.service", "sealdropd-fcgi.socket", "sealdropd-fcgi.service"]
    for name in names:
        with open(os.path.join(ROOT, "systemd", name)) as f:
            text = f.read()
        # verify checks that ExecStart exists: point it at the built binary.
        (tmp_path / name).write_text(text.replace("/usr/local/sbin/sealdropd", sealdropd))
    r = subprocess.run(["systemd-analyze", "verify"] + [str(tmp_path / n) for n in names],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr


def test_service_is_sandboxed():
    with open(os.path.join(ROOT, "systemd", "sealdropd.service")) as f:
        unit = f.read()
    for directive in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict",
                      "PrivateTmp=yes", "ProtectHome=yes", "CapabilityBoundingSet=\n",
                      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"):
        assert directive in unit, directive
