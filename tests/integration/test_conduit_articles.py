"""Conduit articles, favorites, feed and tags over HTTP against the real
binary: every endpoint and status path, constant query counts for lists
(read from the Server-Timing db entry) and concurrent favorites."""
import http.client
import json
import re
import threading

import pytest

from keelserver import running

SECRET = "a" * 40


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conduit_articles")
    env = {"DATABASE_URL": f"sqlite:///{tmp}/c.db", "CONDUIT_SECRET": SECRET}
    with running(tmp, binary="apps/conduit/conduit", env=env) as s:
        yield s


def call(srv, method, path, body=None, token=None, raw=None):
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    headers = {}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Token {token}"
    try:
        c.request(method, path, body=data, headers=headers)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused early (413); the answer is already in the socket
    r = c.getresponse()
    text = r.read()
    c.close()
    r.json = json.loads(text) if text else None
    return r


_n = [0]


def user(srv, name=None):
    _n[0] += 1
    name = name or f"u{_n[0]}x"
    r = call(srv, "POST", "/api/users", {"user": {
        "username": name, "email": f"{name}@example.com",
        "password": "password123"}})
    assert r.status == 201, r.json
    return r.json["user"]["token"], name


def new_article(srv, tok, title="Hello World", tags=("b", "a"), **kw):
    body = {"title": title, "description": "d", "body": "text",
            "tagList": list(tags)}
    body.update(kw)
    r = call(srv, "POST", "/api/articles", {"article": body}, tok)
    assert r.status == 201, r.json
    return r.json["article"]


def queries(r):
    m = re.search(r'db;[^,]*desc="(\d+) queries"', r.getheader("Server-Timing") or "")
    assert m, r.getheader("Server-Timing")
    return int(m.group(1))


def test_create_and_get(srv):
    tok, name = user(srv)
    a = new_article(srv, tok, "Hello World", tags=["zeta", "alpha"])
    assert a["slug"] == "hello-world"
    assert a["tagList"] == ["zeta", "alpha"]  # given order
    assert a["author"] == {"username": name, "bio": None, "image": None,
                           "following": False}
    assert a["favorited"] is False and a["favoritesCount"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", a["createdAt"])
    r = call(srv, "GET", "/api/articles/hello-world")
    assert r.status == 200 and r.json["article"]["body"] == "text"


def test_same_title_gets_unique_slugs(srv):
    tok, _ = user(srv)
    slugs = [new_article(srv, tok, "Same Title!!")["slug"] for _ in range(3)]
    assert slugs == ["same-title", "same-title-2", "same-title-3"]
    assert new_article(srv, tok, "日本語")["slug"] == "article"
    assert new_article(srv, tok, "  Ünïcode & Co  ")["slug"] == "n-code-co"


def test_create_validation(srv):
    tok, _ = user(srv)
    r = call(srv, "POST", "/api/articles", {"article": {}}, tok)
    assert r.status == 422
    for f in ("title", "description", "body"):
        assert r.json["errors"][f] == ["can't be blank"]
    r = call(srv, "POST", "/api/articles", {"article": {
        "title": "x" * 300, "description": "d", "body": "b"}}, tok)
    assert r.status == 422 and "title" in r.json["errors"]
    r = call(srv, "POST", "/api/articles", {"article": {
        "title": "t", "description": "d", "body": "b", "tagList": "x"}}, tok)
    assert r.status == 422 and "tagList" in r.json["errors"]
    r = call(srv, "POST", "/api/articles", raw=b"{not json", token=tok)
    assert r.status == 400


def test_very_long_body_refused(srv):
    tok, _ = user(srv)
    r = call(srv, "POST", "/api/articles", {"article": {
        "title": "t", "description": "d", "body": "x" * 200000}}, tok)
    assert r.status in (413, 422)
    r = call(srv, "POST", "/api/articles", {"article": {
        "title": "t", "description": "d", "body": "x" * 5_000_000}}, tok)
    assert r.status == 413


def test_auth_required(srv):
    body = {"article": {"title": "t", "description": "d", "body": "b"}}
    assert call(srv, "POST", "/api/articles", body).status == 401
    assert call(srv, "POST", "/api/articles", body, "bad.token.x").status == 401
    assert call(srv, "GET", "/api/articles/feed").status == 401
    assert call(srv, "PUT", "/api/articles/x", body).status == 401
    assert call(srv, "DELETE", "/api/articles/x").status == 401
    assert call(srv, "POST", "/api/articles/x/favorite").status == 401
    assert call(srv, "DELETE", "/api/articles/x/favorite").status == 401


def test_not_found(srv):
    tok, _ = user(srv)
    r = call(srv, "GET", "/api/articles/nope-nope")
    assert r.status == 404 and r.json == {"errors": {"article": ["not found"]}}
    assert call(srv, "PUT", "/api/articles/nope-nope",
                {"article": {"title": "x"}}, tok).status == 404
    assert call(srv, "DELETE", "/api/articles/nope-nope", token=tok).status == 404
    assert call(srv, "POST", "/api/articles/nope-nope/favorite",
                token=tok).status == 404


def test_verbatim_strings(srv):
    tok, _ = user(srv)
    evil = "Robert'); DROP TABLE articles;-- <script>alert(1)</script> ☃ 😀"
    a = new_article(srv, tok, evil, tags=["<b>", "'; --", "ünï"],
                    description=evil, body=evil)
    r = call(srv, "GET", f"/api/articles/{a['slug']}")
    got = r.json["article"]
    assert got["title"] == evil and got["body"] == evil
    assert got["description"] == evil
    assert got["tagList"] == ["<b>", "'; --", "ünï"]
    assert call(srv, "GET", "/api/tags").json["tags"].count("'; --") == 1


def test_update(srv):
    tok, _ = user(srv)
    other, _ = user(srv)
    a = new_article(srv, tok, "Before Title", tags=["x", "y"])
    r = call(srv, "PUT", f"/api/articles/{a['slug']}",
             {"article": {"body": "new body"}}, tok)
    assert r.status == 200
    got = r.json["article"]
    assert got["slug"] == "before-title" and got["body"] == "new body"
    assert got["tagList"] == ["x", "y"]  # left out: kept
    r = call(srv, "PUT", "/api/articles/before-title",
             {"article": {"title": "After Title", "tagList": []}}, tok)
    got = r.json["article"]
    assert got["slug"] == "after-title" and got["tagList"] == []
    assert call(srv, "GET", "/api/articles/before-title").status == 404
    r = call(srv, "PUT", "/api/articles/after-title",
             {"article": {"tagList": None}}, tok)
    assert r.status == 422
    r = call(srv, "PUT", "/api/articles/after-title",
             {"article": {"title": ""}}, tok)
    assert r.status == 422
    r = call(srv, "PUT", "/api/articles/after-title",
             {"article": {"title": "Hijack"}}, other)
    assert r.status == 403
    # same title again keeps its own slug
    r = call(srv, "PUT", "/api/articles/after-title",
             {"article": {"title": "After Title"}}, tok)
    assert r.json["article"]["slug"] == "after-title"


def test_delete_cascades(srv):
    tok, _ = user(srv)
    other, _ = user(srv)
    a = new_article(srv, tok, "To Delete")
    call(srv, "POST", f"/api/articles/{a['slug']}/favorite", token=other)
    call(srv, "POST", f"/api/articles/{a['slug']}/comments",
         {"comment": {"body": "hi"}}, other)
    assert call(srv, "DELETE", f"/api/articles/{a['slug']}",
                token=other).status == 403
    assert call(srv, "DELETE", f"/api/articles/{a['slug']}",
                token=tok).status == 204
    assert call(srv, "GET", f"/api/articles/{a['slug']}").status == 404
    assert call(srv, "GET", f"/api/articles/{a['slug']}/comments").status == 404


def test_favorite_unfavorite(srv):
    tok, _ = user(srv)
    fan, fan_name = user(srv)
    a = new_article(srv, tok, "Fav Me")
    for _ in range(2):  # idempotent
        r = call(srv, "POST", f"/api/articles/{a['slug']}/favorite", token=fan)
        assert r.status == 200
        assert r.json["article"]["favorited"] is True
        assert r.json["article"]["favoritesCount"] == 1
    r = call(srv, "GET", f"/api/articles?favorited={fan_name}")
    assert [x["slug"] for x in r.json["articles"]] == [a["slug"]]
    assert call(srv, "GET", f"/api/articles/{a['slug']}").json[
        "article"]["favorited"] is False  # anonymous
    for _ in range(2):
        r = call(srv, "DELETE", f"/api/articles/{a['slug']}/favorite", token=fan)
        assert r.status == 200 and r.json["article"]["favoritesCount"] == 0
        assert r.json["article"]["favorited"] is False


def test_concurrent_favorites(srv):
    tok, _ = user(srv)
    a = new_article(srv, tok, "Popular")
    fans = [user(srv)[0] for _ in range(12)]
    results = []

    def fav(t):
        for _ in range(2):
            results.append(call(srv, "POST",
                                f"/api/articles/{a['slug']}/favorite",
                                token=t).status)

    threads = [threading.Thread(target=fav, args=(t,)) for t in fans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 24
    r = call(srv, "GET", f"/api/articles/{a['slug']}")
    assert r.json["article"]["favoritesCount"] == 12


def test_list_filters_and_pagination(srv):
    tok, name = user(srv)
    for i in range(5):
        new_article(srv, tok, f"Paged {i}", tags=["pagetag"])
    r = call(srv, "GET", f"/api/articles?author={name}&limit=2&offset=1")
    assert r.status == 200
    assert r.json["articlesCount"] == 5
    assert [x["title"] for x in r.json["articles"]] == ["Paged 3", "Paged 2"]
    assert "body" not in r.json["articles"][0]
    r = call(srv, "GET", "/api/articles?tag=pagetag&limit=0")
    assert r.json["articles"] == [] and r.json["articlesCount"] == 5
    r = call(srv, "GET", f"/api/articles?author={name}&offset=100")
    assert r.json["articles"] == [] and r.json["articlesCount"] == 5
    r = call(srv, "GET", "/api/articles?limit=100000")
    assert r.status == 200 and len(r.json["articles"]) <= 100
    for bad in ("offset=-1", "limit=-1", "limit=abc", "offset=1.5"):
        r = call(srv, "GET", f"/api/articles?{bad}")
        assert r.status == 422, bad
    r = call(srv, "GET", "/api/articles?author=nobody%27%20OR%201=1--")
    assert r.json == {"articles": [], "articlesCount": 0}


def test_feed(srv):
    reader, _ = user(srv)
    writer, wname = user(srv)
    a = new_article(srv, writer, "In The Feed")
    r = call(srv, "GET", "/api/articles/feed", token=reader)
    assert r.status == 200 and r.json == {"articles": [], "articlesCount": 0}
    r = call(srv, "POST", f"/api/profiles/{wname}/follow", token=reader)
    assert r.status == 200
    r = call(srv, "GET", "/api/articles/feed", token=reader)
    assert r.json["articlesCount"] == 1
    got = r.json["articles"][0]
    assert got["slug"] == a["slug"] and got["author"]["following"] is True
    assert "body" not in got
    assert call(srv, "GET", "/api/articles/feed?offset=-3",
                token=reader).status == 422


def test_tags(srv):
    tok, _ = user(srv)
    new_article(srv, tok, "Tagged", tags=["tagone", "tagtwo", "tagone"])
    r = call(srv, "GET", "/api/tags")
    assert r.status == 200
    tags = r.json["tags"]
    assert "tagone" in tags and "tagtwo" in tags and tags == sorted(tags)
    got = call(srv, "GET", "/api/articles/tagged").json["article"]["tagList"]
    assert got == ["tagone", "tagtwo"]  # repeats dropped


def test_list_query_count_is_constant(srv):
    viewer, _ = user(srv)

    def page(n, prefix):
        tag = f"qc{prefix}"
        for i in range(n):
            tok, _ = user(srv)
            a = new_article(srv, tok, f"{prefix} {i}", tags=[tag, "x", "y"])
            call(srv, "POST", f"/api/articles/{a['slug']}/favorite",
                 token=viewer)
        r = call(srv, "GET", f"/api/articles?tag={tag}&limit=20", token=viewer)
        assert r.status == 200 and len(r.json["articles"]) == n
        assert all(x["favorited"] for x in r.json["articles"])
        return queries(r)

    small, big = page(2, "small"), page(20, "big")
    assert small == big, (small, big)
    assert big <= 4


def test_seed_demo(tmp_path):
    import subprocess
    from conftest import find_binary
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
           "CONDUIT_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
    exe = str(find_binary("apps/conduit/conduit"))
    for args in (["migrate"], ["seed", "--demo"]):
        p = subprocess.run([exe, *args], env=env, cwd=tmp_path,
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
    bad = subprocess.run([exe, "seed", "--articles", "-1"], env=env,
                         cwd=tmp_path, capture_output=True, timeout=60)
    assert bad.returncode == 2
    with running(tmp_path / "srv", binary="apps/conduit/conduit",
                 env=env) as s:
        r = call(s, "GET", "/api/articles?limit=3")
        assert r.json["articlesCount"] == 10 and len(r.json["articles"]) == 3
        assert sum(a["favoritesCount"] for a in
                   call(s, "GET", "/api/articles").json["articles"]) == 5
        r = call(s, "POST", "/api/users/login", {"user": {
            "email": "user1@example.com", "password": "password123"}})
        assert r.status == 200
        tok = r.json["user"]["token"]
        assert call(s, "GET", "/api/articles/feed",
                    token=tok).json["articlesCount"] == 2
        slug = call(s, "GET", "/api/articles?limit=1").json["articles"][0]["slug"]
        assert call(s, "GET", f"/api/articles/{slug}/comments").status == 200
        assert len(call(s, "GET", "/api/tags").json["tags"]) == 12
