"""Conduit's response cache over HTTP with two workers: anonymous public
reads come from memory (X-Cache: HIT), and every write through the server
is visible at once from every worker; personal requests never use it;
CONDUIT_CACHE_TTL bounds writes made beside the server and turns the cache
off."""
import http.client
import json
import os
import subprocess
import time

import pytest

from conftest import ROOT, find_binary
from keelserver import running

APP = "apps/conduit/conduit"
SECRET = "c" * 40
# Fresh connections spread over both workers (SO_REUSEPORT hashes the
# client port); 24 of them reach both with near certainty.
SPREAD = 24


def call(port, method, path, body=None, token=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Token {token}"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    text = r.read()
    c.close()
    r.json = json.loads(text) if text else None
    return r


def user(port, name):
    r = call(port, "POST", "/api/users", {"user": {
        "username": name, "email": f"{name}@example.com",
        "password": "password123"}})
    assert r.status == 201, r.json
    return r.json["user"]["token"]


def article(port, tok, title):
    r = call(port, "POST", "/api/articles", {"article": {
        "title": title, "description": "d", "body": "b",
        "tagList": ["cache"]}}, tok)
    assert r.status == 201, r.json
    return r.json["article"]["slug"]


def warm(port, path):
    """GET `path` until every worker has it cached; returns the body."""
    hits = 0
    for _ in range(SPREAD * 4):
        r = call(port, "GET", path)
        assert r.status == 200
        hits = hits + 1 if r.getheader("X-Cache") == "HIT" else 0
        if hits >= SPREAD:
            return r.json
    pytest.fail(f"{path} never settled into hits")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conduit_cache")
    env = {"DATABASE_URL": f"sqlite:///{tmp}/c.db", "CONDUIT_SECRET": SECRET}
    with running(tmp, workers=2, binary=APP, env=env) as s:
        s.tmp = tmp
        yield s


def test_anonymous_reads_hit_with_etag_and_age(srv):
    tok = user(srv.port, "cacher")
    article(srv.port, tok, "Cached One")
    for path in ("/api/articles", "/api/tags", "/api/articles/cached-one",
                 "/api/profiles/cacher", "/api/articles/cached-one/comments"):
        first = call(srv.port, "GET", path)
        assert first.getheader("ETag", "").startswith('"'), path
        body = warm(srv.port, path)
        assert body == first.json, path
        r = call(srv.port, "GET", path)
        assert r.getheader("X-Cache") == "HIT" and r.getheader("Age")
        r = call(srv.port, "GET", path,
                 headers={"If-None-Match": first.getheader("ETag")})
        assert r.status == 304 and r.json is None, path


def test_every_write_is_seen_at_once_by_every_worker(srv):
    tok = user(srv.port, "writer")
    slug = article(srv.port, tok, "Before")
    warm(srv.port, "/api/articles?limit=1")
    warm(srv.port, f"/api/articles/{slug}")
    # A new article tops the list on every connection right after 201.
    article(srv.port, tok, "After")
    for _ in range(SPREAD):
        r = call(srv.port, "GET", "/api/articles?limit=1")
        assert r.json["articles"][0]["slug"] == "after", r.json
    # A favorite moves the count everywhere.
    assert call(srv.port, "POST", f"/api/articles/{slug}/favorite",
                token=tok).status == 200
    for _ in range(SPREAD):
        r = call(srv.port, "GET", f"/api/articles/{slug}")
        assert r.json["article"]["favoritesCount"] == 1
    warm(srv.port, f"/api/articles/{slug}")
    # A delete is a 404 at once, never the stored 200.
    assert call(srv.port, "DELETE", f"/api/articles/{slug}",
                token=tok).status == 204
    for _ in range(SPREAD):
        assert call(srv.port, "GET", f"/api/articles/{slug}").status == 404


def test_personal_requests_bypass_the_cache(srv):
    tok = user(srv.port, "fan")
    slug = article(srv.port, tok, "Liked")
    call(srv.port, "POST", f"/api/articles/{slug}/favorite", token=tok)
    anon = warm(srv.port, f"/api/articles/{slug}")
    assert anon["article"]["favorited"] is False
    for _ in range(4):
        r = call(srv.port, "GET", f"/api/articles/{slug}", token=tok)
        assert r.getheader("X-Cache") == "MISS"
        assert r.json["article"]["favorited"] is True
    # A bad token is still refused, never answered from memory.
    r = call(srv.port, "GET", f"/api/articles/{slug}", token="x.y.z")
    assert r.status == 401


def run_cli(tmp, *args):
    env = dict(os.environ)
    env.update({"DATABASE_URL": f"sqlite:///{tmp}/c.db",
                "CONDUIT_SECRET": SECRET})
    return subprocess.run([str(find_binary(APP)), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_writes_beside_the_server_show_after_the_ttl(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
           "CONDUIT_SECRET": SECRET, "CONDUIT_CACHE_TTL": "1"}
    with running(tmp_path, workers=1, binary=APP, env=env) as s:
        before = warm(s.port, "/api/articles")["articlesCount"]
        out = run_cli(tmp_path, "seed", "--articles", "3", "--users", "2")
        assert out.returncode == 0, out.stderr
        time.sleep(1.2)
        r = call(s.port, "GET", "/api/articles")
        assert r.getheader("X-Cache") == "MISS"
        assert r.json["articlesCount"] == before + 3


def test_ttl_zero_turns_the_cache_off(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
           "CONDUIT_SECRET": SECRET, "CONDUIT_CACHE_TTL": "0"}
    with running(tmp_path, workers=1, binary=APP, env=env) as s:
        for _ in range(3):
            r = call(s.port, "GET", "/api/tags")
            assert r.status == 200 and r.getheader("X-Cache") is None


@pytest.mark.parametrize("ttl", ["-1", "abc", "86401"])
def test_bad_ttl_refused(tmp_path, ttl):
    env = dict(os.environ)
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
                "CONDUIT_SECRET": SECRET, "CONDUIT_CACHE_TTL": ttl})
    out = subprocess.run([str(find_binary(APP)), "migrate"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "CONDUIT_CACHE_TTL" in out.stderr
