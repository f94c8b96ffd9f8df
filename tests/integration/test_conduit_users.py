"""Conduit users and authentication over HTTP against the real binary:
register, login, current user, update; every status path (401, 409, 422,
413), verbatim storage of unicode / SQL / HTML strings."""
import json

import pytest

from keelserver import request, running

APP = "apps/conduit/conduit"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conduit_users")
    env = {"DATABASE_URL": f"sqlite:///{tmp}/c.db", "CONDUIT_SECRET": "a" * 40}
    with running(tmp, binary=APP, env=env) as srv:
        yield srv


def call(server, method, path, body=None, token=None, raw=None):
    headers = "Content-Type: application/json\r\n"
    if token:
        headers += f"Authorization: Token {token}\r\n"
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else b"")
    with server.conn() as c:
        c.send(request(method, path, body=data, headers=headers, close=True))
        r = c.read_response()
    r.json = json.loads(r.body) if r.body.startswith(b"{") else None
    return r


def register(server, name, email=None, password="password1"):
    r = call(server, "POST", "/api/users", {"user": {
        "username": name, "email": email or f"{name}@example.com",
        "password": password}})
    assert r.status == 201, r.body
    return r.json["user"]


def test_register_returns_the_user_and_a_working_token(server):
    u = register(server, "alice")
    assert u["username"] == "alice"
    assert u["email"] == "alice@example.com"
    assert u["bio"] is None and u["image"] is None
    assert "password" not in u
    me = call(server, "GET", "/api/user", token=u["token"])
    assert me.status == 200
    assert me.json["user"]["username"] == "alice"
    assert me.json["user"]["token"]


def test_register_taken_username_or_email_is_409_under_the_field(server):
    register(server, "bob")
    r = call(server, "POST", "/api/users", {"user": {
        "username": "bob", "email": "other@example.com",
        "password": "password1"}})
    assert r.status == 409
    assert r.json == {"errors": {"username": ["has already been taken"]}}
    r = call(server, "POST", "/api/users", {"user": {
        "username": "bob2", "email": "bob@example.com",
        "password": "password1"}})
    assert r.status == 409
    assert r.json == {"errors": {"email": ["has already been taken"]}}


@pytest.mark.parametrize("user,field", [
    ({"email": "x@example.com", "password": "password1"}, "username"),
    ({"username": "", "email": "x@example.com", "password": "password1"},
     "username"),
    ({"username": "   ", "email": "x@example.com",
      "password": "password1"}, "username"),
    ({"username": "x", "password": "password1"}, "email"),
    ({"username": "x", "email": "not-an-email", "password": "password1"},
     "email"),
    ({"username": "x", "email": "x@example.com"}, "password"),
    ({"username": "x", "email": "x@example.com", "password": "short"},
     "password"),
    ({"username": "x" * 65, "email": "x@example.com",
      "password": "password1"}, "username"),
])
def test_register_validation_is_422_per_field(server, user, field):
    r = call(server, "POST", "/api/users", {"user": user})
    assert r.status == 422, r.body
    assert field in r.json["errors"]


def test_register_missing_fields_say_cant_be_blank(server):
    r = call(server, "POST", "/api/users", {"user": {}})
    assert r.status == 422
    for f in ("username", "email", "password"):
        assert r.json["errors"][f] == ["can't be blank"]


def test_register_bad_json_and_content_type(server):
    r = call(server, "POST", "/api/users", raw=b"{nope")
    assert r.status == 400
    with server.conn() as c:
        c.send(request("POST", "/api/users", body=b"x",
                       headers="Content-Type: text/plain\r\n", close=True))
        assert c.read_response().status == 415


def test_very_long_inputs_are_refused(server):
    r = call(server, "POST", "/api/users", {"user": {
        "username": "long", "email": "long@example.com",
        "password": "p" * 20_000}})
    assert r.status == 422
    assert "password" in r.json["errors"]
    # A body announced far beyond the limit is refused before it is read.
    with server.conn() as c:
        c.send(b"POST /api/users HTTP/1.1\r\nHost: t\r\n"
               b"Content-Type: application/json\r\n"
               b"Content-Length: 100000000\r\n\r\n")
        assert c.read_response().status == 413


def test_login_ok_and_wrong_password_or_unknown_email_look_alike(server):
    register(server, "carol", password="carolcarol")
    ok = call(server, "POST", "/api/users/login", {"user": {
        "email": "carol@example.com", "password": "carolcarol"}})
    assert ok.status == 200
    assert ok.json["user"]["username"] == "carol"
    me = call(server, "GET", "/api/user", token=ok.json["user"]["token"])
    assert me.json["user"]["email"] == "carol@example.com"
    wrong = call(server, "POST", "/api/users/login", {"user": {
        "email": "carol@example.com", "password": "nope-nope"}})
    unknown = call(server, "POST", "/api/users/login", {"user": {
        "email": "nobody@example.com", "password": "nope-nope"}})
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body
    assert wrong.json == {"errors": {"credentials": ["invalid"]}}


def test_login_validation(server):
    r = call(server, "POST", "/api/users/login", {"user": {"email": ""}})
    assert r.status == 422
    assert "email" in r.json["errors"] and "password" in r.json["errors"]


@pytest.mark.parametrize("token", [None, "garbage", "a.b.c"])
def test_current_user_needs_a_valid_token(server, token):
    assert call(server, "GET", "/api/user", token=token).status == 401
    assert call(server, "PUT", "/api/user", {"user": {"bio": "x"}},
                token=token).status == 401


def test_token_signed_with_another_key_is_refused(server):
    import base64
    import hashlib
    import hmac

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "1", "iat": 1, "exp": 4102444800}).encode())
    sig = hmac.new(b"b" * 40, f"{head}.{body}".encode(), hashlib.sha256)
    assert call(server, "GET", "/api/user",
                token=f"{head}.{body}.{b64(sig.digest())}").status == 401


def test_update_fields_and_clear_bio_image(server):
    u = register(server, "dave")
    t = u["token"]
    r = call(server, "PUT", "/api/user", {"user": {
        "bio": "I work at statefarm", "image": "https://i.example/d.png"}},
        token=t)
    assert r.status == 200
    assert r.json["user"]["bio"] == "I work at statefarm"
    assert r.json["user"]["image"] == "https://i.example/d.png"
    assert r.json["user"]["username"] == "dave"
    r = call(server, "PUT", "/api/user", {"user": {"bio": "", "image": None}},
             token=t)
    assert r.status == 200
    assert r.json["user"]["bio"] is None and r.json["user"]["image"] is None
    r = call(server, "PUT", "/api/user", {"user": {
        "username": "dave2", "email": "dave2@example.com"}}, token=t)
    assert r.status == 200
    assert r.json["user"]["username"] == "dave2"
    assert r.json["user"]["email"] == "dave2@example.com"
    # The old token still names the same user.
    assert call(server, "GET", "/api/user",
                token=t).json["user"]["username"] == "dave2"


def test_update_password_then_login_with_it(server):
    u = register(server, "erin", password="erinerin")
    r = call(server, "PUT", "/api/user", {"user": {"password": "newpass99"}},
             token=u["token"])
    assert r.status == 200
    old = call(server, "POST", "/api/users/login", {"user": {
        "email": "erin@example.com", "password": "erinerin"}})
    assert old.status == 401
    new = call(server, "POST", "/api/users/login", {"user": {
        "email": "erin@example.com", "password": "newpass99"}})
    assert new.status == 200


@pytest.mark.parametrize("user,field", [
    ({"password": "short"}, "password"),
    ({"email": "bad"}, "email"),
    ({"email": ""}, "email"),
    ({"username": "  "}, "username"),
])
def test_update_validation_is_422(server, user, field):
    u = register(server, f"frank{abs(hash(field + str(user))) % 100000}")
    r = call(server, "PUT", "/api/user", {"user": user}, token=u["token"])
    assert r.status == 422, r.body
    assert field in r.json["errors"]


def test_update_to_a_taken_name_or_email_is_409(server):
    register(server, "gina")
    u = register(server, "hank")
    r = call(server, "PUT", "/api/user", {"user": {"username": "gina"}},
             token=u["token"])
    assert r.status == 409
    assert r.json == {"errors": {"username": ["has already been taken"]}}
    r = call(server, "PUT", "/api/user", {"user": {
        "email": "gina@example.com"}}, token=u["token"])
    assert r.status == 409
    assert r.json == {"errors": {"email": ["has already been taken"]}}
    # Keeping one's own name is no clash.
    r = call(server, "PUT", "/api/user", {"user": {"username": "hank"}},
             token=u["token"])
    assert r.status == 200


@pytest.mark.parametrize("name", [
    "Zoë 日本語 🚀", "x'); DROP TABLE users;--", "<script>alert(1)</script>",
])
def test_strings_are_stored_and_returned_verbatim(server, name):
    u = register(server, name, email=f"u{abs(hash(name)) % 10**8}@ex.com")
    assert u["username"] == name
    r = call(server, "PUT", "/api/user", {"user": {"bio": name}},
             token=u["token"])
    assert r.json["user"]["bio"] == name
    assert call(server, "GET", "/api/user",
                token=u["token"]).json["user"]["username"] == name


def test_login_rate_limit_per_account_when_enabled(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
           "CONDUIT_SECRET": "a" * 40, "CONDUIT_LOGIN_LIMIT": "on"}
    with running(tmp_path, binary=APP, env=env) as srv:
        body = {"user": {"email": "victim@example.com", "password": "guess123"}}
        statuses = [call(srv, "POST", "/api/users/login", body).status
                    for _ in range(6)]
        assert statuses[:5] == [401] * 5
        r = call(srv, "POST", "/api/users/login", body)
        assert r.status == 429
        assert r.header("Retry-After")
        assert "rate_limit" in r.json["errors"]
