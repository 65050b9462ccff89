"""The client's reply and text handling under libFuzzer (tests/cli/
fuzz_replies.c), with ASan and UBSan, from a corpus made here: real pages
with messages sealed to the harness's fixed identity, challenge replies,
send replies, message bodies, links, receipt answers and envelopes. FUZZ_SECONDS sets the time
(default 20)."""

import json
import os
import subprocess
import sys

from nacl.public import SealedBox
from nacl.signing import SigningKey

from conftest import ROOT, b64

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import envelope  # noqa: E402

SOURCES = ["reply", "jsonv", "b64", "text", "message", "link", "cli", "envelope"]


def corpus(d):
    box = SigningKey(b"\x42" * 32).verify_key.to_curve25519_public_key()
    seal = lambda t: b64(SealedBox(box).encrypt(t))  # noqa: E731
    page = {"data": [{"id": 1, "encrypted_message": seal(b"hello\n--- #2 x"),
                      "created_at": "2026-01-01T00:00:00Z", "seen": False,
                      "metadata": {"a": 1}},
                     {"id": 2, "encrypted_message": seal(b"\xff\x1b[2J"), "seen": True},
                     {"id": 3, "encrypted_message": None}],
            "has_more": True, "next_cursor": 3}
    challenge = {"challenge": b64(os.urandom(32)), "expires_in": 300, "purpose": "delete",
                 "origin": "http://127.0.0.1:8080", "form": "sealdrop-v1"}
    rk = envelope.reply_keypair(b"r" * 32)[0]
    receipt = {"link_token": "link_" + "A" * 32, "thread_id": 5, "status": "read",
               "status_released_at": 1764000000,
               "messages": [{"id": 5, "status": "read", "created_at": 1}],
               "replies": [{"id": 1, "created_at": 2,
                            "encrypted_reply": b64(envelope.seal(envelope.envelope("hi"), rk))}]}
    seeds = [bytes([0]) + json.dumps(page).encode(),
             bytes([5]) + json.dumps(dict(page, has_more=False)).encode(),
             bytes([1]) + json.dumps(challenge).encode(),
             bytes([2]) + json.dumps({"data": [{"id": 7}], "id": 9}).encode(),
             bytes([3]) + b"line\n---\n--- #1\r\x1b]0;x\x07\xc2\x9b\xe2\x80\xae",
             bytes([3]) + "a\n\u200b--- #9\n\u200d\ufe0f--- #8\n\u2066---".encode(),
             bytes([4]) + b"HTTPS://User@Example.ORG:443/l/link_abc#" + b"A" * 43,
             bytes([4]) + b"http://[::1]:8080/sub",
             bytes([0xF0]) + json.dumps(receipt).encode(),
             bytes([0xF8]) + envelope.envelope("hé\n", b"k" * 32),
             bytes([0xF9]) + envelope.envelope("x" * 1000)]
    # Envelopes inside messages too: a page of them.
    page["data"][0]["encrypted_message"] = seal(envelope.envelope("in a thread", b"k" * 32))
    page["data"][0].update(thread_id=1, replies=2)
    seeds.append(bytes([10]) + json.dumps(page).encode())
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed%d" % i), "wb") as f:
            f.write(s)


def test_reply_handling_survives_the_fuzzer(tmp_path):
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libsodium", "json-c"],
                           check=True, capture_output=True, text=True).stdout.split()
    binary = str(tmp_path / "fuzz_replies")
    build = subprocess.run(
        ["clang", "-g", "-O1", "-fno-omit-frame-pointer", "-fsanitize=fuzzer,address,undefined",
         "-fno-sanitize-recover=undefined", "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "src"),
         "-o", binary, os.path.join(ROOT, "tests", "cli", "fuzz_replies.c")] +
        [os.path.join(ROOT, "src", "client", s + ".c") for s in SOURCES] + flags,
        capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    seeds, work = tmp_path / "seeds", tmp_path / "work"
    seeds.mkdir()
    work.mkdir()
    corpus(str(seeds))
    secs = int(os.environ.get("FUZZ_SECONDS", "20"))
    r = subprocess.run([binary, "-max_total_time=%d" % secs, "-timeout=10",
                        "-rss_limit_mb=2048", "-close_fd_mask=3", "-print_final_stats=1",
                        "-artifact_prefix=%s/" % tmp_path, str(work), str(seeds)],
                       capture_output=True, text=True, timeout=secs + 120)
    assert r.returncode == 0, r.stderr[-6000:]
    runs = [line for line in r.stderr.splitlines() if "number_of_executed_units" in line]
    assert runs and int(runs[0].split()[-1]) > 1000, r.stderr[-2000:]
