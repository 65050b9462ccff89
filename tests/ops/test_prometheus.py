"""The exposition as Prometheus's own tools see it: promtool lints a scrape,
the scrape configuration and alert rules of docs/METRICS.md pass
promtool's checks, and a private Prometheus (loopback, temp directory,
stopped by PID) scrapes sealdropd and evaluates those rules."""

import json
import os
import re
import shutil
import signal
import subprocess
import urllib.parse
import urllib.request

import pytest
import requests

import scrape
import stack

DOC = os.path.join(stack.ROOT, "docs", "METRICS.md")


def doc_yaml(first_line):
    """The ```yaml block of docs/METRICS.md that starts with first_line."""
    with open(DOC) as f:
        blocks = re.findall(r"```yaml\n(.*?)```", f.read(), re.S)
    found = [b for b in blocks if b.startswith(first_line)]
    assert len(found) == 1, "no yaml block starting with %r in METRICS.md" % first_line
    return found[0]


@pytest.fixture(scope="module")
def mstack():
    port = stack.free_port()
    with stack.Stack(threads=2, env={"SEALDROP_METRICS": "127.0.0.1:%d" % port,
                                     "SEALDROP_METRICS_REFRESH": "1"}) as s:
        s.metrics_port = port
        yield s


def test_promtool_lints_a_scrape(mstack):
    requests.get(mstack.url + "/health")
    requests.get(mstack.url + "/nothing_here")
    status, _, text = scrape.get("http://127.0.0.1:%d/metrics" % mstack.metrics_port)
    assert status == 200
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (r.stdout, r.stderr)


def write_rules_and_config(d, target, interval=None):
    rules = os.path.join(d, "sealdrop.yml")
    with open(rules, "w") as f:
        f.write(doc_yaml("# /etc/prometheus/rules/sealdrop.yml"))
    conf = doc_yaml("# /etc/prometheus/prometheus.yml").replace(
        "/etc/prometheus/rules/sealdrop.yml", rules).replace('"127.0.0.1:9464"', '"%s"' % target)
    if interval:
        conf = conf.replace("scrape_interval: 15s", "scrape_interval: %s" % interval)
        conf = "global:\n  evaluation_interval: %s\n" % interval + conf
    path = os.path.join(d, "prometheus.yml")
    with open(path, "w") as f:
        f.write(conf)
    return rules, path


def test_prometheus_is_the_unpacked_deb_not_an_installed_package():
    # tests/ops/run puts the cache's usr/bin first on PATH.
    cache = os.path.realpath(os.environ["SEALDROP_PROMETHEUS_CACHE"])
    for tool in ("prometheus", "promtool"):
        found = shutil.which(tool)
        assert found and os.path.realpath(found).startswith(cache + os.sep), (tool, found)


def test_docs_rules_and_scrape_config_pass_promtool(temp_dir):
    d = temp_dir("sealdrop-promtool-")
    rules, conf = write_rules_and_config(d, "127.0.0.1:9464")
    r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 9 rules found" in r.stdout, r.stdout
    r = subprocess.run(["promtool", "check", "config", conf], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def prom_query(base, q):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_prometheus_scrapes_sealdropd_and_loads_the_rules(mstack, temp_dir):
    d = temp_dir("sealdrop-prometheus-")
    _, conf = write_rules_and_config(d, "127.0.0.1:%d" % mstack.metrics_port, interval="1s")
    port = stack.free_port()
    base = "http://127.0.0.1:%d" % port
    log = open(os.path.join(d, "prometheus.log"), "wb")
    prom = subprocess.Popen(["prometheus", "--config.file=" + conf,
                             "--storage.tsdb.path=" + os.path.join(d, "data"),
                             "--web.listen-address=127.0.0.1:%d" % port],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=d)

    def prom_log():
        with open(os.path.join(d, "prometheus.log"), errors="replace") as f:
            return f.read()[-3000:]

    try:
        for _ in range(3):
            assert requests.post(mstack.url + "/send", json={}).status_code == 400
        up = stack.wait_until(lambda: prom_query(base, 'up{job="sealdrop"} == 1'), timeout=60,
                              what="Prometheus to scrape sealdropd", detail=prom_log,
                              alive=stack.exited(prom, "prometheus"))
        assert up[0]["metric"]["instance"] == "drop1"
        got = stack.wait_until(lambda: prom_query(
            base, 'sealdrop_http_requests_total{route="/send",code="400"}'), timeout=60,
            what="the /send 400s in Prometheus", detail=prom_log)
        assert float(got[0]["value"][1]) == 3
        assert prom_query(base, "sealdrop_store_up")[0]["value"][1] == "1"

        def rules_evaluated():
            with urllib.request.urlopen(base + "/api/v1/rules", timeout=5) as r:
                groups = json.load(r)["data"]["groups"]
            rules = {r["name"]: r for g in groups for r in g["rules"]}
            assert len(rules) == 9
            assert all(r["health"] != "err" for r in rules.values()), rules
            return rules if all(r["health"] == "ok" for r in rules.values()) else None

        rules = stack.wait_until(rules_evaluated, timeout=60, what="every rule evaluated",
                                 detail=prom_log)
        # the service is healthy: no alert fires
        assert [n for n, r in rules.items() if r["state"] == "firing"] == []
    finally:
        prom.send_signal(signal.SIGTERM)
        try:
            prom.wait(30)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        log.close()
