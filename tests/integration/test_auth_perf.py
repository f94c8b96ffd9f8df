"""Logins over real sockets against tests/apps/authserver.

Passwords are verified with argon2id on the worker's thread pool, so a
cheap GET stays fast while 20 logins run (and, as a control, does not when
the server hashes on its event loop).  Unknown users and wrong passwords
get the same answer at the same cost.  JWTs are taken from the
Authorization header only.  The app secret: production refuses to start
without a strong one; development keeps a generated one across restarts.

The latency requirement itself (p99 within 2x of idle) is measured by
bench/auth/run.sh; here each ping must simply come back within 200 ms.
"""
import json
import os
import statistics
import subprocess
import threading
import time

from conftest import find_binary
from keelserver import running, request

AUTH = "tests/apps/authserver"
SECRET = "integration-secret-0123456789abcdefghijklmnop"
JSON_CT = "Content-Type: application/json\r\n"


def start(tmp_path, name="srv", env=None, args=()):
    e = {"AUTHSERVER_SECRET": SECRET, "AUTHSERVER_BLOCKING": "0",
         "AUTHSERVER_PRODUCTION": "0"}
    e.update(env or {})
    return running(tmp_path / name, workers=1, args=args, env=e,
                   binary=AUTH)


def login(srv, user, password):
    body = json.dumps({"user": user, "password": password}).encode()
    with srv.conn(timeout=30) as c:
        c.send(request("POST", "/login", body=body, headers=JSON_CT,
                       close=True))
        return c.read_response()


def timed_login(srv, user, password):
    t0 = time.perf_counter()
    r = login(srv, user, password)
    return r, time.perf_counter() - t0


def token_of(srv):
    r = login(srv, "alice", "wonderland")
    assert r.status == 200, r
    tok = json.loads(r.body)["token"]
    assert tok.count(".") == 2
    return tok


def me(srv, headers="", path="/me"):
    return srv.get(path, headers=headers)


def test_login_issues_a_token_the_api_accepts(tmp_path):
    with start(tmp_path) as srv:
        tok = token_of(srv)
        for scheme in ("Token", "Bearer", "bearer", "TOKEN"):
            r = me(srv, f"Authorization: {scheme} {tok}\r\n")
            assert r.status == 200, (scheme, r)
            assert r.body == b"alice"


def test_token_is_only_taken_from_the_authorization_header(tmp_path):
    with start(tmp_path) as srv:
        tok = token_of(srv)
        refused = [
            ("", f"/me?token={tok}"),
            ("", f"/me?access_token={tok}&jwt={tok}"),
            (f"Cookie: token={tok}; jwt={tok}\r\n", "/me"),
            (f"Authorization: Bearer  {tok}\r\n", "/me"),
            (f"Authorization: Basic {tok}\r\n", "/me"),
            (f"Authorization: {tok}\r\n", "/me"),
            (f"Authorization: Token {tok}\r\nAuthorization: Token {tok}\r\n",
             "/me"),
            (f"Authorization: Token {tok[:-2]}\r\n", "/me"),
            (f"Authorization: Token {tok}=\r\n", "/me"),
            ("Authorization: Token eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."
             "\r\n", "/me"),
        ]
        for headers, path in refused:
            r = me(srv, headers, path)
            assert r.status == 401, (headers, path, r)
            assert r.header("www-authenticate") == "Token"
            assert json.loads(r.body) == {"error": "authentication required"}


def test_a_token_signed_with_another_secret_is_refused(tmp_path):
    with start(tmp_path, "a") as a:
        tok = token_of(a)
    other = {"AUTHSERVER_SECRET": "another-secret-0123456789abcdefghijklmnop"}
    with start(tmp_path, "b", env=other) as b:
        r = me(b, f"Authorization: Token {tok}\r\n")
        assert r.status == 401
        assert "bad signature" in b.log()  # the reason is logged, not sent
        assert b"signature" not in r.body


def test_unknown_user_and_wrong_password_are_indistinguishable(tmp_path):
    with start(tmp_path) as srv:
        login(srv, "alice", "warm-up")
        wrong, unknown = [], []
        for _ in range(7):  # alternate, so drifting load hits both
            r1, t1 = timed_login(srv, "alice", "not-wonderland")
            r2, t2 = timed_login(srv, "mallory", "not-wonderland")
            assert r1.status == r2.status == 401, (r1, r2)
            assert r1.body == r2.body, (r1, r2)
            assert json.loads(r1.body) == {"error": "invalid credentials"}
            wrong.append(t1)
            unknown.append(t2)
        w, u = statistics.median(wrong), statistics.median(unknown)
        # without the dummy hash, unknown users answer ~100x faster
        assert 0.5 * w < u < 2.0 * w, (wrong, unknown)


def test_overlong_password_is_refused_without_hashing(tmp_path):
    with start(tmp_path) as srv:
        r_long, t_long = timed_login(srv, "alice", "w" * 100_000)
        r_wrong, t_wrong = timed_login(srv, "alice", "x")
        assert r_long.status == r_wrong.status == 401
        assert r_long.body == r_wrong.body
        r_max = login(srv, "alice", "w" * 400)
        assert r_max.status == 401  # 400 bytes is allowed: just wrong


def ping_during_logins(srv, n_logins=20):
    """Run n_logins concurrent logins; ping on a keep-alive connection
    meanwhile.  Returns (ping latencies in s, login statuses)."""
    statuses = []
    lock = threading.Lock()
    go = threading.Barrier(n_logins + 1)

    def one():
        go.wait()
        r = login(srv, "alice", "wonderland")
        with lock:
            statuses.append(r.status)

    threads = [threading.Thread(target=one) for _ in range(n_logins)]
    for t in threads:
        t.start()
    lat = []
    with srv.conn(timeout=30) as c:
        go.wait()
        while any(t.is_alive() for t in threads):
            t0 = time.perf_counter()
            c.send(request("GET", "/ping"))
            r = c.read_response()
            lat.append(time.perf_counter() - t0)
            assert r.status == 200 and r.body == b"pong"
            time.sleep(0.01)
    for t in threads:
        t.join()
    return lat, statuses


def test_ping_stays_responsive_while_20_logins_run(tmp_path):
    with start(tmp_path) as srv:
        lat, statuses = ping_during_logins(srv)
        assert statuses == [200] * 20
        assert len(lat) >= 5, "the logins finished before any ping"
        assert max(lat) < 0.2, sorted(lat)[-5:]


def test_control_hashing_on_the_event_loop_stalls_pings(tmp_path):
    # Proves the test above can fail: same load, argon2 on the loop thread.
    with start(tmp_path, env={"AUTHSERVER_BLOCKING": "1"}) as srv:
        lat, statuses = ping_during_logins(srv)
        assert statuses == [200] * 20
        assert max(lat) >= 0.2, sorted(lat)[-5:]


def test_development_secret_persists_across_restarts(tmp_path):
    var = tmp_path / "var"
    env = {"AUTHSERVER_SECRET": "", "AUTHSERVER_VAR": str(var)}
    with start(tmp_path, "first", env=env) as srv:
        tok = token_of(srv)
    key = var / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert var.stat().st_mode & 0o777 == 0o700
    first = key.read_bytes()
    assert len(first) == 65
    with start(tmp_path, "second", env=env) as srv:
        r = me(srv, f"Authorization: Token {tok}\r\n")
        assert r.status == 200 and r.body == b"alice"
    assert key.read_bytes() == first


def run_auth(env):
    e = dict(os.environ)
    e.update(env)
    return subprocess.run([str(find_binary(AUTH)), "--port", "0",
                           "--workers", "1"],
                          env=e, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_a_strong_secret(tmp_path):
    r = run_auth({"AUTHSERVER_PRODUCTION": "1", "AUTHSERVER_SECRET": "",
                  "AUTHSERVER_VAR": str(tmp_path / "var")})
    assert r.returncode == 1
    assert "no secret configured" in r.stderr
    assert not (tmp_path / "var").exists()
    r = run_auth({"AUTHSERVER_PRODUCTION": "1",
                  "AUTHSERVER_SECRET": "too-short-secret"})
    assert r.returncode == 1
    assert "at least 32" in r.stderr
