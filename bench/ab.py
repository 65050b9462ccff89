"""Two sealdropd binaries side by side: CPU time of the sealdropd process
per request, and requests/s, for /send and /fetch (Bearer, 50 msgs) on
SQLite, the binaries alternating round by round in one session. CPU per
request moves far less with what else the machine does than throughput.

    bench/run --ab OLD_SEALDROPD NEW_SEALDROPD [--rounds N] [--seconds N]
"""

import argparse
import os
import sys
import tempfile

import requests

import bench
import stack


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(binary, seconds):
    """{scenario: (req/s, µs of sealdropd CPU per request)} for one binary."""
    os.environ["SEALDROPD"] = binary
    out = {}
    env = dict(bench.LIMITS, SEALDROP_EVENTS_PUBLISH="")
    with stack.Stack(threads=16, env=env, own_sqlite=True, write_rate=1000000,
                     write_burst=1000000) as s, tempfile.TemporaryDirectory() as tmp:
        sendees = [bench.Inbox(s.url) for _ in range(16)]
        bodies = os.path.join(tmp, "send.txt")
        with open(bodies, "w") as f:
            f.write("".join(sendees[i % 16].body() + "\n" for i in range(2000)))
        reader = bench.Inbox(s.url)
        sess = requests.Session()
        for _ in range(60):
            sess.post(s.url + "/send", data=reader.body(),
                      headers={"Content-Type": "application/json"}).raise_for_status()
        pid = s.daemons[0].pid
        for title, script, wenv in (
                ("POST /send", "send.lua", {"BODIES": bodies}),
                ("POST /fetch (Bearer, 50 msgs)", "fetch.lua",
                 {"LINK": reader.link, "TOKEN": reader.reg["fetch_token"]})):
            bench.wrk(s.url, script, 1, wenv)  # warm-up
            c0 = cpu_seconds(pid)
            r = bench.wrk(s.url, script, seconds, wenv)
            out[title] = (r["req_s"], (cpu_seconds(pid) - c0) / r["total"] * 1e6)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=6)
    args = ap.parse_args()
    runs = {"old": [], "new": []}
    for rnd in range(args.rounds):
        for name in ("old", "new"):
            got = measure(os.path.abspath(getattr(args, name)), args.seconds)
            runs[name].append(got)
            for title, (req_s, us) in got.items():
                print("round %d %-3s %-30s %7d req/s  %6.1f us CPU/request" % (
                    rnd + 1, name, title, req_s, us), flush=True)
    print("\n| scenario | old req/s | new req/s | old µs CPU/req | new µs CPU/req | new/old CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    for title in runs["old"][0]:
        mean = {n: [sum(r[title][k] for r in runs[n]) / len(runs[n]) for k in (0, 1)]
                for n in runs}
        print("| %s | %d | %d | %.1f | %.1f | %.2f |" % (
            title, mean["old"][0], mean["new"][0], mean["old"][1], mean["new"][1],
            mean["new"][1] / mean["old"][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
