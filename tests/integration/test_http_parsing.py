"""Request parsing through the real server: every parser rule of
include/keel/http.h, on the wire.

Each malformed request is sent whole and then one byte per segment, with a
well-formed request pipelined right behind it in the same send.  The server
must answer the precise status with a small JSON error body and
"Connection: close", then close, and the follow-up must get no answer: once
the framing is broken nothing after it can be trusted (RFC 9112 section
11.2, request smuggling).
"""
import json

import pytest

from keelserver import request, running

MAX_BODY = 4096
FOLLOW = b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n"
RL = b"GET / HTTP/1.1\r\n"
OKH = b"Host: t\r\n\r\n"
POST = b"POST /echo HTTP/1.1\r\nHost: t\r\n"
TE = b"Transfer-Encoding: "


def many_fields(n, size):
    return b"".join(b"X-F%d: %s\r\n" % (i, b"v" * size) for i in range(n))


# (id, bytes, status).  Statuses follow RFC 9110/9112 as include/keel/http.h
# documents them.
BAD = [
    # ------------------------------------------------------- request line
    ("lowercase-method", b"get / HTTP/1.1\r\n" + OKH, 501),
    ("unknown-method", b"FOO / HTTP/1.1\r\n" + OKH, 501),
    ("trace", b"TRACE / HTTP/1.1\r\n" + OKH, 501),
    ("connect", b"CONNECT a.example:443 HTTP/1.1\r\n" + OKH, 501),
    ("method-not-token", b"G(T / HTTP/1.1\r\n" + OKH, 400),
    ("two-spaces", b"GET  / HTTP/1.1\r\n" + OKH, 400),
    ("trailing-space", b"GET / HTTP/1.1 \r\n" + OKH, 400),
    ("no-version", b"GET /\r\n" + OKH, 400),
    ("http-2.0", b"GET / HTTP/2.0\r\n" + OKH, 505),
    ("http-1.2", b"GET / HTTP/1.2\r\n" + OKH, 505),
    ("http-0.9", b"GET / HTTP/0.9\r\n" + OKH, 505),
    ("lowercase-http", b"GET / http/1.1\r\n" + OKH, 400),
    ("version-junk", b"GET / HTTP/1.1x\r\n" + OKH, 400),
    ("long-request-line",
     b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + OKH, 414),
    ("long-leading-empty-lines", b"\r\n" * 4200 + RL + OKH, 414),
    # ------------------------------------------------------ target bytes
    ("control-in-target", b"GET /a\x01 HTTP/1.1\r\n" + OKH, 400),
    ("del-in-target", b"GET /a\x7f HTTP/1.1\r\n" + OKH, 400),
    ("non-ascii-target", b"GET /caf\xc3\xa9 HTTP/1.1\r\n" + OKH, 400),
    ("fragment", b"GET /a#f HTTP/1.1\r\n" + OKH, 400),
    ("bad-escape", b"GET /a%zz HTTP/1.1\r\n" + OKH, 400),
    ("backslash", b"GET /a\\b HTTP/1.1\r\n" + OKH, 400),
    ("bare-cr-in-target", b"GET /a\rb HTTP/1.1\r\n" + OKH, 400),
    ("relative-target", b"GET a/b HTTP/1.1\r\n" + OKH, 400),
    ("asterisk-with-get", b"GET * HTTP/1.1\r\n" + OKH, 400),
    ("userinfo", b"GET http://u@a/ HTTP/1.1\r\n" + OKH, 400),
    # ------------------------------------------------ path decoding rules
    ("escaped-nul", b"GET /a%00b HTTP/1.1\r\n" + OKH, 400),
    ("escaped-slash", b"GET /a%2Fb HTTP/1.1\r\n" + OKH, 400),
    ("escaped-backslash", b"GET /a%5cb HTTP/1.1\r\n" + OKH, 400),
    ("dotdot-above-root", b"GET /../etc/passwd HTTP/1.1\r\n" + OKH, 400),
    ("dotdot-deep", b"GET /a/../../b HTTP/1.1\r\n" + OKH, 400),
    ("escaped-dotdot", b"GET /%2e%2e/b HTTP/1.1\r\n" + OKH, 400),
    ("invalid-utf8", b"GET /%ff HTTP/1.1\r\n" + OKH, 400),
    # ------------------------------------------------------------ headers
    ("missing-host", RL + b"\r\n", 400),
    ("duplicate-host", RL + b"Host: a\r\nHost: a\r\n\r\n", 400),
    ("host-with-space", RL + b"Host: a b\r\n\r\n", 400),
    ("host-bad-port", RL + b"Host: a:99999\r\n\r\n", 400),
    ("space-before-colon", RL + b"Host : t\r\n\r\n", 400),
    ("name-not-token", RL + b"Host: t\r\nX(y: 1\r\n\r\n", 400),
    ("no-colon", RL + b"Host: t\r\nX-A b\r\n\r\n", 400),
    ("obs-fold", RL + b"Host: t\r\nX: a\r\n b\r\n\r\n", 400),
    ("space-before-first-field", RL + b" Host: t\r\n\r\n", 400),
    ("nul-in-value", RL + b"Host: t\r\nX: a\0b\r\n\r\n", 400),
    ("bare-cr-in-value", RL + b"Host: t\r\nX: a\rb\r\n\r\n", 400),
    ("del-in-value", RL + b"Host: t\r\nX: a\x7f\r\n\r\n", 400),
    ("lf-then-crlf", RL + b"Host: t\n\r\n", 400),
    ("crlf-after-lf-line", b"GET / HTTP/1.1\nHost: t\r\n\n", 400),
    ("bad-connection", RL + b"Host: t\r\nConnection: c(\r\n\r\n", 400),
    ("expect-other", RL + b"Host: t\r\nExpect: 200-ok\r\n\r\n", 417),
    ("expect-list", RL + b"Host: t\r\nExpect: 100-continue, x\r\n\r\n",
     417),
    ("field-too-long", RL + b"Host: t\r\nX: " + b"a" * 9000 + b"\r\n\r\n",
     431),
    ("too-many-fields", RL + b"Host: t\r\n" + many_fields(101, 1) + b"\r\n",
     431),
    ("head-too-big", RL + b"Host: t\r\n" + many_fields(40, 1000) + b"\r\n",
     431),
    # ----------------------------------------------- smuggling / framing
    ("cl-then-te", POST + b"Content-Length: 3\r\n" + TE + b"chunked\r\n\r\n",
     400),
    ("te-then-cl", POST + TE + b"chunked\r\nContent-Length: 3\r\n\r\n", 400),
    ("te-space-colon", POST + b"Transfer-Encoding : chunked\r\n\r\n", 400),
    ("te-xchunked", POST + TE + b"xchunked\r\n\r\n", 400),
    ("te-chunked-twice", POST + TE + b"chunked, chunked\r\n\r\n", 400),
    ("te-two-lines", POST + TE + b"chunked\r\n" + TE + b"chunked\r\n\r\n",
     400),
    ("te-gzip-alone", POST + TE + b"gzip\r\n\r\n", 400),
    ("te-chunked-not-last", POST + TE + b"chunked, gzip\r\n\r\n", 400),
    ("te-quoted", POST + TE + b"\"chunked\"\r\n\r\n", 400),
    ("te-vertical-tab", POST + TE + b"\x0bchunked\r\n\r\n", 400),
    ("te-obs-fold", POST + b"Transfer-Encoding:\r\n chunked\r\n\r\n", 400),
    ("te-in-http10", b"POST /echo HTTP/1.0\r\n" + TE + b"chunked\r\n\r\n",
     400),
    ("te-gzip-chunked", POST + TE + b"gzip, chunked\r\n\r\n", 501),
    ("cl-duplicate-equal",
     POST + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
    ("cl-plus", POST + b"Content-Length: +1\r\n\r\nx", 400),
    ("cl-minus", POST + b"Content-Length: -1\r\n\r\n", 400),
    ("cl-list", POST + b"Content-Length: 1,1\r\n\r\nx", 400),
    ("cl-inner-space", POST + b"Content-Length: 1 2\r\n\r\n", 400),
    ("cl-hex", POST + b"Content-Length: 0x10\r\n\r\n", 400),
    ("cl-empty", POST + b"Content-Length:\r\n\r\n", 400),
    ("cl-overflow", POST + b"Content-Length: 18446744073709551616\r\n\r\n",
     400),
    ("cl-over-max-body",
     POST + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413),
    # --------------------------------------------------- chunked bodies
    ("chunk-size-not-hex", POST + TE + b"chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
     400),
    ("chunk-data-no-crlf",
     POST + TE + b"chunked\r\n\r\n2\r\nabXX0\r\n\r\n", 400),
    ("chunk-size-17-digits",
     POST + TE + b"chunked\r\n\r\n" + b"0" * 16 + b"1\r\nx\r\n0\r\n\r\n",
     400),
    ("chunk-size-huge", POST + TE + b"chunked\r\n\r\n" + b"f" * 16 + b"\r\n",
     413),
    ("chunk-ext-too-long", POST + TE + b"chunked\r\n\r\n1;x=" + b"e" * 4100
     + b"\r\nx\r\n0\r\n\r\n", 400),
    ("chunk-bare-lf", POST + TE + b"chunked\r\n\r\n1\nx\r\n0\r\n\r\n", 400),
    ("chunked-over-max-body",
     POST + TE + b"chunked\r\n\r\n%x\r\n" % (MAX_BODY + 1)
     + b"a" * (MAX_BODY + 1) + b"\r\n0\r\n\r\n", 413),
    ("chunked-sum-over-max-body",
     POST + TE + b"chunked\r\n\r\n" + b"800\r\n" + b"a" * 0x800 + b"\r\n"
     + b"801\r\n" + b"b" * 0x801 + b"\r\n0\r\n\r\n", 413),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("parsing"), workers=1,
                 args=["--max-body", MAX_BODY]) as srv:
        yield srv


def send(conn, data, mode):
    if mode == "whole":
        conn.send(data)
    else:
        conn.send_bytewise(data)


def check_rejected(conn, want):
    resp = conn.read_response()
    assert resp.status == want, resp
    assert resp.header("connection") == "close", resp
    assert resp.header("content-type") == "application/json", resp
    assert int(resp.header("content-length")) == len(resp.body)
    assert len(resp.body) < 200
    err = json.loads(resp.body)
    assert isinstance(err.get("error"), str) and err["error"], err
    # The pipelined follow-up must not be answered: only EOF comes.
    conn.assert_closed()


@pytest.mark.parametrize("mode", ["whole", "bytewise"])
@pytest.mark.parametrize("name,data,status", BAD, ids=[c[0] for c in BAD])
def test_malformed_request_is_refused_and_closed(server, name, data, status,
                                                 mode):
    with server.conn() as c:
        send(c, data + FOLLOW, mode)
        check_rejected(c, status)


def test_enough_malformed_cases():
    assert len(BAD) >= 35
    assert {s for _, _, s in BAD} == {400, 413, 414, 417, 431, 501, 505}


def test_server_survives_every_refusal(server):
    # After all the refusals above, the same worker still answers.
    resp = server.get("/plaintext")
    assert resp.status == 200 and resp.body == b"Hello, World!"
    assert server.workers() == server.wait_workers(1)


# Valid but unusual requests: answered, and the connection stays usable
# for the pipelined request behind them.
GOOD = [
    ("absolute-form", b"GET http://Example.com:8080/echo/a?b=c HTTP/1.1\r\n"
     b"Host: other\r\n\r\n", b"GET /echo/a?b=c\n"),
    ("leading-empty-lines", b"\r\n\r\nGET /echo/e HTTP/1.1\r\n" + OKH,
     b"GET /echo/e?\n"),
    ("lf-only-head", b"GET /echo/lf HTTP/1.1\nHost: t\nX: y\n\n",
     b"GET /echo/lf?\n"),
    ("dot-segments-inside", b"GET /echo/a/./b/../c HTTP/1.1\r\n" + OKH,
     b"GET /echo/a/c?\n"),
    ("escapes-decoded", b"GET /echo/%41%20b?q=%2F HTTP/1.1\r\n" + OKH,
     b"GET /echo/A b?q=%2F\n"),
    ("browser-bytes", b"GET /echo/a|b^[c] HTTP/1.1\r\n" + OKH,
     b"GET /echo/a|b^[c]?\n"),
    ("query-visible-bytes", b"GET /echo?a=\"<>{}\\|` HTTP/1.1\r\n" + OKH,
     b"GET /echo?a=\"<>{}\\|`\n"),
    ("tabs-and-utf8-in-value",
     b"GET /echo HTTP/1.1\r\nHost: t\r\nX: caf\xc3\xa9\t(x)\r\n\r\n",
     b"GET /echo?\n"),
    ("empty-value", b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Empty:\r\n\r\n",
     b"GET /echo?\n"),
    ("cl-leading-zeros", POST + b"Content-Length: 003\r\n\r\nabc",
     b"POST /echo?\nabc"),
    ("te-case-and-spaces", POST + b"transfer-encoding:\t Chunked \t\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", b"POST /echo?\nabc"),
    ("chunked-with-trailer", POST + TE + b"chunked\r\n\r\n"
     b"3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", b"POST /echo?\nabc"),
    ("body-at-max", POST + b"Content-Length: %d\r\n\r\n" % MAX_BODY
     + b"z" * MAX_BODY, b"POST /echo?\n" + b"z" * MAX_BODY),
    ("options-asterisk", b"OPTIONS * HTTP/1.1\r\n" + OKH, None),
]


def good_params():
    for name, data, body in GOOD:
        for mode in ["pipelined", "bytewise"]:
            yield pytest.param(name, data, body, mode,
                               id=f"{name}-{mode}")


@pytest.mark.parametrize("name,data,body,mode", good_params())
def test_unusual_but_valid_request_is_served(server, name, data, body, mode):
    # "pipelined": the request and a follow-up in one send; "bytewise":
    # each sent a byte at a time, the follow-up after the answer.
    with server.conn() as c:
        if mode == "pipelined":
            c.send(data + FOLLOW)
        else:
            c.send_bytewise(data)
        resp = c.read_response()
        assert resp.status == (404 if body is None else 200), resp
        if body is not None:
            assert resp.body == body
        assert resp.header("connection") is None, resp
        if mode == "bytewise":
            c.send_bytewise(FOLLOW)
        follow = c.read_response()
        assert follow.status == 200 and follow.body.strip().isdigit()


def test_http10_without_host_is_served(server):
    with server.conn() as c:
        c.send(b"GET /echo/old HTTP/1.0\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"GET /echo/old?\n"
        assert resp.header("connection") == "close"
        c.assert_closed()


def test_method_names_reach_the_handler(server):
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]:
        with server.conn() as c:
            c.send(request(method, "/echo/m", close=True))
            resp = c.read_response()
            assert resp.status == 200
            assert resp.body == f"{method} /echo/m?\n".encode()
            assert resp.header("x-method") == method


def test_unknown_path_is_json_404_and_keeps_connection(server):
    with server.conn() as c:
        c.send(request("GET", "/nope") + request("GET", "/plaintext"))
        resp = c.read_response()
        assert resp.status == 404
        assert json.loads(resp.body) == {"error": "not found"}
        assert c.read_response().body == b"Hello, World!"
