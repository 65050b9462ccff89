"""Start a private stack for a test written in another language: prints the
URL on the first line of stdout, serves until stdin closes, then stops.

    /usr/bin/python3 tests/lib/stack_serve.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

s = stack.Stack(threads=4).start()
try:
    print(s.url, flush=True)
    sys.stdin.read()
finally:
    s.stop()
