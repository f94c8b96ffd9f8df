"""Sessions, CSRF, signed cookies and JWT revocation over real sockets:
tests/apps/sessionserver with two workers sharing one SQLite file.

Covered: the login flow (form with CSRF token, rotated session id, the
pre-login cookie worthless afterwards), cookie attributes plain and behind
a trusted TLS proxy (__Host- prefix, Secure), the same answer for a wrong
password and an unknown user, CSRF refusals (no token, another session's
token, foreign Origin), logout invalidating the cookie, idle expiry, no
session id stored in the database, a signed cookie that refuses tampering,
and a revoked JWT refused by the API.
"""
import hashlib
import base64
import json
import re
import sqlite3
import time
from urllib.parse import quote

import pytest

from keelserver import request, running

APP = "tests/apps/sessionserver"


def start(tmp_path_factory, name, env=None,
          args=("--trusted-proxies", "127.0.0.1/32")):
    tmp = tmp_path_factory.mktemp(name)
    full_env = {"SESSIONSERVER_DB": f"sqlite://{tmp}/sessions.db"}
    full_env.update(env or {})
    return tmp, running(tmp, workers=2, binary=APP, args=args, env=full_env)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp, ctx = start(tmp_path_factory, "sessionserver")
    with ctx as srv:
        srv.db_path = tmp / "sessions.db"
        yield srv


def set_cookies(resp):
    """{name: (value, attribute text)} of every Set-Cookie."""
    out = {}
    for k, v in resp.header_list:
        if k.lower() == "set-cookie":
            pair, _, attrs = v.partition(";")
            name, _, value = pair.partition("=")
            out[name] = (value, attrs)
    return out


class Browser:
    """A client with a cookie jar, the way a browser keeps one."""

    def __init__(self, server, https=False):
        self.server = server
        self.jar = {}
        self.https = https

    def cookie_header(self):
        if not self.jar:
            return ""
        return "Cookie: " + "; ".join(f"{k}={v}" for k, v in
                                      self.jar.items()) + "\r\n"

    def call(self, method, path, body=b"", headers=""):
        extra = self.cookie_header() + headers
        if self.https:
            extra += "X-Forwarded-Proto: https\r\n"
        with self.server.conn() as c:
            c.send(request(method, path, body=body, headers=extra,
                           close=True))
            resp = c.read_response()
        for name, (value, attrs) in set_cookies(resp).items():
            if "Max-Age=0" in attrs:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return resp

    def form(self, path, fields, headers=""):
        body = "&".join(f"{k}={quote(v)}" for k, v in fields.items())
        return self.call("POST", path, body.encode(), headers +
                         "Content-Type: application/x-www-form-urlencoded"
                         "\r\n")

    def csrf_token(self):
        r = self.call("GET", "/web/login")
        assert r.status == 200
        m = re.search(rb'name=csrf_token value="([A-Za-z0-9_-]{43})"', r.body)
        assert m, r.body
        return m.group(1).decode()

    def login(self, user="alice", password="wonderland"):
        token = self.csrf_token()
        return self.form("/web/login", {"user": user, "password": password,
                                        "csrf_token": token})


def test_login_flow_rotates_the_session(server):
    b = Browser(server)
    r = b.call("GET", "/web/login")
    value, attrs = set_cookies(r)["session"]
    assert len(value) == 43
    for a in ("Path=/", "HttpOnly", "SameSite=Lax"):
        assert a in attrs, attrs
    assert "Secure" not in attrs
    assert r.header("cache-control") == "no-store"
    before = b.jar["session"]
    r = b.login()
    assert r.status == 303, r.body
    assert r.header("location") == "/web/me"
    after = b.jar["session"]
    assert after != before, "session id not rotated at login"
    # Both workers serve the session: it lives in the shared database.
    for _ in range(10):
        assert b.call("GET", "/web/me").body == b"alice"
    # A cookie planted before login (session fixation) gives nothing.
    attacker = Browser(server)
    attacker.jar["session"] = before
    assert attacker.call("GET", "/web/me").status == 401
    assert "session" not in attacker.jar, "stale cookie not deleted"


def test_wrong_password_and_unknown_user_look_alike(server):
    wrong = Browser(server).login(password="nope")
    unknown = Browser(server).login(user="mallory", password="nope")
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body


def test_login_form_without_token_is_refused(server):
    b = Browser(server)
    b.csrf_token()
    r = b.form("/web/login", {"user": "alice", "password": "wonderland"})
    assert r.status == 403
    assert b"csrf" in r.body
    assert b.call("GET", "/web/me").status == 401


def test_csrf_on_unsafe_methods(server):
    a, b = Browser(server), Browser(server)
    ta, tb = a.csrf_token(), b.csrf_token()
    assert ta != tb
    assert a.form("/web/note", {"note": "x"}).status == 403
    assert a.form("/web/note", {"note": "x", "csrf_token": tb}).status == 403
    r = a.form("/web/note", {"note": "mine", "csrf_token": ta},
               headers="Origin: https://evil.example\r\n")
    assert r.status == 403
    assert a.call("GET", "/web/note").body == b""
    # Same origin (Host "t"), right token: accepted; also via the header.
    r = a.form("/web/note", {"note": "mine", "csrf_token": ta},
               headers="Origin: http://t\r\n")
    assert r.status == 200, r.body
    r = a.form("/web/note", {"note": "again"},
               headers=f"X-CSRF-Token: {ta}\r\n")
    assert r.status == 200, r.body
    assert a.call("GET", "/web/note").body == b"again"
    # GET never changes state, so it needs no token.
    assert b.call("GET", "/web/note").status == 200


def test_logout_invalidates_the_cookie(server):
    b = Browser(server)
    assert b.login().status == 303
    stolen = b.jar["session"]
    token = b.csrf_token()
    r = b.call("POST", "/web/logout", headers=f"X-CSRF-Token: {token}\r\n")
    assert r.status == 204
    value, attrs = set_cookies(r)["session"]
    assert value == "" and "Max-Age=0" in attrs
    assert b.call("GET", "/web/me").status == 401
    thief = Browser(server)
    thief.jar["session"] = stolen
    assert thief.call("GET", "/web/me").status == 401


def test_secure_cookie_behind_a_trusted_tls_proxy(server):
    b = Browser(server, https=True)
    r = b.call("GET", "/web/login")
    value, attrs = set_cookies(r)["__Host-session"]
    assert "Secure" in attrs and "Path=/" in attrs and "Domain" not in attrs
    assert b.login().status == 303
    assert b.call("GET", "/web/me").body == b"alice"
    # Over HTTPS only the __Host- cookie is read: one planted under the
    # plain name (by a sibling subdomain or over plain HTTP) is ignored.
    attacker = Browser(server)
    token = attacker.csrf_token()
    assert attacker.form("/web/note", {"note": "planted",
                                       "csrf_token": token}).status == 200
    victim = Browser(server, https=True)
    victim.jar["session"] = attacker.jar["session"]
    assert victim.call("GET", "/web/note").body == b""
    assert attacker.call("GET", "/web/note").body == b"planted"


def test_database_holds_no_session_id(server):
    b = Browser(server)
    assert b.login().status == 303
    cookie = b.jar["session"]
    raw = base64.urlsafe_b64decode(cookie + "=")
    want = hashlib.sha256(raw).hexdigest()
    db = sqlite3.connect(str(server.db_path))
    try:
        rows = db.execute("SELECT id_hash, data FROM keel_sessions").fetchall()
    finally:
        db.close()
    assert any(h == want for h, _ in rows)
    for h, data in rows:
        assert cookie not in h and cookie not in data
    assert {"user": "alice"} in [json.loads(d) for _, d in rows]


def test_signed_cookie_round_trip_and_tamper(server):
    b = Browser(server)
    r = b.call("GET", "/web/pref?compact")
    assert r.status == 204
    assert b.call("GET", "/web/pref/show").body == b"compact"
    value = b.jar["pref"]
    head, ts, mac = value.split(".")
    forged = base64.urlsafe_b64encode(b"wide").decode().rstrip("=")
    b.jar["pref"] = f"{forged}.{ts}.{mac}"
    assert b.call("GET", "/web/pref/show").status == 404
    b.jar["pref"] = f"{head}.{int(ts) + 1}.{mac}"
    assert b.call("GET", "/web/pref/show").status == 404


def api(server, method, path, body=b"", token=None):
    headers = "Content-Type: application/json\r\n"
    if token:
        headers += f"Authorization: Bearer {token}\r\n"
    with server.conn() as c:
        c.send(request(method, path, body=body, headers=headers, close=True))
        return c.read_response()


def test_revoked_jwt_is_refused(server):
    body = json.dumps({"user": "alice", "password": "wonderland"}).encode()
    r = api(server, "POST", "/api/login", body)
    assert r.status == 200, r.body
    token = json.loads(r.body)["token"]
    other = json.loads(api(server, "POST", "/api/login", body).body)["token"]
    assert api(server, "GET", "/api/me", token=token).body == b"alice"
    assert api(server, "POST", "/api/logout", token=token).status == 204
    assert api(server, "GET", "/api/me", token=token).status == 401
    assert api(server, "POST", "/api/logout", token=token).status == 401
    # Only that token: the user's other session goes on.
    assert api(server, "GET", "/api/me", token=other).body == b"alice"


def test_idle_expiry_and_untrusted_proxy_header(tmp_path_factory):
    """A server without trusted proxies, idle timeout 2 s."""
    _, ctx = start(tmp_path_factory, "sessionidle",
                   env={"SESSIONSERVER_IDLE": "2"}, args=())
    with ctx as srv:
        # Anyone can send X-Forwarded-Proto; from an untrusted peer it
        # does not make the cookie Secure (or rename it).
        r = Browser(srv, https=True).call("GET", "/web/login")
        value, attrs = set_cookies(r)["session"]
        assert "Secure" not in attrs
        b = Browser(srv)
        assert b.login().status == 303
        assert b.call("GET", "/web/me").status == 200
        time.sleep(2.5)
        assert b.call("GET", "/web/me").status == 401
        assert "session" not in b.jar
