"""The cost of one request in CGI mode (shared hosting: a process per
request), measured two ways: wall time with hyperfine, and instructions
with valgrind's callgrind (repeatable whatever the machine is doing).

    bench/run --cgi
"""

import base64
import json
import os
import re
import subprocess
import tempfile

from nacl.public import SealedBox
from nacl.signing import SigningKey

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.environ.get("SEALDROPD", os.path.join(ROOT, "build", "sealdropd"))


def cgi_env(db, method, path, body):
    return {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method, "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
            "REMOTE_ADDR": "192.0.2.1", "SEALDROP_DB": db, "BASE_URL": "https://x",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def call(db, method, path, body=b""):
    r = subprocess.run([BIN], input=body, env=cgi_env(db, method, path, body),
                       capture_output=True, check=True)
    return json.loads(r.stdout.split(b"\r\n\r\n", 1)[1])


def main():
    tmp = tempfile.mkdtemp(prefix="sealdrop-cgi-bench-")
    db = "sqlite:" + os.path.join(tmp, "cgi.db")
    sk = SigningKey.generate()
    reg = call(db, "POST", "/register",
               json.dumps({"public_key": base64.b64encode(bytes(sk.verify_key)).decode()}).encode())
    box = SealedBox(sk.verify_key.to_curve25519_public_key())
    for _ in range(50):
        call(db, "POST", "/send", json.dumps({
            "link_token": reg["link_token"],
            "encrypted_message": base64.b64encode(box.encrypt(b"x" * 200)).decode()}).encode())
    fetch = json.dumps({"link_token": reg["link_token"], "include_seen": True}).encode()
    body_file = os.path.join(tmp, "fetch.json")
    with open(body_file, "wb") as f:
        f.write(fetch)
    rows = []
    for name, method, path, body_path in (("GET /health", "GET", "/health", "/dev/null"),
                                          ("POST /fetch (Bearer, 50 msgs)", "POST", "/fetch",
                                           body_file)):
        size = os.path.getsize(body_path)
        env = cgi_env(db, method, path, b"x" * size)
        env["HTTP_AUTHORIZATION"] = "Bearer " + reg["fetch_token"]
        exports = " ".join("%s='%s'" % kv for kv in env.items())
        cmd = "env -i %s %s < %s > /dev/null" % (exports, BIN, body_path)
        out = os.path.join(tmp, "h.json")
        subprocess.run(["hyperfine", "--warmup", "5", "--runs", "200", "-S", "sh",
                        "--export-json", out, cmd], check=True, capture_output=True)
        h = json.load(open(out))["results"][0]
        cg = os.path.join(tmp, "cg.out")
        with open(body_path, "rb") as stdin:
            subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, BIN],
                           stdin=stdin, env=env, capture_output=True, check=True)
        ann = subprocess.run(["callgrind_annotate", cg], capture_output=True, text=True).stdout
        m = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann)
        total = int(m.group(1).replace(",", "")) if m else 0
        top = [l.strip() for l in ann.splitlines() if re.match(r"\s*[\d,]+ \(\s*\d", l)][1:6]
        rows.append((name, h["mean"] * 1000, h["stddev"] * 1000, total, top))
    print("| CGI request | mean | stddev | instructions (callgrind) |")
    print("|---|---:|---:|---:|")
    for name, mean, sd, total, _ in rows:
        print("| %s | %.2f ms | %.2f ms | %s |" % (name, mean, sd, format(total, ",")))
    for name, _, _, _, top in rows:
        print("\ntop of %s:" % name)
        for line in top:
            print("  " + line)


if __name__ == "__main__":
    main()
