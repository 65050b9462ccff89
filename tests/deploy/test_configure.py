"""configure names the Debian package of a library it cannot find."""

import os
import subprocess

from conftest import ROOT


def test_missing_library_names_its_debian_package(tmp_path):
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path / "empty"), PKG_CONFIG_PATH="")
    r = subprocess.run([os.path.join(ROOT, "configure"), "-q"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert "libsodium not found: install the Debian package libsodium-dev" in r.stderr


def test_missing_libfcgi_is_named(tmp_path):
    # Autoconf's cache variable stands in for a machine without the header.
    env = dict(os.environ, ac_cv_header_fcgiapp_h="no")
    r = subprocess.run([os.path.join(ROOT, "configure"), "-q"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert "fcgiapp.h not found: install the Debian package libfcgi-dev" in r.stderr
