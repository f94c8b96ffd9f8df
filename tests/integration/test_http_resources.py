"""Resource use of the real server: a worker's descriptors and memory come
back to where they were after a mixed workload (no leaked sockets, buffers
or coroutine stacks), and thousands of idle connections do not slow down a
request from someone else."""
import socket
import threading
import time

import pytest

from keelserver import (fd_count, raise_nofile, request, rss_kib, running,
                        stable_fd_count, wait_until)

# Freed memory must be reusable for RSS to mean anything: without this the
# sanitizer holds every freed block back in its quarantine (256 MB).
NO_QUARANTINE = {"ASAN_OPTIONS": "quarantine_size_mb=0:"
                 "allocator_release_to_os_interval_ms=0"}

# Once warmed up, the worker's RSS may still move a little: allocator size
# classes fill in different orders, the access pattern touches a few new
# pages.  Measured growth over several rounds was 100-300 KiB; a leak of one
# 4 KiB read buffer per connection would add ~2.4 MiB over the 600
# connections of three rounds, so 1 MiB separates the two.
RSS_SLACK_KIB = 1024


def workload(srv):
    """One round of everything that allocates per connection or request."""
    conns = [srv.conn() for _ in range(200)]
    for c in conns:
        c.send(request("GET", "/plaintext"))
    for c in conns:
        assert c.read_response().status == 200
        c.close()
    assert len(srv.get("/big?n=4000000", timeout=30).body) == 4000000
    with srv.conn() as c:
        c.send(b"".join(request("POST", "/echo", b"x" * 50000)
                        for _ in range(16)))
        for _ in range(16):
            assert c.read_response().status == 200
    with srv.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n"
               + b"1000\r\n" + b"c" * 4096 + b"\r\n" + b"0\r\n\r\n")
        assert c.read_response().status == 200
    with srv.conn() as c:  # a refusal
        c.send(b"GET / HTTP/1.1\r\n\r\n")
        assert c.read_response().status == 400
    with srv.conn() as c:  # a client that leaves mid-request
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n")
    threads = [threading.Thread(target=srv.get, args=("/sleep?ms=200",))
               for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    srv.get("/offload?ms=10")


def settled_fds(pid, want, timeout=5.0):
    """fd count of pid once it equals `want` (connections finish closing
    asynchronously), or the last count seen."""
    last = [None]

    def check():
        last[0] = fd_count(pid)
        return last[0] == want
    wait_until(check, timeout)
    return last[0]


def test_fds_and_rss_return_to_baseline(tmp_path):
    with running(tmp_path, workers=1, env=NO_QUARANTINE) as srv:
        (worker,) = srv.workers()
        workload(srv)  # warm-up: pools and caches reach their size
        fds0 = stable_fd_count(worker)
        rss0 = rss_kib(worker)
        for _ in range(3):
            workload(srv)
        assert settled_fds(worker, fds0) == fds0
        rss1 = rss_kib(worker)
        assert rss1 <= rss0 + RSS_SLACK_KIB, (rss0, rss1)
        assert srv.workers() == [worker], "the worker must not have died"


IDLE = 5000


def test_5000_idle_connections_do_not_delay_a_probe(tmp_path):
    raise_nofile(IDLE + 500)
    with running(tmp_path, workers=1, args=["--header-timeout", "60s",
                                            "--idle-timeout", "60s"]) as srv:
        (worker,) = srv.workers()
        base = stable_fd_count(worker)
        idle = []
        try:
            t0 = time.monotonic()
            for _ in range(IDLE):
                s = socket.create_connection(("127.0.0.1", srv.port),
                                             timeout=10)
                idle.append(s)
                assert time.monotonic() - t0 < 60, "connecting too slowly"
            # Every one of them is accepted and held by the worker.
            assert wait_until(lambda: fd_count(worker) >= base + IDLE, 20), \
                fd_count(worker)
            for _ in range(5):
                t1 = time.monotonic()
                resp = srv.get("/plaintext", timeout=5)
                took = time.monotonic() - t1
                assert resp.status == 200 and took < 1.0, took
            # An old idle connection is still served too.
            idle[0].sendall(request("GET", "/plaintext"))
            idle[0].settimeout(5)
            assert idle[0].recv(4096).startswith(b"HTTP/1.1 200 ")
        finally:
            for s in idle:
                s.close()
        assert settled_fds(worker, base, timeout=20) == base


@pytest.mark.parametrize("n", [2000])
def test_connection_churn_leaves_no_descriptors(tmp_path, n):
    with running(tmp_path, workers=1) as srv:
        (worker,) = srv.workers()
        srv.get("/plaintext")
        base = stable_fd_count(worker)
        for i in range(n):
            with srv.conn() as c:
                if i % 2:
                    c.send(request("GET", "/plaintext"))
                    c.read_response()
                # even ones close without a word
        assert settled_fds(worker, base, timeout=10) == base


def test_max_connections_queues_the_excess(tmp_path):
    with running(tmp_path, workers=1, args=["--max-connections", "2"]) as srv:
        a, b = srv.conn(), srv.conn()
        try:
            for c in (a, b):
                c.send(request("GET", "/plaintext"))
                assert c.read_response().status == 200
            with srv.conn() as c:
                # A third connection waits in the backlog, unserved...
                c.send(request("GET", "/plaintext"))
                with pytest.raises(TimeoutError):
                    c.read_response(timeout=0.5)
                # ...until a slot frees up.
                a.close()
                assert c.read_response(timeout=5).status == 200
        finally:
            a.close()
            b.close()
