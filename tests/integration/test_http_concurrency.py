"""Concurrency inside one worker: handlers waiting on their coroutine
(keel_sleep_ms) do not block each other, and work handed to the thread
pool (keel_offload) does not stall other requests."""
import threading
import time

import pytest

from keelserver import running


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # One worker, so every request shares one event loop.
    with running(tmp_path_factory.mktemp("concurrency"), workers=1,
                 args=["--pool-threads", "2"]) as s:
        yield s


def parallel(srv, paths, timeout=30):
    """GET every path on its own connection at once; returns the
    responses in order and the wall time taken."""
    results = [None] * len(paths)

    def one(i, path):
        try:
            results[i] = srv.get(path, timeout=timeout)
        except Exception as e:  # reported by the assert below
            results[i] = e
    threads = [threading.Thread(target=one, args=(i, p))
               for i, p in enumerate(paths)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    took = time.monotonic() - t0
    assert all(not t.is_alive() for t in threads)
    return results, took


def test_20_parallel_sleeps_overlap(server):
    results, took = parallel(server, ["/sleep?ms=500"] * 20)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.body == b"slept\n"
    # Serially this is 10 s; overlapped it is one sleep plus overhead.
    assert 0.5 <= took < 3.0, took


def test_offload_does_not_stall_other_requests(server):
    done = {}

    def offload(i):
        done[i] = server.get("/offload?ms=1000", timeout=20)
    threads = [threading.Thread(target=offload, args=(i,)) for i in range(2)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.2)  # both jobs are on the pool now
    latencies = []
    while time.monotonic() - t0 < 0.9:
        t1 = time.monotonic()
        assert server.get("/plaintext").body == b"Hello, World!"
        latencies.append(time.monotonic() - t1)
    for t in threads:
        t.join(20)
    assert latencies and max(latencies) < 0.3, latencies
    for r in done.values():
        assert r.status == 200 and r.body == b"offloaded 1000 ms rc=0\n"
    assert len(done) == 2
    assert time.monotonic() - t0 >= 1.0


def test_offload_jobs_queue_behind_busy_threads(server):
    # 4 jobs of 400 ms on 2 threads: two rounds, not one and not four.
    results, took = parallel(server, ["/offload?ms=400"] * 4)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200
    assert 0.8 <= took < 2.5, took


def test_sleeps_and_offloads_mixed(server):
    paths = ["/sleep?ms=300", "/offload?ms=300", "/plaintext"] * 5
    results, took = parallel(server, paths)
    for p, r in zip(paths, results):
        assert not isinstance(r, Exception), (p, r)
        assert r.status == 200, (p, r)
    assert took < 4.0, took
