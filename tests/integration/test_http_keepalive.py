"""Persistent connections and pipelining through the real server
(RFC 9112 section 9): HTTP/1.1 keeps the connection by default, HTTP/1.0
only when asked (and says so), Connection: close is honoured, pipelined
responses come back strictly in request order, and the responses without a
body (HEAD, 1xx-free 204, 304) are framed right."""
import pytest

from keelserver import request, running


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("keepalive"), workers=1,
                 args=["--max-requests", "50"]) as s:
        yield s


def pid_of(conn):
    conn.send(request("GET", "/pid"))
    resp = conn.read_response()
    assert resp.status == 200
    return int(resp.body)


def test_http11_keeps_the_connection_by_default(server):
    with server.conn() as c:
        pids = set()
        for _ in range(5):
            c.send(request("GET", "/pid"))
            resp = c.read_response()
            assert resp.status == 200
            assert resp.header("connection") is None
            pids.add(int(resp.body))
        assert len(pids) == 1
        c.assert_silent(0.2)


def test_http11_connection_close_is_honoured(server):
    with server.conn() as c:
        c.send(request("GET", "/plaintext", close=True)
               + request("GET", "/pid"))
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"Hello, World!"
        assert resp.header("connection") == "close"
        c.assert_closed()


def test_http11_connection_close_among_other_tokens(server):
    with server.conn() as c:
        c.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n"
               b"Connection: keep-alive, Close\r\n\r\n")
        assert c.read_response().header("connection") == "close"
        c.assert_closed()


def test_http10_closes_by_default(server):
    with server.conn() as c:
        c.send(b"GET /plaintext HTTP/1.0\r\n\r\n"
               b"GET /pid HTTP/1.0\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"Hello, World!"
        assert resp.header("connection") == "close"
        c.assert_closed()


def test_http10_keep_alive_is_echoed_and_kept(server):
    with server.conn() as c:
        for _ in range(3):
            c.send(b"GET /echo/ten HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            resp = c.read_response()
            assert resp.status == 200 and resp.body == b"GET /echo/ten?\n"
            assert resp.header("connection").lower() == "keep-alive"
        # Without the token the next answer closes.
        c.send(b"GET /echo/ten HTTP/1.0\r\n\r\n")
        assert c.read_response().header("connection") == "close"
        c.assert_closed()


def test_pipelining_16_deep_in_one_send(server):
    reqs = b"".join(request("GET", f"/echo/{i}?n={i}") for i in range(16))
    with server.conn() as c:
        c.send(reqs)
        for i in range(16):
            resp = c.read_response()
            assert resp.status == 200
            assert resp.body == f"GET /echo/{i}?n={i}\n".encode(), i
        c.assert_silent(0.2)


def test_pipelined_slow_first_request_keeps_order(server):
    # The first handler sleeps on its coroutine; the quick ones behind it
    # must still be answered after it, in order.
    reqs = request("GET", "/sleep?ms=300") + b"".join(
        request("GET", f"/echo/{i}") for i in range(5))
    with server.conn() as c:
        c.send(reqs)
        assert c.read_response().body == b"slept\n"
        for i in range(5):
            assert c.read_response().body == f"GET /echo/{i}?\n".encode()


def test_pipelined_mixed_methods_and_bodies(server):
    reqs = (request("POST", "/echo/a", b"one")
            + request("HEAD", "/plaintext")
            + request("GET", "/status?code=204")
            + request("PUT", "/echo/b", b"two")
            + request("GET", "/status?code=304")
            + request("DELETE", "/echo/c")
            + request("GET", "/nope"))
    with server.conn() as c:
        c.send(reqs)
        assert c.read_response().body == b"POST /echo/a?\none"
        head = c.read_response(head=True)
        assert head.status == 200 and head.header("content-length") == "13"
        assert c.read_response().status == 204
        assert c.read_response().body == b"PUT /echo/b?\ntwo"
        assert c.read_response().status == 304
        assert c.read_response().body == b"DELETE /echo/c?\n"
        assert c.read_response().status == 404


def test_pipelined_byte_by_byte(server):
    reqs = b"".join(request("GET", f"/echo/{i}") for i in range(4))
    with server.conn() as c:
        c.send_bytewise(reqs)
        for i in range(4):
            assert c.read_response().body == f"GET /echo/{i}?\n".encode()


def test_pipeline_with_close_in_the_middle_stops_there(server):
    reqs = (request("GET", "/echo/1") + request("GET", "/echo/2", close=True)
            + request("GET", "/echo/3"))
    with server.conn() as c:
        c.send(reqs)
        assert c.read_response().body == b"GET /echo/1?\n"
        last = c.read_response()
        assert last.body == b"GET /echo/2?\n"
        assert last.header("connection") == "close"
        c.assert_closed()


def test_head_has_content_length_but_no_body(server):
    with server.conn() as c:
        c.send(request("HEAD", "/plaintext"))
        resp = c.read_response(head=True)
        assert resp.status == 200
        assert resp.header("content-length") == "13"
        assert resp.header("content-type") == "text/plain"
        # No body bytes may follow: the next response starts right away.
        c.assert_silent(0.3)
        assert c.buf == b""
        assert pid_of(c) > 0


def test_head_of_error_response_has_no_body(server):
    with server.conn() as c:
        c.send(request("HEAD", "/nope") + request("GET", "/pid"))
        resp = c.read_response(head=True)
        assert resp.status == 404
        assert int(resp.header("content-length")) > 0
        follow = c.read_response()
        assert follow.status == 200 and follow.body.strip().isdigit()


def test_204_has_no_body_and_no_content_length(server):
    with server.conn() as c:
        c.send(request("GET", "/status?code=204") + request("GET", "/pid"))
        resp = c.read_response()
        assert resp.status == 204
        assert resp.header("content-length") is None
        assert resp.header("transfer-encoding") is None
        follow = c.read_response()
        assert follow.status == 200 and follow.body.strip().isdigit()


def test_304_has_no_body(server):
    with server.conn() as c:
        c.send(request("GET", "/status?code=304") + request("GET", "/pid"))
        resp = c.read_response()
        assert resp.status == 304
        assert resp.header("transfer-encoding") is None
        cl = resp.header("content-length")
        assert cl is None or cl.isdigit()
        follow = c.read_response()
        assert follow.status == 200 and follow.body.strip().isdigit()


@pytest.mark.parametrize("code", [201, 400, 404, 418, 500, 503, 599])
def test_status_codes_pass_through(server, code):
    with server.conn() as c:
        c.send(request("GET", f"/status?code={code}"))
        resp = c.read_response()
        assert resp.status == code
        assert resp.header("content-length") == "0"


@pytest.mark.parametrize("code", [-1, 0, 99, 600, 1000])
def test_out_of_range_status_becomes_500(server, code):
    with server.conn() as c:
        c.send(request("GET", f"/status?code={code}"))
        resp = c.read_response()
        assert resp.status == 500


@pytest.mark.parametrize("code", [100, 150])
def test_informational_status_from_handler_is_not_final(server, code):
    # RFC 9110 15.2: 1xx responses are interim; a request must still get
    # a final (2xx-5xx) response.
    with server.conn() as c:
        c.send(request("GET", f"/status?code={code}"))
        resp = c.read_response(timeout=1)
        assert resp.status == 500


def test_max_requests_per_connection(server):
    with server.conn() as c:
        for i in range(49):
            c.send(request("GET", "/plaintext"))
            assert c.read_response().header("connection") is None, i
        c.send(request("GET", "/plaintext") + request("GET", "/pid"))
        resp = c.read_response()
        assert resp.status == 200 and resp.header("connection") == "close"
        c.assert_closed()


def test_date_and_server_headers(server):
    resp = server.get("/plaintext")
    assert resp.header("server") == "keel"
    assert resp.header("date").endswith(" GMT")
    assert resp.count("date") == 1 and resp.count("content-length") == 1
