"""A scriptable HTTP server on loopback that plays a hostile or broken
sealdrop server: each test installs handlers per (method, path prefix) and
reads back the requests it received."""

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

    def _serve(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fake = self.server.fake
        fake.requests.append((method, self.path, body))
        fake.headers.append({k.lower(): v for k, v in self.headers.items()})
        handler = None
        for (m, prefix), h in fake.routes.items():
            if m == method and self.path.startswith(prefix):
                if handler is None or len(prefix) > handler[0]:
                    handler = (len(prefix), h)
        if handler is None:
            status, headers, out = 404, {}, json.dumps({"error": "not here"}).encode()
        else:
            status, headers, out = handler[1](self.path, body)
        if isinstance(out, (dict, list)):
            out = json.dumps(out).encode()
        self.send_response(status)
        headers = dict(headers)
        headers.setdefault("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        try:
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")


class FakeServer:
    def __init__(self, certfile=None, keyfile=None):
        self.routes = {}
        self.requests = []
        self.headers = []  # the request headers, lowercased names, in step with requests
        self.certfile = certfile
        self.keyfile = keyfile

    def route(self, method, prefix, fn):
        """fn(path, body) -> (status, headers, body: bytes | dict | list)"""
        self.routes[(method, prefix)] = fn

    def reply(self, method, prefix, status, body, headers=None):
        self.route(method, prefix, lambda p, b: (status, headers or {}, body))

    def paths(self):
        return [p for _, p, _ in self.requests]

    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        scheme = "http"
        if self.certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.certfile, self.keyfile)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
