"""Acknowledged writes survive the server being killed.

A 201 from tests/apps/dbserver is sent only after COMMIT returned with
synchronous=FULL, so every value the client saw acknowledged must be in
the database after any number of SIGKILLs of the whole server (master and
workers at once), and the file must pass PRAGMA integrity_check.  SIGTERM
lets a write that is in flight finish and be answered.
"""
import http.client
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

from conftest import ROOT, find_binary

CYCLES = 20


def start(tmp_path, db):
    ready = tmp_path / "port"
    ready.unlink(missing_ok=True)
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}",
               KEEL_READY_FILE=str(ready),
               ASAN_OPTIONS="abort_on_error=0:disable_coredump=1")
    log = open(tmp_path / "server.log", "ab")
    proc = subprocess.Popen(
        [str(find_binary("tests/apps/dbserver")), "--port", "0",
         "--workers", "2", "--log-level", "warn"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while not (ready.exists() and ready.read_text().strip()):
        assert time.monotonic() < deadline, "server did not start"
        assert proc.poll() is None, "server exited at start"
        time.sleep(0.02)
    return proc, int(ready.read_text())


def post(port, v, sleep=0, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", f"/items?v={v}&sleep={sleep}")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def writer(port, values, acked, stop):
    for v in values:
        if stop.is_set():
            return
        try:
            if post(port, v) == 201:
                acked.append(v)
        except (OSError, http.client.HTTPException):
            pass  # the server died mid-request: not acknowledged


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def check_db(db, acked):
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        present = {r[0] for r in con.execute("SELECT v FROM items")}
    finally:
        con.close()
    missing = set(acked) - present
    assert not missing, f"acknowledged writes lost: {sorted(missing)[:10]}"
    return present


def test_acknowledged_writes_survive_sigkill(tmp_path):
    db = tmp_path / "crash.db"
    acked = []
    rng = random.Random(1234)
    next_v = 0
    for _ in range(CYCLES):
        proc, port = start(tmp_path, db)
        stop = threading.Event()
        threads = []
        for _t in range(4):
            values = range(next_v, next_v + 10000)
            next_v += 10000
            t = threading.Thread(target=writer,
                                 args=(port, values, acked, stop))
            t.start()
            threads.append(t)
        time.sleep(rng.uniform(0.1, 0.6))
        kill_group(proc)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        check_db(db, acked)
    assert len(acked) > CYCLES  # the load really wrote something


def test_sigterm_lets_an_inflight_write_finish(tmp_path):
    db = tmp_path / "term.db"
    proc, port = start(tmp_path, db)
    result = {}

    def slow_write():
        result["status"] = post(port, 42, sleep=800)

    t = threading.Thread(target=slow_write)
    t.start()
    time.sleep(0.3)  # the write is inside its transaction now
    os.kill(proc.pid, signal.SIGTERM)
    t.join(timeout=15)
    assert proc.wait(timeout=20) == 0
    assert result.get("status") == 201
    assert 42 in check_db(db, [42])
