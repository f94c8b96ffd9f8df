#!/usr/bin/env python3
"""Memory cost of idle keep-alive connections on one server process.

Reads the server process's VmRSS, opens N connections to HOST:PORT, sends
one keep-alive GET on each and reads its whole response (so the server has
gone through a full request and is back to waiting), waits for the server
to settle, reads VmRSS again, then closes everything.  Prints one line:

    conns=N ok=N failed=0 rss_before_kib=... rss_with_kib=... per_conn_bytes=...

RSS counts user-space memory only; the kernel's socket buffers are not in
it (they are the same for every server and shown by `ss -m`).

usage: idleconns.py PID HOST PORT PATH N [SETTLE_SECONDS]
"""
import resource
import socket
import sys
import time

READ_TIMEOUT = 5.0


def vm_rss_kib(pid):
    """VmRSS of pid in KiB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def raise_nofile(want):
    """Lift the soft descriptor limit as far as needed (up to the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def read_response(sock):
    """Read one response with a Content-Length body; return its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the head ended")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return status


def open_one(host, port, request):
    """A connected socket that has had one 200 answer, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(READ_TIMEOUT)
        s.connect((host, port))
        s.sendall(request)
        if read_response(s) == 200:
            return s
    except (OSError, ValueError, IndexError):
        pass
    s.close()
    return None


def main(argv):
    if len(argv) not in (6, 7):
        sys.stderr.write(__doc__)
        return 2
    pid, host, port = int(argv[1]), argv[2], int(argv[3])
    path, n = argv[4], int(argv[5])
    # Longer than keel's one-second keep-alive buffer grace
    # (src/http/conn.c IDLE_SHRINK_MS): idle connections are measured idle.
    settle = float(argv[6]) if len(argv) == 7 else 2.5
    limit = raise_nofile(n + 64)
    if limit < n + 16:
        n = limit - 16
        sys.stderr.write(f"idleconns: descriptor limit {limit}, using {n}\n")
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
               .encode("ascii"))
    time.sleep(settle)
    before = vm_rss_kib(pid)
    socks, failed = [], 0
    for _ in range(n):
        s = open_one(host, port, request)
        if s is None:
            failed += 1
        else:
            socks.append(s)
    time.sleep(settle)
    with_conns = vm_rss_kib(pid)
    per_conn = (with_conns - before) * 1024 / max(len(socks), 1)
    print(f"conns={n} ok={len(socks)} failed={failed} "
          f"rss_before_kib={before} rss_with_kib={with_conns} "
          f"per_conn_bytes={per_conn:.0f}", flush=True)
    for s in socks:
        s.close()
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
