"""Streamed response bodies (keel_res_stream_*) through the real server:
HTTP/1.1 gets the chunked coding and keeps the connection, HTTP/1.0 gets a
body that ends with the connection, HEAD gets the head only, a slow reader
holds back only its own handler, and a client leaving mid-stream leaves
the server serving."""
import socket
import threading
import time

import pytest

from keelserver import (fd_count, request, running, stable_fd_count,
                        wait_until)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("stream"), workers=1,
                 args=["--write-timeout", "2s"]) as s:
        yield s


def expected(n, size):
    return b"".join(bytes([ord("a") + i % 26]) * size for i in range(n))


def test_http11_stream_is_chunked_and_keeps_the_connection(server):
    with server.conn() as c:
        c.send(request("GET", "/stream?n=5&size=7") +
               request("GET", "/plaintext"))
        resp = c.read_response()
        assert resp.status == 200
        assert resp.header("transfer-encoding") == "chunked"
        assert resp.header("content-length") is None
        assert resp.body == expected(5, 7)
        follow = c.read_response()
        assert follow.status == 200 and follow.body == b"Hello, World!"


def test_empty_stream_is_a_valid_chunked_body(server):
    with server.conn() as c:
        c.send(request("GET", "/stream?n=0"))
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b""
        assert resp.header("transfer-encoding") == "chunked"


def test_http10_stream_is_close_delimited(server):
    with server.conn() as c:
        c.send(request("GET", "/stream?n=3&size=4", version="1.0"))
        data = c.read_until_close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding" not in head.lower()
    assert b"content-length" not in head.lower()
    assert body == expected(3, 4)


def test_head_of_a_stream_has_no_body(server):
    with server.conn() as c:
        c.send(request("HEAD", "/stream?n=3&size=4") +
               request("GET", "/plaintext"))
        resp = c.read_response(head=True)
        assert resp.status == 200
        assert resp.header("transfer-encoding") == "chunked"
        follow = c.read_response()
        assert follow.body == b"Hello, World!"


def test_big_stream_to_a_slow_reader_while_others_are_served(server):
    n, size = 400, 64 * 1024  # 25 MiB: far more than socket buffers
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    slow.sendall(request("GET", f"/stream?n={n}&size={size}", close=True))
    got = []

    def reader():
        while True:
            b = slow.recv(65536)
            if not b:
                return
            got.append(b)
            time.sleep(0.0005)

    t = threading.Thread(target=reader)
    t.start()
    # While that stream is throttled by its reader, others are answered.
    for _ in range(5):
        start = time.monotonic()
        resp = server.get("/plaintext")
        assert resp.status == 200
        assert time.monotonic() - start < 2.0
    t.join(timeout=60)
    assert not t.is_alive()
    slow.close()
    data = b"".join(got)
    head, _, chunked = data.partition(b"\r\n\r\n")
    body, rest = b"", chunked
    while True:
        line, _, rest = rest.partition(b"\r\n")
        size_ = int(line, 16)
        if size_ == 0:
            break
        body += rest[:size_]
        rest = rest[size_ + 2:]
    assert body == expected(n, size)


def test_client_leaving_mid_stream_leaves_the_server_serving(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(request("GET", "/stream?n=2000&size=65536"))
    s.recv(1000)
    s.close()
    time.sleep(0.2)
    resp = server.get("/plaintext")
    assert resp.status == 200


def test_stalled_reader_is_dropped_after_the_write_timeout(server):
    # The client never reads: once the socket buffers are full the handler
    # waits, the 2 s write timeout wakes it with an error, and the server
    # closes the connection without any help from the client.
    worker = server.workers()[0]
    baseline = stable_fd_count(worker)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(request("GET", "/stream?n=2000&size=65536"))
    try:
        assert wait_until(lambda: fd_count(worker) == baseline + 1, 5)
        assert wait_until(lambda: fd_count(worker) == baseline, 15), \
            "the stalled stream's connection was not closed"
        assert server.get("/plaintext").status == 200
    finally:
        s.close()
