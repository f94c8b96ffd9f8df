"""Rate limits over real sockets: tests/apps/limitserver served by two
worker processes, which share their token buckets through a shared-memory
table made before the fork.

Covered: a budget hammered from many connections at once (both workers
serving) grants exactly its size, not once per worker; the 429 that follows
carries Retry-After and the RateLimit headers; the headers count down on
admitted requests; the login budget answers identically for an existing
and an unknown account, and locks an account whatever the password.
"""
import json
import threading

import pytest

from keelserver import request, running

APP = "tests/apps/limitserver"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("limitserver"), workers=2,
                 binary=APP) as srv:
        yield srv


def call(server, method, path, body=b"", headers=""):
    with server.conn() as c:
        c.send(request(method, path, body=body, headers=headers, close=True))
        return c.read_response()


def test_budget_is_shared_by_all_workers(server):
    """150 requests from 30 concurrent connections for a budget of 50."""
    results = []
    lock = threading.Lock()

    def client():
        for _ in range(5):
            r = call(server, "GET", "/limited")
            with lock:
                results.append(r)

    threads = [threading.Thread(target=client) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 150
    statuses = [r.status for r in results]
    assert statuses.count(200) == 50, statuses
    assert statuses.count(429) == 100, statuses
    workers = {r.header("x-worker") for r in results}
    granted_by = {r.header("x-worker") for r in results if r.status == 200}
    assert len(workers) == 2, "both workers must have served"
    assert len(granted_by) == 2, "both workers granted from one budget"
    for r in results:
        assert r.header("ratelimit-limit") == "50"
        assert r.header("ratelimit-policy") == "50;w=3600"
        if r.status == 429:
            assert r.header("ratelimit-remaining") == "0"
            assert 1 <= int(r.header("retry-after")) <= 72
            assert json.loads(r.body)["errors"]["rate_limit"]
    # Still refused afterwards, whichever worker answers.
    for _ in range(6):
        assert call(server, "GET", "/limited").status == 429


def test_headers_count_down_then_429(server):
    seen = []
    for _ in range(3):
        r = call(server, "GET", "/tiny")
        assert r.status == 200
        assert r.header("retry-after") is None
        seen.append((r.header("ratelimit-remaining"),
                     int(r.header("ratelimit-reset"))))
    assert [s[0] for s in seen] == ["2", "1", "0"]
    resets = [s[1] for s in seen]
    assert 1199 <= resets[0] <= 1200 and 2399 <= resets[1] <= 2400
    assert 3599 <= resets[2] <= 3600
    r = call(server, "GET", "/tiny")
    assert r.status == 429
    assert r.header("content-type") == "application/json"
    assert 1199 <= int(r.header("retry-after")) <= 1200
    assert r.header("ratelimit-limit") == "3"
    assert r.header("ratelimit-remaining") == "0"
    assert r.header("ratelimit-policy") == "3;w=3600"
    assert r.count("ratelimit-limit") == 1
    # Routes without a limiter are untouched.
    r = call(server, "GET", "/ping")
    assert r.status == 200 and r.header("ratelimit-limit") is None


def login(server, name, password):
    r = call(server, "POST", "/login", body=f"{name}:{password}".encode())
    return r


def visible(r):
    """What a client can compare between two answers (timing-free)."""
    return (r.status, r.body, r.header("content-type"),
            r.header("ratelimit-limit"), r.header("ratelimit-remaining"),
            r.header("ratelimit-policy"), r.header("retry-after") is None)


def close_enough(a, b, name):
    va, vb = a.header(name), b.header(name)
    if va is None or vb is None:
        return va == vb
    return abs(int(va) - int(vb)) <= 1


def test_login_does_not_reveal_which_accounts_exist(server):
    for attempt in range(5):
        known = login(server, "alice", "guess")
        unknown = login(server, "mallory", "guess")
        assert visible(known) == visible(unknown), (attempt, known, unknown)
        assert close_enough(known, unknown, "ratelimit-reset")
        assert close_enough(known, unknown, "retry-after")
        assert known.status == (401 if attempt < 3 else 429)
    # The account is locked now: even the right password waits.
    r = login(server, "alice", "wonderland")
    assert r.status == 429
    assert int(r.header("retry-after")) >= 1
    # Other accounts from the same address are not.
    r = login(server, "bob", "builder")
    assert r.status == 200 and json.loads(r.body) == {"user": "bob"}
