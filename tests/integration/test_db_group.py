"""Group commit in a real worker (tests/apps/dbserver): concurrent
transactions share COMMITs, a failing member takes nothing else with it, a
member that waits inside holds the others back without failing them, plain
writes join too, and two workers share the writer lock file."""
import fcntl
import http.client
import os
import threading
import time

import pytest

from keelserver import running

N = 64


def call(port, method, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body


def parallel(port, paths):
    """POST every path at once (a barrier releases them together)."""
    out = [None] * len(paths)
    gate = threading.Barrier(len(paths))

    def one(i):
        gate.wait()
        out[i] = call(port, "POST", paths[i])[0]

    threads = [threading.Thread(target=one, args=(i,))
               for i in range(len(paths))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def count(port):
    status, body = call(port, "GET", "/")
    assert status == 200
    return int(body)


def stats(port):
    """{pid: (batches, joined)} of the workers this connection reached."""
    status, body = call(port, "GET", "/?stats=1")
    assert status == 200
    b, j, pid = map(int, body.split())
    return pid, b, j


@pytest.fixture
def one_worker(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/g.db"}
    with running(tmp_path, workers=1, binary="tests/apps/dbserver",
                 env=env) as s:
        yield s


def test_concurrent_transactions_share_commits(one_worker):
    port = one_worker.port
    assert count(port) == 0
    codes = parallel(port, [f"/?v={i}" for i in range(N)])
    assert codes == [201] * N
    assert count(port) == N
    _, batches, joined = stats(port)
    assert joined == N
    # 64 requests released together cannot all have gone one by one.
    assert batches < joined / 2, (batches, joined)


def test_a_failing_member_takes_nothing_else_with_it(one_worker):
    port = one_worker.port
    assert call(port, "POST", "/?v=7")[0] == 201
    # Half the batch collides with v=7 or with each other (409); the
    # rest commit.
    paths = [f"/?v={7 if i % 4 == 0 else 100 + i // 2}" for i in range(N)]
    codes = parallel(port, paths)
    want = len(set(paths)) - 1  # distinct values, v=7 already there
    assert codes.count(201) == want, codes
    assert codes.count(409) == N - want
    assert count(port) == want + 1


def test_a_member_waiting_inside_holds_but_never_fails_the_others(one_worker):
    port = one_worker.port
    paths = ["/?v=500&sleep=300"] + [f"/?v={600 + i}" for i in range(N - 1)]
    codes = parallel(port, paths)
    assert codes == [201] * N
    assert count(port) == N


def test_plain_writes_join_the_group(one_worker):
    port = one_worker.port
    codes = parallel(port, [f"/?v={1000 + i}&plain=1" for i in range(N)] +
                     [f"/?v=1000&plain=1"])
    assert codes.count(201) == N and codes.count(409) == 1
    _, batches, joined = stats(port)
    assert joined == N + 1 and batches < joined / 2, (batches, joined)


def test_two_workers_share_the_writer_lock(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/g.db"}
    with running(tmp_path, workers=2, binary="tests/apps/dbserver",
                 env=env) as s:
        codes = parallel(s.port, [f"/?v={i}" for i in range(2 * N)])
        assert codes == [201] * (2 * N)
        assert count(s.port) == 2 * N
        seen = {}
        for _ in range(40):  # fresh connections reach both workers
            pid, b, j = stats(s.port)
            seen[pid] = (b, j)
        assert sum(j for _, j in seen.values()) <= 2 * N
        assert os.path.exists(f"{tmp_path}/g.db-keel.lock")


@pytest.mark.parametrize("how", ["outer=1", "outer=1&returning=1"])
def test_writing_through_another_connection_inside_fails_fast(one_worker,
                                                              how):
    port = one_worker.port
    start = time.monotonic()
    status, body = call(port, "POST", f"/?v=77&{how}")
    assert status == 500
    assert time.monotonic() - start < 1.0  # refused, not timed out
    # Nothing was written, and the worker still commits other work.
    assert call(port, "POST", "/?v=78&returning=1")[0] == 201
    assert count(port) == 1


def timed_post(port, path, out, key):
    t0 = time.monotonic()
    out[key] = (call(port, "POST", path)[0], time.monotonic() - t0)


def test_a_failing_member_answers_only_after_its_batch_commits(one_worker):
    """B's 409 rests on A's row, which exists only once the batch that
    holds both commits: B must not answer before C, who keeps that batch
    open, lets it commit."""
    port = one_worker.port
    out = {}
    plan = [("d", "/?v=1&sleep=300"), ("a", "/?v=5"), ("b", "/?v=5"),
            ("c", "/?v=6&sleep=900")]
    threads = []
    for key, path in plan:  # queued in this order
        th = threading.Thread(target=timed_post, args=(port, path, out, key))
        th.start()
        threads.append(th)
        time.sleep(0.05)
    for th in threads:
        th.join(30)
    assert [out[k][0] for k in "dabc"] == [201, 201, 409, 201]
    # C's function ends about 1.2 s in; B (409) waited for that COMMIT.
    assert out["b"][1] >= 0.9, out


def test_a_cursor_left_open_inside_is_closed_and_writes_go_on(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/g.db"}
    with running(tmp_path, workers=2, binary="tests/apps/dbserver",
                 env=env) as s:
        for i in range(8):  # fresh connections: both workers leak
            assert call(s.port, "POST", f"/?v={i}&leak=1")[0] == 201
        codes = parallel(s.port, [f"/?v={100 + i}" for i in range(N)])
        assert codes == [201] * N
        assert "left a cursor open" in s.log()


def test_a_writer_lock_held_elsewhere_times_out_then_recovers(one_worker,
                                                              tmp_path):
    port = one_worker.port
    assert call(port, "POST", "/?v=1")[0] == 201  # makes the lock file
    with open(f"{tmp_path}/g.db-keel.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        start = time.monotonic()
        status, _ = call(port, "POST", "/?v=2")
        waited = time.monotonic() - start
        fcntl.flock(f, fcntl.LOCK_UN)
    assert status == 500 and 1.5 < waited < 15, (status, waited)
    assert call(port, "POST", "/?v=3")[0] == 201
    assert count(port) == 2
