"""Request and response bodies through the real server: Content-Length and
chunked uploads (whole, split, byte by byte), Expect: 100-continue, the
--max-body limit, and large responses."""
import hashlib
import time

import pytest

from keelserver import request, running

MAX_BODY = 256 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("bodies"), workers=1,
                 args=["--max-body", MAX_BODY, "--body-timeout", "5s"]) as s:
        yield s


def pattern(n, seed=0):
    return bytes((i * 7 + seed) % 251 for i in range(n))


def chunked(data, sizes):
    """`data` in chunks of the given sizes (the rest in one), plus the
    last chunk."""
    out, pos = b"", 0
    for n in list(sizes) + [len(data)]:
        part = data[pos:pos + n]
        if part:
            out += b"%x\r\n" % len(part) + part + b"\r\n"
        pos += len(part)
    return out + b"0\r\n\r\n"


def chunked_head(path="/echo", extra=b""):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n"
            b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n")


# ------------------------------------------------------- Content-Length

def test_content_length_body_is_echoed(server):
    body = pattern(5000)
    with server.conn() as c:
        c.send(request("POST", "/echo/cl", body))
        resp = c.read_response()
        assert resp.status == 200
        assert resp.body == b"POST /echo/cl?\n" + body


def test_empty_body(server):
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        assert c.read_response().body == b"POST /echo?\n"


def test_body_arriving_in_pieces(server):
    body = pattern(3000, 3)
    with server.conn() as c:
        c.send(request("POST", "/echo", body)[:-len(body)])
        for i in range(0, len(body), 700):
            time.sleep(0.05)
            c.send(body[i:i + 700])
        assert c.read_response().body == b"POST /echo?\n" + body


def test_body_byte_by_byte(server):
    body = b"0123456789" * 20
    with server.conn() as c:
        c.send_bytewise(request("POST", "/echo", body))
        assert c.read_response().body == b"POST /echo?\n" + body


def test_body_at_limit_accepted(server):
    body = pattern(MAX_BODY, 1)
    with server.conn(timeout=30) as c:
        c.send(request("POST", "/echo", body))
        resp = c.read_response()
        assert resp.status == 200
        want = b"POST /echo?\n" + body
        assert hashlib.sha256(resp.body).digest() == \
            hashlib.sha256(want).digest()


def test_body_over_limit_is_413_before_any_body_byte(server):
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
               b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1))
        resp = c.read_response()
        assert resp.status == 413 and resp.header("connection") == "close"
        c.assert_closed()


def test_pipelined_after_content_length_body(server):
    with server.conn() as c:
        c.send(request("POST", "/echo?a=1", b"hello")
               + request("GET", "/echo?b=2"))
        assert c.read_response().body == b"POST /echo?a=1\nhello"
        assert c.read_response().body == b"GET /echo?b=2\n"


def test_client_vanishing_mid_body_leaves_server_serving(server):
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
               b"\r\nonly-part")
    assert server.get("/plaintext").body == b"Hello, World!"


# --------------------------------------------------------------- chunked

def test_chunked_upload_is_decoded(server):
    body = pattern(10000, 5)
    with server.conn() as c:
        c.send(chunked_head() + chunked(body, [1, 2, 4096, 100]))
        resp = c.read_response()
        assert resp.status == 200
        assert resp.body == b"POST /echo?\n" + body


def test_chunked_upload_byte_by_byte(server):
    body = b"chunky" * 10
    with server.conn() as c:
        c.send_bytewise(chunked_head() + chunked(body, [5, 17]))
        assert c.read_response().body == b"POST /echo?\n" + body


def test_chunked_upload_slow_chunks(server):
    body = pattern(2000, 9)
    wire = chunked(body, [500, 500, 500])
    with server.conn() as c:
        c.send(chunked_head())
        for i in range(0, len(wire), 333):
            time.sleep(0.03)
            c.send(wire[i:i + 333])
        assert c.read_response().body == b"POST /echo?\n" + body


def test_chunked_extensions_and_trailers_are_dropped(server):
    wire = (b"3;name=value;x\r\nabc\r\n2 ; q=\"a b\"\r\nde\r\n"
            b"0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n")
    with server.conn() as c:
        c.send(chunked_head() + wire)
        assert c.read_response().body == b"POST /echo?\nabcde"


def test_chunked_empty_body(server):
    with server.conn() as c:
        c.send(chunked_head() + b"0\r\n\r\n")
        assert c.read_response().body == b"POST /echo?\n"


def test_chunked_then_next_request_later(server):
    with server.conn() as c:
        c.send(chunked_head("/echo?q=1") + chunked(b"abc", []))
        assert c.read_response().body == b"POST /echo?q=1\nabc"
        c.send(request("GET", "/echo?q=2"))
        assert c.read_response().body == b"GET /echo?q=2\n"


def test_chunked_then_pipelined_request_in_same_send(server):
    with server.conn() as c:
        c.send(chunked_head("/echo?q=1") + chunked(b"abc", [])
               + request("GET", "/echo?q=2"))
        first = c.read_response()
        second = c.read_response()
        assert second.body == b"GET /echo?q=2\n"
        assert first.body == b"POST /echo?q=1\nabc"


# ------------------------------------------------------------ 100-continue

def test_expect_100_continue_interim_then_final(server):
    body = pattern(4000, 2)
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body))
        # The client waits for the interim response before the body.
        assert c.read_interim(timeout=5) == 100
        c.send(body)
        resp = c.read_response()
        assert resp.status == 200 and resp.interim == []
        assert resp.body == b"POST /echo?\n" + body


def test_expect_100_continue_chunked(server):
    with server.conn() as c:
        c.send(chunked_head(extra=b"Expect: 100-Continue\r\n"))
        assert c.read_interim(timeout=5) == 100
        c.send(chunked(b"xyz", [1]))
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"POST /echo?\nxyz"


def test_expect_100_continue_refused_body_gets_no_100(server):
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1))
        resp = c.read_response()
        assert resp.interim == [], "no 100 for a body that is refused"
        assert resp.status == 413
        assert resp.header("connection") == "close"
        c.assert_closed()


def test_expect_100_continue_body_already_sent(server):
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               b"Content-Length: 3\r\n\r\nabc")
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"POST /echo?\nabc"
        assert [s for s, _, _ in resp.interim] in ([], [100])


def test_expect_100_continue_without_body_gets_no_100(server):
    with server.conn() as c:
        c.send(b"GET /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               b"\r\n")
        resp = c.read_response()
        assert resp.status == 200 and resp.interim == []


def test_expect_100_continue_ignored_for_http10(server):
    # RFC 9110 10.1.1: a server must not send 100 to an HTTP/1.0 client.
    with server.conn() as c:
        c.send(b"POST /echo HTTP/1.0\r\nExpect: 100-continue\r\n"
               b"Content-Length: 2\r\n\r\n")
        c.assert_silent(0.5)
        c.send(b"hi")
        resp = c.read_response()
        assert resp.interim == [] and resp.body == b"POST /echo?\nhi"


# ------------------------------------------------------- large responses

def big_body(n):
    abc = b"abcdefghijklmnopqrstuvwxyz"
    return (abc * (n // 26 + 1))[:n]


@pytest.mark.parametrize("n", [0, 1, 16383, 16384, 100000, 5000000])
def test_big_response_is_complete(server, n):
    with server.conn(timeout=30) as c:
        c.send(request("GET", f"/big?n={n}"))
        resp = c.read_response()
        assert resp.status == 200
        assert int(resp.header("content-length")) == n
        assert resp.body == big_body(n)
        # The connection is still in step for the next request.
        c.send(request("GET", "/plaintext"))
        assert c.read_response().body == b"Hello, World!"


def test_big_responses_pipelined_and_read_slowly(server):
    sizes = [300000, 20, 70000, 1]
    with server.conn(timeout=30) as c:
        c.send(b"".join(request("GET", f"/big?n={n}") for n in sizes))
        time.sleep(0.3)  # let the server hit a full socket buffer
        for n in sizes:
            resp = c.read_response()
            assert resp.status == 200 and resp.body == big_body(n)


def test_head_of_big_response_has_length_but_no_body(server):
    with server.conn() as c:
        c.send(request("HEAD", "/big?n=100000") + request("GET", "/pid"))
        resp = c.read_response(head=True)
        assert resp.status == 200
        assert resp.header("content-length") == "100000"
        follow = c.read_response()
        assert follow.status == 200 and follow.body.strip().isdigit()


def test_deep_pipeline_of_big_responses_with_backpressure(server):
    # 64 x 64 KiB is beyond the 1 MiB of queued output after which the
    # server stops reading: it must pause, not drop or reorder.
    reqs = b"".join(request("GET", f"/big?n={65536 - i}") for i in range(64))
    with server.conn(timeout=30, rcvbuf=65536) as c:
        c.send(reqs)
        time.sleep(0.5)
        for i in range(64):
            resp = c.read_response()
            assert resp.status == 200 and resp.body == big_body(65536 - i)
        c.send(request("GET", "/plaintext"))
        assert c.read_response().body == b"Hello, World!"
