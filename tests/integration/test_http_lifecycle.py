"""The master/worker process lifecycle through the real server: a worker
killed (SIGKILL, or abort() in a handler) is replaced while the others keep
serving, SIGTERM drains in-flight requests and exits 0, SIGHUP swaps every
worker under load, and the master's death takes its workers with it.

Each test starts its own server and bounds every wait."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import find_binary
from keelserver import (Conn, TESTSERVER, proc_cmdline, proc_state, request,
                        wait_until)

RESPAWN_S = 10.0  # first restart is after 100 ms; generous for ASan + load


def pid_of(conn):
    conn.send(request("GET", "/pid"))
    resp = conn.read_response()
    assert resp.status == 200, resp
    return int(resp.body)


def conn_on_other_worker(srv, pid, tries=64):
    """A keep-alive connection served by a worker other than `pid` (the
    kernel spreads connections over the SO_REUSEPORT listeners by hash)."""
    for _ in range(tries):
        c = srv.conn()
        other = pid_of(c)
        if other != pid:
            return c, other
        c.close()
    raise AssertionError(f"every connection landed on worker {pid}")


def serves(srv, n=10):
    for _ in range(n):
        assert srv.get("/plaintext").body == b"Hello, World!"


def test_process_titles(keel_server):
    srv = keel_server(workers=2)
    assert proc_cmdline(srv.pid).startswith("testserver: master")
    titles = sorted(proc_cmdline(p) for p in srv.workers())
    assert titles == ["testserver: worker 1", "testserver: worker 2"]


def test_sigkill_worker_is_respawned_others_unaffected(keel_server):
    srv = keel_server(workers=2)
    with srv.conn() as a:
        pid_a = pid_of(a)
        victim = next(p for p in srv.workers() if p != pid_a)
        title = proc_cmdline(victim)
        os.kill(victim, signal.SIGKILL)
        new = srv.wait_workers(2, exclude={victim}, timeout=RESPAWN_S)
        assert pid_a in new
        replacement = next(p for p in new if p != pid_a)
        assert proc_cmdline(replacement) == title
        # The keep-alive connection on the surviving worker never noticed.
        assert pid_of(a) == pid_a
    serves(srv, 20)
    assert "killed by signal 9" in srv.log()


def test_crashing_handler_takes_only_its_worker(keel_server):
    srv = keel_server(workers=2)
    with srv.conn() as a:
        pid_a = pid_of(a)
        b, pid_b = conn_on_other_worker(srv, pid_a)
        with b:
            b.send(request("GET", "/crash"))
            assert b.read_until_close(timeout=RESPAWN_S) == b""
        new = srv.wait_workers(2, exclude={pid_b}, timeout=RESPAWN_S)
        assert pid_a in new
        assert pid_of(a) == pid_a
    serves(srv, 20)
    assert re.search(r"killed by signal 6\b", srv.log()), srv.log()


def test_repeated_crashes_are_restarted_with_backoff(keel_server):
    srv = keel_server(workers=1)
    seen = set()
    for _ in range(3):
        (pid,) = srv.wait_workers(1, exclude=seen, timeout=RESPAWN_S)
        seen.add(pid)
        with srv.conn() as c:
            c.send(request("GET", "/crash"))
            assert c.read_until_close(timeout=RESPAWN_S) == b""
    srv.wait_workers(1, exclude=seen, timeout=RESPAWN_S)
    serves(srv, 3)
    delays = [int(m) for m in re.findall(r"restarting in (\d+) ms",
                                         srv.log())]
    assert delays == [100, 200, 400], srv.log()


def test_sigterm_drains_in_flight_request_then_exits_0(keel_server):
    srv = keel_server(workers=2, args=["--shutdown-timeout", "5s"])
    with srv.conn() as idle, srv.conn() as busy:
        pid_of(idle)  # idle keep-alive connection
        busy.send(request("GET", "/sleep?ms=1500"))
        time.sleep(0.3)  # the request is in the handler now
        t0 = time.monotonic()
        srv.signal(signal.SIGTERM)
        # Idle keep-alive connections are closed at once...
        assert idle.is_closed(timeout=2.0)
        # ...the in-flight request completes, and says it is the last.
        resp = busy.read_response(timeout=5)
        assert resp.status == 200 and resp.body == b"slept\n"
        assert resp.header("connection") == "close"
        busy.assert_closed(timeout=2)
    assert srv.wait_exit(5.0 + 2) == 0, srv.log()
    assert time.monotonic() - t0 < 5.0 + 2
    assert srv.workers() == []
    with pytest.raises(ConnectionRefusedError):
        Conn(srv.port, timeout=2)


def test_sigterm_refuses_new_connections_during_drain(keel_server):
    srv = keel_server(workers=1, args=["--shutdown-timeout", "5s"])
    with srv.conn() as busy:
        busy.send(request("GET", "/sleep?ms=2500"))
        time.sleep(0.3)
        srv.signal(signal.SIGTERM)
        time.sleep(0.3)
        t0 = time.monotonic()
        try:
            late = Conn(srv.port, timeout=2)
        except ConnectionRefusedError:
            return
        with late:
            late.send(request("GET", "/plaintext"))
            assert late.read_until_close(timeout=2) == b""
        # Refused promptly, not when the drain is over.
        assert time.monotonic() - t0 < 0.5


def test_sigterm_with_no_traffic_exits_promptly(keel_server):
    srv = keel_server(workers=2)
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    assert srv.wait_exit(10) == 0
    assert time.monotonic() - t0 < 5  # ASan's exit-time leak check included
    assert "stopped" in srv.log()


def test_master_death_takes_workers_along(keel_server):
    srv = keel_server(workers=2)
    workers = srv.workers()
    srv.proc.kill()
    srv.proc.wait(timeout=5)
    gone = wait_until(lambda: all(proc_state(w) in ("", "Z")
                                  for w in workers), 10)
    assert gone, [proc_cmdline(w) for w in workers]


# ------------------------------------------------------------- SIGHUP + wrk

def parse_wrk(out):
    """Requests, non-2xx/3xx responses and socket errors from wrk's
    report (the last two lines are only printed when non-zero)."""
    m = re.search(r"(\d+) requests in", out)
    assert m, out
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write "
                     r"(\d+), timeout (\d+)", out)
    return {"requests": int(m.group(1)),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, errs.groups())) if errs else 0,
            "report": out}


@pytest.fixture(scope="module")
def reload_run(tmp_path_factory):
    """wrk -t1 -c16 -d4s on /plaintext with a SIGHUP in the middle; the
    workers before and after, and wrk's numbers."""
    from keelserver import running
    with running(tmp_path_factory.mktemp("reload"), workers=2) as srv:
        before = srv.workers()
        wrk = subprocess.Popen(
            ["/usr/bin/wrk", "-t1", "-c16", "-d4s",
             f"http://127.0.0.1:{srv.port}/plaintext"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(1.5)
            srv.signal(signal.SIGHUP)
            out, _ = wrk.communicate(timeout=30)
        finally:
            if wrk.poll() is None:
                wrk.kill()
                wrk.wait(timeout=5)
        after = srv.wait_workers(2, exclude=before, timeout=RESPAWN_S)
        result = parse_wrk(out)
        result.update(before=before, after=after, log=srv.log(),
                      served=srv.get("/plaintext").status)
        yield result


def test_sighup_replaces_every_worker_under_load(reload_run):
    r = reload_run
    assert not set(r["before"]) & set(r["after"])
    assert r["requests"] > 1000, r["report"]
    assert r["non2xx"] == 0, r["report"]
    assert "reload: starting 2 fresh workers" in r["log"]
    assert r["served"] == 200


def test_sighup_under_load_has_no_socket_errors(reload_run):
    assert reload_run["socket_errors"] == 0, reload_run["report"]


# ------------------------------------------------------- startup and flags

def test_ready_file_flag(tmp_path):
    ready = tmp_path / "port"
    proc = subprocess.Popen(
        [str(find_binary(TESTSERVER)), "--port", "0", "--workers", "1",
         "--ready-file", str(ready)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        assert wait_until(ready.exists, 5), "no ready file written"
        assert int(ready.read_text()) > 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_access_log_from_environment(keel_server, tmp_path):
    log = tmp_path / "access.log"
    srv = keel_server(env={"KEEL_ACCESS_LOG": str(log)})
    srv.get("/echo/logged?x=1")
    line = wait_until(lambda: log.exists() and log.read_text(), 5)
    assert '"GET /echo/logged?x=1 HTTP/1.1" 200 ' in line, line


def test_bad_flag_exits_2(run):
    r = run(TESTSERVER, "--workers", "lots", timeout=30)
    assert r.returncode == 2
    assert "--help" in r.stderr
