"""CORS over real sockets: tests/apps/limitserver allows the origin
https://app.example with credentials.

Covered: a preflight answered 204 with the policy (by the middleware,
before the router's automatic OPTIONS answer); preflights refused with
403 and no CORS headers for a foreign origin, method or header; actual
requests with and without an allowed origin; Vary: Origin; the wildcard
never appearing next to credentials; preflights not charged to a rate
limit, and a 429 that a browser page can read.
"""
import pytest

from keelserver import request, running

APP = "tests/apps/limitserver"
SITE = "https://app.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("corsserver"), workers=2,
                 binary=APP) as srv:
        yield srv


def call(server, method, path, headers=""):
    with server.conn() as c:
        c.send(request(method, path, headers=headers, close=True))
        return c.read_response(head=(method == "HEAD"))


def preflight(server, path, origin, method, req_headers=None):
    h = f"Origin: {origin}\r\nAccess-Control-Request-Method: {method}\r\n"
    if req_headers is not None:
        h += f"Access-Control-Request-Headers: {req_headers}\r\n"
    return call(server, "OPTIONS", path, h)


def vary(r):
    tokens = set()
    for k, v in r.header_list:
        if k.lower() == "vary":
            tokens |= {t.strip().lower() for t in v.split(",")}
    return tokens


def cors_headers(r):
    return {k.lower() for k, _ in r.header_list
            if k.lower().startswith("access-control-")}


def test_preflight_is_answered_with_the_policy(server):
    r = preflight(server, "/api/data", SITE, "PUT",
                  "content-type,authorization")
    assert r.status == 204, r
    assert r.header("access-control-allow-origin") == SITE
    assert r.header("access-control-allow-credentials") == "true"
    methods = {m.strip() for m in
               r.header("access-control-allow-methods").split(",")}
    assert {"PUT", "DELETE"} <= methods
    assert r.header("access-control-allow-headers").lower() == \
        "content-type, authorization"
    assert r.header("access-control-max-age") == "300"
    assert "origin" in vary(r)
    assert r.header("allow") is None, "answered before the router"
    assert r.body == b""


@pytest.mark.parametrize("origin,method,headers", [
    ("https://evil.example", "PUT", "content-type"),
    ("https://app.example.evil.example", "PUT", None),
    ("http://app.example", "PUT", None),
    ("null", "PUT", None),
    (SITE, "CONNECT", None),
    (SITE, "PUT", "x-not-allowed"),
])
def test_preflight_refusals_have_no_cors_headers(server, origin, method,
                                                 headers):
    r = preflight(server, "/api/data", origin, method, headers)
    assert r.status == 403
    assert cors_headers(r) == set(), r.header_list
    assert "origin" in vary(r)


def test_actual_requests(server):
    r = call(server, "PUT", "/api/data", f"Origin: {SITE}\r\n")
    assert r.status == 200 and r.body == b'{"method":"PUT"}'
    assert r.header("access-control-allow-origin") == SITE
    assert r.header("access-control-allow-credentials") == "true"
    assert r.header("access-control-expose-headers") == \
        "RateLimit-Remaining, Retry-After"
    assert r.count("access-control-allow-origin") == 1
    assert "origin" in vary(r)
    r = call(server, "GET", "/api/data", "Origin: https://evil.example\r\n")
    assert r.status == 200, "CORS does not stop the server answering"
    assert cors_headers(r) == set()
    assert "origin" in vary(r)
    r = call(server, "GET", "/api/data")
    assert cors_headers(r) == set() and "origin" in vary(r)
    for resp in (call(server, "GET", "/api/data", f"Origin: {SITE}\r\n"),
                 call(server, "GET", "/missing", f"Origin: {SITE}\r\n")):
        assert resp.header("access-control-allow-origin") != "*"
    r = call(server, "GET", "/missing", f"Origin: {SITE}\r\n")
    assert r.status == 404
    assert r.header("access-control-allow-origin") == SITE


def test_preflights_are_free_and_429_is_readable(server):
    for _ in range(6):
        r = preflight(server, "/tiny", SITE, "GET", "authorization")
        assert r.status == 204
        assert r.header("ratelimit-limit") is None
    statuses = [call(server, "GET", "/tiny", f"Origin: {SITE}\r\n")
                for _ in range(4)]
    assert [r.status for r in statuses] == [200, 200, 200, 429]
    last = statuses[-1]
    assert last.header("access-control-allow-origin") == SITE
    assert last.header("retry-after") is not None
