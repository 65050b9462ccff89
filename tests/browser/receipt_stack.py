"""A private stack for tests/browser/receipts.test.mjs: stack_serve.py's,
plus an nginx access log (the dev site writes none) so the test can check
that no receipt secret reaches it. Prints the URL first, then answers each
line on stdin:

    paths  ->  {"access_log": ..., "daemon_log": ...}   (one line of JSON)

and stops when stdin closes. The environment (SEALDROP_STATUS_INTERVAL...)
goes to sealdropd."""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stack  # noqa: E402

logs = tempfile.mkdtemp(prefix="sealdrop-receipt-logs-")
access_log = os.path.join(logs, "access.log")
s = stack.Stack(threads=4, extra_nginx="access_log %s;" % access_log).start()
try:
    print(s.url, flush=True)
    for line in sys.stdin:
        if line.strip() == "paths":
            print(json.dumps({"access_log": access_log, "daemon_log": s.log_path}), flush=True)
        else:
            print("unknown command", flush=True)
finally:
    s.stop()
    shutil.rmtree(logs, ignore_errors=True)
