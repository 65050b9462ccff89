"""A recipient living on the command line alone."""

import base64
import json
import os
import stat
import time

import requests

from conftest import PASS


def test_init_writes_private_versioned_file(cli):
    r = cli("init")
    assert os.path.exists(cli.identity)
    assert stat.S_IMODE(os.stat(cli.identity).st_mode) == 0o600
    doc = json.load(open(cli.identity))
    assert doc["sealdrop_identity"] == 1 and doc["kdf"] == "argon2id13"
    assert "inbox" not in doc
    assert PASS.encode() not in r.stdout + r.stderr
    again = cli("init", check=False)
    assert again.returncode == 74  # never replaces an identity silently


def test_register_prints_self_authenticating_link(cli, srv, inbox):
    assert inbox.startswith(srv.url + "/l/link_")
    token, key = inbox.split("/l/")[1].split("#")
    served = requests.get(srv.url + "/key/" + token).json()
    assert served["display_name"] == "CLI Tester"
    assert base64.urlsafe_b64decode(key + "=") == base64.b64decode(served["box_public_key"])
    assert cli("link").stdout.decode().strip() == inbox


def test_send_fetch_ack_cycle(cli, inbox):
    out = cli("send", inbox, "first message").stdout.decode()
    assert out.startswith("sent (id ")
    cli("send", inbox, "-", input="second, from stdin\nwith two lines".encode())
    got = cli("fetch").stdout.decode()
    assert "first message" in got and "second, from stdin\nwith two lines" in got
    msgs = json.loads(cli("fetch", "--json").stdout)
    assert [m["text"] for m in msgs] == ["second, from stdin\nwith two lines", "first message"]
    assert all(m["seen"] is False for m in msgs)
    first = [m["id"] for m in msgs if m["text"] == "first message"][0]
    assert cli("ack", str(first)).stdout.decode().strip() == "1 message(s) marked as seen"
    unread = json.loads(cli("fetch", "--json").stdout)
    assert [m["text"] for m in unread] == ["second, from stdin\nwith two lines"]
    everything = json.loads(cli("fetch", "--all", "--json").stdout)
    assert {m["text"]: m["seen"] for m in everything} == {
        "first message": True, "second, from stdin\nwith two lines": False}
    cli("ack", "--all", "--delete")
    assert json.loads(cli("fetch", "--all", "--json").stdout) == []


def test_fetch_pages_through_everything(cli, inbox, srv):
    for i in range(205):
        cli("send", inbox, "m%d" % i) if i < 3 else None
    # The rest straight through the API, to keep the test quick.
    from nacl.public import PublicKey, SealedBox
    token, key = inbox.split("/l/")[1].split("#")
    box = SealedBox(PublicKey(base64.urlsafe_b64decode(key + "=")))
    s = requests.Session()
    for i in range(3, 205):
        s.post(srv.url + "/send", json={"link_token": token, "encrypted_message":
                                        base64.b64encode(box.encrypt(b"m%d" % i)).decode()})
    msgs = json.loads(cli("fetch", "--json").stdout)
    assert len(msgs) == 205
    assert sorted(m["text"] for m in msgs) == sorted("m%d" % i for i in range(205))


def test_watch_prints_new_messages(cli, inbox):
    cli("send", inbox, "before watching")
    p = cli.popen("watch", "--interval", "1")
    try:
        first = p.stdout.readline().decode()
        assert first.startswith("--- #")
        assert p.stdout.readline().decode().strip() == "before watching"
        cli("send", inbox, "arrived while watching")
        deadline = time.time() + 20
        lines = []
        while time.time() < deadline:
            lines.append(p.stdout.readline().decode().strip())
            if "arrived while watching" in lines:
                break
        assert "arrived while watching" in lines
    finally:
        p.terminate()
        assert p.wait(10) == 0


def test_rotate_token(cli, inbox, srv):
    token = inbox.split("/l/")[1].split("#")[0]
    new = cli("rotate-token").stdout.decode().strip()
    assert len(new) == 64
    r = requests.post(srv.url + "/fetch", json={"link_token": token},
                      headers={"Authorization": "Bearer " + new})
    assert r.status_code == 200


def test_export_import_round_trip(cli, inbox, cli_path, tmp_path):
    from conftest import Cli
    cli("send", inbox, "kept across machines")
    backup = str(tmp_path / "backup.json")
    cli("export", backup)
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    other = Cli(cli_path, str(tmp_path / "elsewhere" / "identity"))
    other("import", backup)
    assert other("link").stdout.decode().strip() == inbox
    assert "kept across machines" in other("fetch").stdout.decode()
    bad = other("import", backup, "--force", passphrase="wrong passphrase", check=False)
    assert bad.returncode == 65


def test_unregister(cli, inbox, srv):
    token = inbox.split("/l/")[1].split("#")[0]
    cli("send", inbox, "gone soon")
    assert cli("unregister").stdout.decode().strip() == "inbox erased"
    assert requests.get(srv.url + "/key/" + token).status_code == 404
    assert "inbox" not in json.load(open(cli.identity))
    r = cli("link", check=False)
    assert r.returncode == 64
