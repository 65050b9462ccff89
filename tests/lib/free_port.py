"""Print a free loopback port below the kernel's ephemeral range. A server
that is stopped and started again keeps its port; one from the ephemeral
range could meanwhile become some connection's source port, and the
server would then fail to start again."""

import random
import socket

low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    port = random.randrange(10000, max(low, 10001))
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit("free_port.py: no free port below %d" % low)
