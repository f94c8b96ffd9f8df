"""The framework layer over real sockets: tests/apps/appserver is a keel
app (routes, a group with its own middleware, app-wide middleware) served
by keel_app_run, spoken to with raw HTTP/1.1.

Covered: typed and decoded path parameters, static-over-parameter
precedence, 404 / 405 with Allow / automatic OPTIONS and HEAD, the 308
trailing-slash redirect, a group middleware answering early, app-wide
middleware on automatic answers, a failing handler answered with a generic
500, handlers waiting on the event loop concurrently, keep-alive across
routed requests, and the `routes` subcommand.
"""
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import ROOT, find_binary
from keelserver import Conn, request, running, wait_until

APP = "tests/apps/appserver"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running(tmp_path_factory.mktemp("appserver"), workers=1,
                 binary=APP) as srv:
        yield srv


def call(server, method, path, body=b"", headers=""):
    with server.conn() as c:
        c.send(request(method, path, body=body, headers=headers,
                       close=True))
        return c.read_response(head=(method == "HEAD"))


def test_path_parameters_are_decoded_and_typed(server):
    r = call(server, "GET", "/api/profiles/J%C3%B6rg%20K")
    assert r.status == 200
    assert r.body == "profile Jörg K".encode()
    r = call(server, "GET", "/api/articles/how-to/comments/42")
    assert (r.status, r.body) == (200, b"article how-to comment 42")
    r = call(server, "GET", "/api/articles/how-to/comments/+42")
    assert r.status == 404
    r = call(server, "GET", "/api/articles/how-to/comments/99999999999999999999")
    assert r.status == 404


def test_static_segment_beats_parameter(server):
    assert call(server, "GET", "/api/articles/feed").body == b"feed"
    r = call(server, "GET", "/api/articles/feed/comments/1")
    assert r.body == b"article feed comment 1"


def test_catch_all_takes_the_rest(server):
    r = call(server, "GET", "/static/css/site.css")
    assert (r.status, r.body) == (200, b"asset css/site.css")
    assert call(server, "GET", "/static/").status == 404


def test_unknown_path_is_404_json_with_app_middleware(server):
    r = call(server, "GET", "/nowhere")
    assert r.status == 404
    assert r.header("content-type") == "application/json"
    assert r.body == b'{"error":"not found"}\n'
    assert r.header("x-app") == "appserver"


def test_wrong_method_is_405_with_allow(server):
    r = call(server, "DELETE", "/api/articles")
    assert r.status == 405
    assert r.header("allow") == "POST, OPTIONS"
    r = call(server, "PUT", "/api/articles/feed")
    assert r.status == 405
    assert r.header("allow") == "GET, HEAD, OPTIONS"


def test_options_and_head_are_automatic(server):
    r = call(server, "OPTIONS", "/api/profiles/x")
    assert r.status == 204
    assert r.header("allow") == "GET, HEAD, OPTIONS"
    assert r.header("content-length") is None
    r = call(server, "OPTIONS", "*")
    assert r.status == 204
    assert r.header("allow") == "GET, HEAD, POST, OPTIONS"
    with server.conn() as c:
        c.send(request("HEAD", "/api/profiles/ann"))
        r = c.read_response(head=True)
        assert r.status == 200
        assert r.header("content-length") == str(len(b"profile ann"))
        # Nothing but the head came: the next response parses cleanly.
        c.send(request("GET", "/api/articles/feed", close=True))
        assert c.read_response().body == b"feed"


def test_trailing_slash_twin_redirects_308(server):
    r = call(server, "GET", "/docs?page=2")
    assert r.status == 308
    assert r.header("location") == "/docs/?page=2"
    r = call(server, "POST", "/api/articles/", body=b"x",
             headers="Authorization: Token t\r\n")
    assert r.status == 308
    assert r.header("location") == "/api/articles"
    assert call(server, "GET", "/docs/").body == b"docs"
    assert call(server, "GET", "/nap/").status == 308


def test_group_middleware_answers_early(server):
    r = call(server, "POST", "/api/articles", body=b"hello")
    assert r.status == 401
    assert b"missing token" in r.body
    assert r.header("x-app") == "appserver"
    r = call(server, "POST", "/api/articles", body=b"hello",
             headers="Authorization: Token abc\r\n")
    assert (r.status, r.body) == (201, b"created hello")
    assert r.header("location") == "/api/articles/new"


def test_failing_handler_is_a_generic_500(server):
    r = call(server, "GET", "/boom")
    assert r.status == 500
    assert b"secret" not in r.body
    assert b'"request_id":"' in r.body
    assert r.header("x-app") == "appserver"
    rid = json.loads(r.body)["request_id"]
    # The reason is in the log, next to the id the client was given.
    assert wait_until(lambda: f"request {rid}: boom answered" in server.log(),
                      5), server.log()


def test_waiting_handlers_overlap_on_one_worker(server):
    results = []

    def one():
        results.append(call(server, "GET", "/nap"))

    threads = [threading.Thread(target=one) for _ in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    elapsed = time.monotonic() - t0
    assert [r.body for r in results] == [b"rested"] * 4
    assert elapsed < 0.7, f"4 naps of 0.2 s took {elapsed:.2f} s"


def test_keep_alive_across_routed_requests(server):
    with server.conn() as c:
        for i in range(5):
            c.send(request("GET", f"/api/articles/a{i}/comments/{i}"))
            r = c.read_response()
            assert r.body == f"article a{i} comment {i}".encode()
        c.send(request("GET", "/missing"))
        assert c.read_response().status == 404
        c.send(request("GET", "/api/articles/feed", close=True))
        assert c.read_response().body == b"feed"


def test_routes_subcommand_lists_sorted_routes(run):
    out = run(APP, "routes")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["METHOD", "PATTERN", "HANDLER", "MIDDLEWARE"]
    rows = [line.split() for line in lines[1:]]
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert ["POST", "/api/articles", "create_article", "stamp,auth"] in rows
    assert ["GET", "/api/articles/{slug}/comments/{id:int}", "comment",
            "stamp,auth"] in rows
    assert ["GET", "/nap", "nap", "stamp"] in rows
    assert len(rows) == 8


def test_serve_subcommand_serves_and_drains(tmp_path):
    ready = tmp_path / "port"
    env = dict(os.environ, KEEL_READY_FILE=str(ready),
               ASAN_OPTIONS="abort_on_error=0:disable_coredump=1")
    with open(tmp_path / "log", "wb") as log:
        proc = subprocess.Popen(
            [str(find_binary(APP)), "serve", "--port", "0", "--workers",
             "1"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: ready.exists() and
                          ready.read_text().endswith("\n"), 20)
        with Conn(int(ready.read_text())) as c:
            c.send(request("GET", "/api/articles/feed", close=True))
            assert c.read_response().body == b"feed"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(20)
    assert code == 0, (tmp_path / "log").read_text()


def test_failed_registration_refuses_to_serve(run):
    env = dict(os.environ, APPSERVER_BROKEN="1")
    out = subprocess.run([str(find_binary(APP)), "--port", "0"],
                         capture_output=True, text=True, timeout=30,
                         env=env, cwd=ROOT)
    assert out.returncode == 1
    assert "{id} conflicts with {slug}" in out.stderr
    assert "not serving" in out.stderr
    listing = subprocess.run([str(find_binary(APP)), "routes"],
                             capture_output=True, text=True, timeout=30,
                             env=env, cwd=ROOT)
    assert listing.returncode == 1
    assert "/api/profiles/{username}" in listing.stdout
    assert "/api/articles/{id}" not in listing.stdout
