"""The access log (combined and JSON lines) and client addresses through
trusted proxies, and descriptor exhaustion (EMFILE) not spinning the
worker."""
import json
import socket
import time

from keelserver import request, running, wait_until


def read_log(path):
    # The worker flushes its buffer at least once a second and at exit.
    assert wait_until(lambda: path.exists() and path.read_text(), 5)
    return path.read_text().strip().split("\n")


def test_combined_line_has_client_request_status_bytes_id_and_time(tmp_path):
    log = tmp_path / "access.log"
    with running(tmp_path / "srv", args=["--access-log", str(log)]) as srv:
        with srv.conn() as c:
            c.send(request("GET", "/plaintext?x=1",
                           headers='User-Agent: t "q"\r\nReferer: r\r\n'))
            resp = c.read_response()
            assert resp.status == 200
        time.sleep(1.5)
        lines = read_log(log)
    line = lines[-1]
    assert line.startswith("127.0.0.1 - - [")
    assert '"GET /plaintext?x=1 HTTP/1.1" 200 13 "r" "t \\x22q\\x22"' in line
    assert " id=" in line and " us=" in line


def test_json_lines_parse(tmp_path):
    log = tmp_path / "access.log"
    with running(tmp_path / "srv", args=["--access-log", str(log),
                                         "--access-format", "json"]) as srv:
        assert srv.get("/status?code=404").status == 404
        time.sleep(1.5)
        lines = read_log(log)
    rec = json.loads(lines[-1])
    assert rec["status"] == 404 and rec["method"] == "GET"
    assert rec["target"] == "/status?code=404" and rec["client"] == "127.0.0.1"
    assert isinstance(rec["us"], int) and rec["id"]


def client_seen(tmp_path, trusted, xff):
    log = tmp_path / "access.log"
    args = ["--access-log", str(log), "--access-format", "json"]
    if trusted:
        args += ["--trusted-proxies", trusted]
    with running(tmp_path / "srv", args=args) as srv:
        headers = f"X-Forwarded-For: {xff}\r\n" if xff else ""
        with srv.conn() as c:
            c.send(request("GET", "/plaintext", headers=headers))
            assert c.read_response().status == 200
        time.sleep(1.5)
        return json.loads(read_log(log)[-1])["client"]


def test_forwarded_for_is_ignored_from_untrusted_peers(tmp_path):
    assert client_seen(tmp_path, None, "203.0.113.9") == "127.0.0.1"


def test_forwarded_for_is_believed_from_trusted_proxies(tmp_path):
    assert client_seen(tmp_path, "127.0.0.1/32", "203.0.113.9") == \
        "203.0.113.9"


def test_only_hops_added_by_trusted_proxies_count(tmp_path):
    # The client forged the first entry; 198.51.100.7 is what our trusted
    # proxy (127.0.0.1) saw, and it is not trusted itself.
    got = client_seen(tmp_path, "127.0.0.0/8, 10.0.0.0/8",
                      "1.2.3.4, 198.51.100.7, 10.0.0.5")
    assert got == "198.51.100.7"


def test_garbage_forwarded_for_falls_back_to_the_peer(tmp_path):
    assert client_seen(tmp_path, "127.0.0.1", "not-an-address") == \
        "127.0.0.1"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def test_out_of_descriptors_does_not_spin_and_recovers(tmp_path):
    with running(tmp_path / "srv", nofile=96) as srv:
        worker = srv.workers()[0]
        socks = []
        for _ in range(150):
            try:
                s = socket.create_connection(("127.0.0.1", srv.port),
                                             timeout=2)
                socks.append(s)
            except OSError:
                break
        time.sleep(0.5)
        before = cpu_seconds(worker)
        time.sleep(2.0)
        spent = cpu_seconds(worker) - before
        # A worker spinning on a pending accept would burn ~2 s here.
        assert spent < 0.5, f"worker used {spent:.2f}s of CPU while full"
        for s in socks:
            s.close()
        assert wait_until(lambda: srv.get("/plaintext").status == 200, 10)
