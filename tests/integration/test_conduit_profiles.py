"""Conduit profiles and following over HTTP against the real binary:
GET /api/profiles/{username} (anonymous and authenticated), follow and
unfollow (idempotent, 401, 404, following oneself), query counts."""
import json
import re

import pytest

from keelserver import request, running

APP = "apps/conduit/conduit"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conduit_profiles")
    env = {"DATABASE_URL": f"sqlite:///{tmp}/c.db", "CONDUIT_SECRET": "a" * 40}
    with running(tmp, binary=APP, env=env) as srv:
        yield srv


def call(server, method, path, body=None, token=None):
    headers = "Content-Type: application/json\r\n"
    if token:
        headers += f"Authorization: Token {token}\r\n"
    data = json.dumps(body).encode() if body is not None else b""
    with server.conn() as c:
        c.send(request(method, path, body=data, headers=headers, close=True))
        r = c.read_response()
    r.json = json.loads(r.body) if r.body.startswith(b"{") else None
    return r


def register(server, name):
    r = call(server, "POST", "/api/users", {"user": {
        "username": name, "email": f"{abs(hash(name)) % 10**9}@ex.com",
        "password": "password1"}})
    assert r.status == 201, r.body
    return r.json["user"]["token"]


def quoted(name):
    from urllib.parse import quote
    return quote(name, safe="")


def queries(resp):
    m = re.search(r'db;[^,]*desc="(\d+) quer(?:y|ies)"',
                  resp.header("Server-Timing") or "")
    assert m, resp.header("Server-Timing")
    return int(m.group(1))


def test_get_profile_anonymous(server):
    register(server, "pam")
    r = call(server, "GET", "/api/profiles/pam")
    assert r.status == 200
    assert r.json == {"profile": {"username": "pam", "bio": None,
                                  "image": None, "following": False}}


def test_unknown_profile_is_404(server):
    r = call(server, "GET", "/api/profiles/nobody-here")
    assert r.status == 404
    assert r.json == {"errors": {"profile": ["not found"]}}
    t = register(server, "quinn")
    assert call(server, "POST", "/api/profiles/nobody-here/follow",
                token=t).status == 404
    assert call(server, "DELETE", "/api/profiles/nobody-here/follow",
                token=t).status == 404


def test_follow_unfollow_idempotent_and_seen_by_the_caller_only(server):
    register(server, "rita")
    t = register(server, "sam")
    other = register(server, "tess")
    for _ in range(2):
        r = call(server, "POST", "/api/profiles/rita/follow", token=t)
        assert r.status == 200
        assert r.json["profile"]["following"] is True
    assert call(server, "GET", "/api/profiles/rita",
                token=t).json["profile"]["following"] is True
    assert call(server, "GET", "/api/profiles/rita",
                token=other).json["profile"]["following"] is False
    assert call(server, "GET",
                "/api/profiles/rita").json["profile"]["following"] is False
    for _ in range(2):
        r = call(server, "DELETE", "/api/profiles/rita/follow", token=t)
        assert r.status == 200
        assert r.json["profile"]["following"] is False
    assert call(server, "GET", "/api/profiles/rita",
                token=t).json["profile"]["following"] is False


def test_follow_needs_a_token(server):
    register(server, "uma")
    for m in ("POST", "DELETE"):
        assert call(server, m, "/api/profiles/uma/follow").status == 401
        assert call(server, m, "/api/profiles/uma/follow",
                    token="x.y.z").status == 401


def test_bad_token_on_optional_auth_is_401(server):
    register(server, "vera")
    assert call(server, "GET", "/api/profiles/vera",
                token="not-a-jwt").status == 401


def test_following_yourself_is_422(server):
    t = register(server, "walt")
    r = call(server, "POST", "/api/profiles/walt/follow", token=t)
    assert r.status == 422
    assert "profile" in r.json["errors"]


def test_profile_shows_bio_and_image(server):
    t = register(server, "xena")
    call(server, "PUT", "/api/user", {"user": {
        "bio": "<b>bold</b> ' OR 1=1 --", "image": "https://i.example/x"}},
        token=t)
    p = call(server, "GET", "/api/profiles/xena").json["profile"]
    assert p["bio"] == "<b>bold</b> ' OR 1=1 --"
    assert p["image"] == "https://i.example/x"


@pytest.mark.parametrize("name", ["Zoë 🚀", "a'b\"c;--", "<img src=x>"])
def test_unicode_and_odd_names_in_the_path(server, name):
    register(server, name)
    r = call(server, "GET", f"/api/profiles/{quoted(name)}")
    assert r.status == 200, r.body
    assert r.json["profile"]["username"] == name


def test_profile_reads_cost_a_constant_number_of_queries(server):
    register(server, "yann")
    t = register(server, "zed")
    anon = queries(call(server, "GET", "/api/profiles/yann"))
    authed = queries(call(server, "GET", "/api/profiles/yann", token=t))
    assert anon <= 1
    assert authed <= 2
    call(server, "POST", "/api/profiles/yann/follow", token=t)
    assert queries(call(server, "GET", "/api/profiles/yann",
                        token=t)) == authed


def test_a_deleted_users_token_is_401_not_500(server):
    """An administrator removed the account; its token still verifies,
    but every write in its name is refused as unauthenticated."""
    import sqlite3
    token = register(server, "gone1")
    register(server, "stays1")
    art = call(server, "POST", "/api/articles", {"article": {
        "title": "Before", "description": "d", "body": "b"}},
        token=register(server, "author1"))
    assert art.status == 201
    slug = art.json["article"]["slug"]
    db = sqlite3.connect(str(server.dir / "c.db"), timeout=10)
    db.execute("DELETE FROM users WHERE username = 'gone1'")
    db.commit()
    db.close()
    for method, path, body in [
            ("POST", "/api/profiles/stays1/follow", None),
            ("POST", f"/api/articles/{slug}/favorite", None),
            ("POST", f"/api/articles/{slug}/comments",
             {"comment": {"body": "x"}}),
            ("POST", "/api/articles", {"article": {
                "title": "t", "description": "d", "body": "b"}})]:
        r = call(server, method, path, body, token=token)
        assert r.status == 401, (path, r.status, r.body)
        assert r.json == {"errors": {"token": ["user no longer exists"]}}
