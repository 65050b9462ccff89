"""A recipient living on the command line alone, against the real nginx +
sealdropd."""

import json
import os
import signal
import stat
import time

import requests
from nacl.public import PublicKey, SealedBox

import stack
from conftest import PASS, Cli, b64, link_parts, unb64url


def read_until(p, needle, timeout=20):
    """Lines of p's stdout until one contains needle (or the time is up)."""
    deadline = time.time() + timeout
    lines = []
    while time.time() < deadline:
        line = p.stdout.readline().decode()
        if line == "":
            break
        lines.append(line.rstrip("\n"))
        if needle in line:
            return lines
    raise AssertionError("%r never came; got %r" % (needle, lines))


def test_full_life_cycle(cli, srv, cli_path, tmp_path):
    """init, register, send, fetch, ack, watch, rotate-token, export/import,
    unregister: one recipient, start to end, through the CLI only."""
    cli("init")
    assert stat.S_IMODE(os.stat(cli.identity).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cli.identity)).st_mode) == 0o700
    link = cli("register", "--server", srv.url + "/", "--name", "Life Cycle").stdout.decode().strip()
    server, token, key = link_parts(link)
    assert server == srv.url and key

    # Anyone can send; the sender side needs no identity at all.
    sender = Cli(cli_path, str(tmp_path / "nobody" / "identity"))
    assert sender("send", link, "hello from a stranger").stdout.decode().startswith("sent (id ")
    assert not os.path.exists(sender.identity)
    cli("send", link, "-", input=b"second line\nand a third")

    msgs = json.loads(cli("fetch", "--json").stdout)
    assert [m["text"] for m in msgs] == ["hello from a stranger", "second line\nand a third"]
    assert all(m["seen"] is False and m["created_at"].endswith("Z") for m in msgs)
    text = cli("fetch").stdout.decode()
    assert "--- #%d " % msgs[0]["id"] in text and "second line\nand a third\n" in text

    assert cli("ack", str(msgs[0]["id"])).stdout.decode().strip() == "1 message(s) marked as seen"
    assert [m["text"] for m in json.loads(cli("fetch", "--json").stdout)] == \
        ["second line\nand a third"]

    # watch: what is unread, then what arrives.
    p = cli.popen("watch", "--interval", "1")
    try:
        read_until(p, "and a third")
        sender("send", link, "arrived while watching")
        read_until(p, "arrived while watching")
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(10) == 0

    new = cli("rotate-token").stdout.decode().strip()
    r = requests.post(srv.url + "/fetch", json={"link_token": token},
                      headers={"Authorization": "Bearer " + new})
    assert r.status_code == 200 and r.json()["count"] == 2

    backup = str(tmp_path / "backup.json")
    cli("export", backup)
    other = Cli(cli_path, str(tmp_path / "laptop" / "identity"))
    other("import", backup)
    assert other("link").stdout.decode().strip() == link
    assert "arrived while watching" in other("fetch").stdout.decode()

    cli("ack", "--all", "--delete")
    assert json.loads(cli("fetch", "--all", "--json").stdout) == []

    assert cli("unregister").stdout.decode().strip() == "inbox erased"
    assert requests.get(srv.url + "/key/" + token).status_code == 404
    assert "inbox" not in cli.doc()
    assert cli("link", check=False).returncode == 64
    # The identity itself survives and can register again.
    again = cli("register", "--server", srv.url).stdout.decode().strip()
    assert link_parts(again)[1] != token and link_parts(again)[2] == key


def test_init_writes_private_versioned_file(cli):
    r = cli("init")
    assert stat.S_IMODE(os.stat(cli.identity).st_mode) == 0o600
    doc = cli.doc()
    assert doc["sealdrop_identity"] == 1 and doc["kdf"] == "argon2id13"
    assert doc["opslimit"] == 3 and doc["memlimit"] == 67108864
    assert "inbox" not in doc
    assert PASS.encode() not in r.stdout + r.stderr
    before = open(cli.identity).read()
    again = cli("init", check=False)
    assert again.returncode == 74  # never replaces an identity silently
    assert open(cli.identity).read() == before
    cli("init", "--force")
    assert cli.doc()["public_key"] != doc["public_key"]


def test_default_identity_path_is_xdg(cli_path, tmp_path):
    c = Cli(cli_path, "unused", home=str(tmp_path))
    c("init", identity=False)
    path = tmp_path / "xdg" / "sealdrop" / "identity"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    env = c.env(None)
    del env["XDG_CONFIG_HOME"]
    import subprocess
    subprocess.run([cli_path, "init"], env=env, check=True, capture_output=True)
    assert os.path.exists(tmp_path / ".config" / "sealdrop" / "identity")


def test_register_prints_self_authenticating_link(cli, srv, inbox):
    server, token, key = link_parts(inbox)
    assert server == srv.url and token.startswith("link_")
    served = requests.get(srv.url + "/key/" + token).json()
    assert served["display_name"] == "CLI Tester"
    assert unb64url(key) == __import__("base64").b64decode(served["box_public_key"])
    assert cli("link").stdout.decode().strip() == inbox
    kept = cli.doc()["inbox"]
    sealed = kept.pop("sealed_fetch_token")  # the fetch token, sealed to our own key
    assert kept == {"server": srv.url, "link_token": token, "display_name": "CLI Tester"}
    assert len(__import__("base64").b64decode(sealed)) == 48 + 64
    # A second registration would orphan the inbox: refused without --force.
    r = cli("register", "--server", srv.url, check=False)
    assert r.returncode == 64 and "already has an inbox" in r.stderr.decode()
    assert cli("link").stdout.decode().strip() == inbox


def test_global_options_after_the_command(cli, srv, tmp_path):
    pf = tmp_path / "pass"
    pf.write_text(PASS + "\n")
    c = Cli(cli.binary, "nowhere", home=str(tmp_path))
    c("init", "--identity", cli.identity, "--passphrase-file", str(pf), passphrase=False,
      identity=False)
    c("register", "--server", srv.url, "--identity=" + cli.identity, identity=False)
    link = c("link", "--identity", cli.identity, identity=False).stdout.decode().strip()
    c("send", link, "options anywhere", identity=False)
    out = c("fetch", "--passphrase-file=" + str(pf), "--identity", cli.identity,
            passphrase=False, identity=False).stdout.decode()
    assert "options anywhere" in out


def test_fetch_pages_through_everything(cli, inbox, srv):
    server, token, key = link_parts(inbox)
    box = SealedBox(PublicKey(unb64url(key)))
    s = requests.Session()
    for i in range(235):
        r = s.post(srv.url + "/send", json={"link_token": token,
                                            "encrypted_message": b64(box.encrypt(b"m%d" % i))})
        assert r.status_code == 201
    msgs = json.loads(cli("fetch", "--json").stdout)
    assert [m["text"] for m in msgs] == ["m%d" % i for i in range(235)]  # oldest first
    assert len({m["id"] for m in msgs}) == 235
    # ack --all follows the pages too.
    assert cli("ack", "--all").stdout.decode().strip() == "235 message(s) marked as seen"
    assert json.loads(cli("fetch", "--json").stdout) == []
    assert len(json.loads(cli("fetch", "--all", "--json").stdout)) == 235


def test_fetch_ack_marks_exactly_what_was_shown(cli, inbox):
    cli("send", inbox, "one")
    cli("send", inbox, "two")
    shown = json.loads(cli("fetch", "--json", "--ack").stdout)
    assert [m["text"] for m in shown] == ["one", "two"]
    assert json.loads(cli("fetch", "--json").stdout) == []
    assert [m["seen"] for m in json.loads(cli("fetch", "--all", "--json").stdout)] == [True, True]


def test_ack_several_ids_and_delete(cli, inbox):
    for t in ("a", "b", "c", "d"):
        cli("send", inbox, t)
    ids = {m["text"]: m["id"] for m in json.loads(cli("fetch", "--json").stdout)}
    out = cli("ack", "%d,%d" % (ids["a"], ids["b"]), str(ids["c"])).stdout.decode().strip()
    assert out == "3 message(s) marked as seen"
    assert [m["text"] for m in json.loads(cli("fetch", "--json").stdout)] == ["d"]
    assert cli("ack", "--delete", str(ids["a"])).stdout.decode().strip() == "1 message(s) deleted"
    assert [m["text"] for m in json.loads(cli("fetch", "--all", "--json").stdout)] == \
        ["b", "c", "d"]


def test_watch_json_lines_and_ack(cli, inbox):
    cli("send", inbox, "first")
    p = cli.popen("watch", "--interval", "1", "--json", "--ack")
    try:
        first = json.loads(p.stdout.readline())
        assert first["text"] == "first"
        cli("send", inbox, "second")
        second = json.loads(p.stdout.readline())
        assert second["text"] == "second" and second["id"] > first["id"]
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
    assert json.loads(cli("fetch", "--json").stdout) == []


def test_watch_rides_out_a_server_restart(cli_path, tmp_path):
    """No answer or a 502 from nginx is worth waiting out; watch keeps going."""
    with stack.Stack(threads=2) as s:
        c = Cli(cli_path, str(tmp_path / "w" / "identity"))
        c("init")
        link = c("register", "--server", s.url).stdout.decode().strip()
        p = c.popen("watch", "--interval", "1")
        try:
            s.stop_daemon()
            time.sleep(2.5)
            assert p.poll() is None, p.stderr.read()
            if os.path.exists(s.sock):
                os.unlink(s.sock)
            s.start_daemon()
            c("send", link, "after the restart")
            read_until(p, "after the restart")
        finally:
            p.terminate()
            assert p.wait(10) == 0
        err = p.stderr.read().decode()
        assert any(w in err for w in ("502", "503", "cannot reach")), err


def test_export_import_round_trip(cli, inbox, cli_path, tmp_path):
    cli("send", inbox, "kept across machines")
    backup = str(tmp_path / "backup.json")
    assert cli("export", backup).stdout.decode().strip() == "identity exported to " + backup
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert json.load(open(backup)) == cli.doc()
    assert json.loads(cli("export", "-").stdout) == cli.doc()
    assert cli("export", backup, check=False).returncode == 74  # exists
    other = Cli(cli_path, str(tmp_path / "elsewhere" / "identity"))
    other("import", backup)
    assert stat.S_IMODE(os.stat(other.identity).st_mode) == 0o600
    assert other("link").stdout.decode().strip() == inbox
    assert "kept across machines" in other("fetch").stdout.decode()
    assert other("import", backup, check=False).returncode == 74  # exists
    bad = other("import", backup, "--force", passphrase="wrong passphrase", check=False)
    assert bad.returncode == 65
    assert bad.stderr.decode() == "sealdrop: wrong passphrase\n"
    assert cli("export", str(tmp_path / "x.json"), passphrase="nope", check=False).returncode == 65
    assert not os.path.exists(tmp_path / "x.json")


def test_unregister_forgets_the_inbox(cli, inbox, srv):
    token = link_parts(inbox)[1]
    cli("send", inbox, "gone soon")
    assert cli("unregister").stdout.decode().strip() == "inbox erased"
    assert requests.get(srv.url + "/key/" + token).status_code == 404
    assert "inbox" not in cli.doc()
    r = cli("fetch", check=False)
    assert r.returncode == 64 and "no inbox" in r.stderr.decode()
    r = cli("send", inbox, "to nowhere", check=False)
    assert r.returncode == 70 and "404" in r.stderr.decode()
