"""A webhook receiver for the test suites: an HTTP server on 127.0.0.1
(which the tests' stacks allow-list) that answers each POST with the next
status of its plan and records every request and connection."""

import http.server
import threading
import time


class Receiver:
    """An HTTP server on 127.0.0.1 answering each POST with the next status of
    plan (then `default`), recording what it got."""

    def __init__(self, tls_context=None):
        self.lock = threading.Lock()
        self.requests = []  # dicts: t, path, headers, body, status
        self.connections = 0
        self.plan = []
        self.default = 200
        self.location = None
        self.reply = b"ok"  # the body of every answer
        self.delay = 0.0  # seconds before answering
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(n, 65536))
                with rec.lock:
                    status = rec.plan.pop(0) if rec.plan else rec.default
                    rec.requests.append({"t": time.monotonic(), "path": self.path,
                                         "headers": dict(self.headers), "body": body,
                                         "status": status})
                time.sleep(rec.delay)
                self.send_response(status)
                if status in (301, 302, 303, 307, 308) and rec.location:
                    self.send_header("Location", rec.location)
                self.send_header("Content-Length", str(len(rec.reply)))
                self.end_headers()
                try:
                    self.wfile.write(rec.reply)
                except OSError:
                    pass  # the client stopped reading (a capped reply)

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address):
                with rec.lock:
                    rec.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls_context is not None:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook", scheme="http"):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def got(self, status=None):
        with self.lock:
            return [r for r in self.requests if status is None or r["status"] == status]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
