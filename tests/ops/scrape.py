"""Scrape sealdropd's metrics listener and read the text strictly: every
line is checked against the exposition format's grammar first, then the
whole text goes through prometheus_client's parser."""

import re
import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*\})? (-?[0-9]+(?:\.[0-9]+)?|\+Inf|NaN)$"
                    % (NAME, LABEL, LABEL))
COMMENT = re.compile(r"^# (HELP|TYPE) (%s) (.+)$" % NAME)
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = ("_bucket", "_sum", "_count")


def get(url):
    """GET a metrics URL (http://127.0.0.1:PORT/metrics): status, headers, text."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8")


def raw(addr, request, family=socket.AF_INET):
    """Send raw bytes to the listener (a (host, port) or a unix path) and
    return everything it answers before closing."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(addr)
        s.sendall(request)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def check_grammar(text):
    """Every line a HELP, a TYPE or a sample; one TYPE per family, before
    its samples; no series twice. Returns {family: type}."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    types, seen = {}, set()
    for line in text.split("\n")[:-1]:
        m = COMMENT.match(line)
        if m:
            if m.group(1) == "TYPE":
                assert m.group(2) not in types, "second TYPE for " + m.group(2)
                assert m.group(3) in TYPES, line
                types[m.group(2)] = m.group(3)
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name = m.group(1)
        fam = name
        if name not in types:
            for suf in SUFFIXES:
                if name.endswith(suf) and name[:-len(suf)] in types:
                    fam = name[:-len(suf)]
        assert fam in types, "sample before (or without) its TYPE: %r" % line
        key = (name, m.group(2) or "")
        assert key not in seen, "series written twice: %r" % line
        seen.add(key)
    return types


def parse(text):
    """{(sample name, frozenset(labels)): value} through prometheus_client,
    after the grammar check; also the families by name."""
    check_grammar(text)
    families = list(text_string_to_metric_families(text))
    samples = {}
    for fam in families:
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, "duplicate sample %r" % (key,)
            samples[key] = s.value
    return families, samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)
