"""Timeouts and slow clients through the real server: a slowloris client
dripping its head is cut at --header-timeout while other clients keep
being served, idle keep-alive connections close after --idle-timeout, a
stalled body gets 408 after --body-timeout, and a client that stops reading
is dropped after --write-timeout.

Timing bounds are generous (the sanitizer build on a loaded 2-core machine
can be slow) but every wait is bounded.
"""
import select
import time

import pytest

from keelserver import request, running

TIMEOUT_S = 1.0
ARGS = ["--header-timeout", "1s", "--idle-timeout", "1s",
        "--body-timeout", "1s", "--write-timeout", "1s"]
# A timeout of 1 s may fire a little late under load, never early.
EARLY, LATE = 0.8, 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("timeouts"), workers=1,
                 args=ARGS) as s:
        yield s


def readable(sock, wait=0.0):
    r, _, _ = select.select([sock], [], [], wait)
    return bool(r)


def time_to_close(conn, limit=5.0):
    """Seconds until the server's answer or close shows up on conn."""
    t0 = time.monotonic()
    assert readable(conn.sock, limit), "server never closed the connection"
    return time.monotonic() - t0


def check_408_or_close(conn):
    data = conn.read_until_close(timeout=5)
    if data:
        assert data.startswith(b"HTTP/1.1 408 "), data
        assert b"\r\nConnection: close\r\n" in data, data


def test_dripping_head_is_cut_while_others_are_served(server):
    head = b"GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100
    latencies = []
    with server.conn() as slow, server.conn() as fast:
        t0 = time.monotonic()
        cut_at = None
        for i in range(len(head)):
            try:
                slow.sock.sendall(head[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut_at = time.monotonic() - t0
                break
            # Another client on the same (single) worker meanwhile.
            t1 = time.monotonic()
            fast.send(request("GET", "/plaintext"))
            assert fast.read_response().body == b"Hello, World!"
            latencies.append(time.monotonic() - t1)
            if readable(slow.sock, 0.3):
                cut_at = time.monotonic() - t0
                break
        assert cut_at is not None, "the dripping client was never cut"
        assert EARLY <= cut_at <= LATE, cut_at
        check_408_or_close(slow)
    assert len(latencies) >= 3
    assert max(latencies) < 0.5, latencies


def test_silent_connection_is_closed(server):
    with server.conn() as c:
        took = time_to_close(c)
        assert EARLY <= took <= LATE, took
        check_408_or_close(c)


def test_idle_keepalive_connection_is_closed(server):
    with server.conn() as c:
        c.send(request("GET", "/plaintext"))
        assert c.read_response().status == 200
        took = time_to_close(c)
        assert EARLY <= took <= LATE, took
        c.assert_closed()


def test_busy_keepalive_connection_survives_the_idle_timeout(server):
    with server.conn() as c:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2.5 * TIMEOUT_S:
            c.send(request("GET", "/plaintext"))
            assert c.read_response().status == 200
            time.sleep(0.4 * TIMEOUT_S)
        assert not c.is_closed(0.1)


def test_stalled_body_gets_408(server):
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
               b"\r\nabc")
        time.sleep(0.2)
        c.send(b"de")  # a body byte read from the socket re-arms the timer
        took = time_to_close(c)
        assert EARLY <= took <= LATE, took
        resp = c.read_response()
        assert resp.status == 408
        assert resp.header("connection") == "close"
        c.assert_closed()


def test_slow_but_steady_body_is_accepted(server):
    # The body timeout bounds each silence, not the whole body.
    body = b"steady-body"
    with server.conn() as c:
        c.send(request("POST", "/echo", body)[:-len(body)])
        for i in range(len(body)):
            time.sleep(0.25 * TIMEOUT_S)
            c.send(body[i:i + 1])
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"POST /echo?\n" + body


def test_body_timeout_applies_right_after_the_head(keel_server):
    srv = keel_server(args=["--header-timeout", "3s", "--body-timeout",
                            "300ms"])
    with srv.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
               b"\r\nabc")
        took = time_to_close(c, limit=5)
        assert took < 1.5, f"cut after {took:.1f}s"


def test_client_that_stops_reading_is_dropped(server):
    n = 48 << 20
    with server.conn(timeout=15, rcvbuf=65536) as c:
        c.send(request("GET", f"/big?n={n}"))
        time.sleep(2.5 * TIMEOUT_S)  # read nothing: the server stalls
        # Meanwhile the worker still serves others.
        assert server.get("/plaintext").body == b"Hello, World!"
        got = 0
        c.sock.settimeout(10)
        while True:
            try:
                data = c.sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not data:
                break
            got += len(data)
        assert 0 < got < n, got


def test_slow_but_steady_reader_gets_everything(server):
    n = 3 << 20
    with server.conn(timeout=15, rcvbuf=65536) as c:
        c.send(request("GET", f"/big?n={n}"))
        got = bytearray()
        t0 = time.monotonic()
        body_at = None
        while time.monotonic() - t0 < 20:
            time.sleep(0.1)
            data = c.sock.recv(128 * 1024)
            if not data:
                break
            got += data
            if body_at is None and b"\r\n\r\n" in got:
                body_at = got.index(b"\r\n\r\n") + 4
            if body_at is not None and len(got) - body_at >= n:
                break
        assert got.startswith(b"HTTP/1.1 200 ")
        assert body_at is not None and len(got) - body_at == n
        assert time.monotonic() - t0 > 1.5 * TIMEOUT_S, "not slow enough"
