"""Static files over real sockets: tests/apps/staticserver mounts a
temporary folder at /files and is spoken to with raw HTTP/1.1.

Covered: GET/HEAD, validators and 304, ranges (206, 416, If-Range),
precompressed gzip negotiation, directory handling, escape attempts that
must never leak a byte from outside the root, a 20 MiB body sent with
sendfile to a client that reads slowly, and pipelined requests mixing file
and ordinary responses, which must come back whole and in order.
"""
import gzip
import hashlib
import os
import random
import signal
import socket
import subprocess
import time

import pytest

from conftest import ROOT, find_binary

APP = "tests/apps/staticserver"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
IO_TIMEOUT = 15.0
SECRET = b"TOPSECRET-5f3a"
BIG_SIZE = 20 << 20
MID_SIZE = 3 << 20
SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer",
                   b"runtime error:")


# ------------------------------------------------------------ fixtures

def make_tree(base):
    """The served folder, plus a secret next to it that must never leak."""
    root, outside = base / "root", base / "outside"
    (root / "sub").mkdir(parents=True)
    (root / "noindex").mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET + b"\n")
    (root / "hello.txt").write_bytes(b"hello world\n")
    (root / "empty.txt").write_bytes(b"")
    css = b"body { color: #333 }\n" * 50
    (root / "a.css").write_bytes(css)
    (root / "a.css.gz").write_bytes(gzip.compress(css))
    (root / "sub" / "index.html").write_bytes(b"<p>sub index</p>\n")
    (root / "noindex" / "x.txt").write_bytes(b"x\n")
    (root / ".env").write_bytes(SECRET + b"\n")
    (root / "link_out").symlink_to(outside / "secret.txt")
    (root / "link_dir_out").symlink_to(outside)
    (root / "link_in").symlink_to("hello.txt")
    rnd = random.Random(7)
    (root / "big.bin").write_bytes(rnd.randbytes(BIG_SIZE))
    (root / "mid.bin").write_bytes(rnd.randbytes(MID_SIZE))
    return root


def start(root, log_path, *extra):
    ready = log_path.with_suffix(".ready")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(find_binary(APP)), "--root", str(root), "--prefix", "/files",
         "--port", "0", "--workers", "1", "--ready-file", str(ready),
         "--max-age", "3600", *extra],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready.exists():
            text = ready.read_text().strip()
            if text:
                return proc, int(text), log
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    log.close()
    pytest.fail(f"staticserver did not start: {log_path.read_text()}")


def stop(proc, log, log_path):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("staticserver did not stop on SIGTERM")
    log.close()
    text = log_path.read_bytes()
    for mark in SANITIZER_MARKS:
        assert mark not in text, text.decode(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("static")
    root = make_tree(base)
    log_path = base / "server.log"
    proc, port, log = start(root, log_path)
    yield {"port": port, "root": root}
    stop(proc, log, log_path)


# ------------------------------------------------------- a raw client

class Conn:
    """One client connection with a read buffer."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(IO_TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, size=65536):
        chunk = self.sock.recv(size)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self, head=False):
        """(status, headers, body) of the next response."""
        status, headers = self.read_head()
        n = 0 if head or status in (204, 304) else int(
            headers.get("content-length", "0"))
        return status, headers, self.read_exact(n)

    def request(self, target, method="GET", headers=None):
        self.send(build(target, method, headers))
        return self.response(head=method == "HEAD")

    def closed_by_server(self):
        """True when the server closed without sending more bytes."""
        if self.buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


def build(target, method="GET", headers=None, version="1.1"):
    lines = [f"{method} {target} HTTP/{version}", "Host: localhost"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def fetch(server, target, method="GET", headers=None):
    c = Conn(server["port"])
    try:
        return c.request(target, method, headers)
    finally:
        c.close()


def file_bytes(server, name):
    return (server["root"] / name).read_bytes()


# ---------------------------------------------------------- GET, HEAD

def test_get_serves_file_with_headers(server):
    status, h, body = fetch(server, "/files/hello.txt")
    assert status == 200
    assert body == b"hello world\n"
    assert h["content-length"] == "12"
    assert h["content-type"] == "text/plain; charset=utf-8"
    assert h["x-content-type-options"] == "nosniff"
    assert h["cache-control"] == "public, max-age=3600"
    assert h["accept-ranges"] == "bytes"
    assert h["etag"].startswith('"') and h["etag"].endswith('"')
    assert h["last-modified"].endswith(" GMT")


def test_head_sends_headers_only_and_keeps_the_connection(server):
    c = Conn(server["port"])
    try:
        s1, h1, b1 = c.request("/files/mid.bin", "HEAD")
        assert s1 == 200 and b1 == b""
        assert h1["content-length"] == str(MID_SIZE)
        # Had the body been sent, this response would be garbage.
        s2, _, b2 = c.request("/files/hello.txt")
        assert s2 == 200 and b2 == b"hello world\n"
    finally:
        c.close()


def test_empty_file_then_more_on_the_same_connection(server):
    c = Conn(server["port"])
    try:
        status, h, body = c.request("/files/empty.txt",
                                    headers={"Range": "bytes=0-"})
        assert status == 200 and body == b""
        assert h["content-length"] == "0"
        status, _, body = c.request("/files/hello.txt")
        assert status == 200 and body == b"hello world\n"
    finally:
        c.close()


def test_other_methods_405_and_other_paths_pass_through(server):
    status, h, _ = fetch(server, "/files/hello.txt", "POST",
                         {"Content-Length": "0"})
    assert status == 405
    assert h["allow"] == "GET, HEAD"
    status, _, body = fetch(server, "/elsewhere")
    assert status == 404 and b"no route" in body
    status, _, body = fetch(server, "/_app/ping")
    assert status == 200 and body == b"pong\n"


# ----------------------------------------------------- conditionals

def test_304_by_etag_and_by_date(server):
    _, h, _ = fetch(server, "/files/hello.txt")
    etag, lm = h["etag"], h["last-modified"]
    for cond in ({"If-None-Match": etag},
                 {"If-None-Match": f'"nope", W/{etag}'},
                 {"If-None-Match": "*"},
                 {"If-Modified-Since": lm}):
        status, h2, body = fetch(server, "/files/hello.txt", headers=cond)
        assert status == 304, cond
        assert body == b"" and "content-length" not in h2
        assert h2["etag"] == etag
    status, _, body = fetch(server, "/files/hello.txt",
                            headers={"If-None-Match": '"nope"'})
    assert status == 200 and body == b"hello world\n"
    status, _, _ = fetch(server, "/files/hello.txt", headers={
        "If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert status == 200
    # If-None-Match decides when both are present.
    status, _, _ = fetch(server, "/files/hello.txt", headers={
        "If-None-Match": '"nope"', "If-Modified-Since": lm})
    assert status == 200


def test_304_on_keep_alive_connection_then_more(server):
    c = Conn(server["port"])
    try:
        _, h, _ = c.request("/files/mid.bin", "HEAD")
        status, _, _ = c.request("/files/mid.bin",
                                 headers={"If-None-Match": h["etag"]})
        assert status == 304
        status, _, body = c.request("/files/hello.txt")
        assert status == 200 and body == b"hello world\n"
    finally:
        c.close()


# ------------------------------------------------------------ ranges

def test_ranges(server):
    data = file_bytes(server, "mid.bin")
    size = len(data)
    cases = [("bytes=0-9", 0, 9), ("bytes=100-", 100, size - 1),
             ("bytes=-500", size - 500, size - 1),
             (f"bytes={size - 5}-{size * 2}", size - 5, size - 1)]
    for spec, a, b in cases:
        status, h, body = fetch(server, "/files/mid.bin",
                                headers={"Range": spec})
        assert status == 206, spec
        assert h["content-range"] == f"bytes {a}-{b}/{size}"
        assert body == data[a:b + 1]


def test_range_unsatisfiable_and_multiple(server):
    status, h, _ = fetch(server, "/files/hello.txt",
                         headers={"Range": "bytes=50-60"})
    assert status == 416
    assert h["content-range"] == "bytes */12"
    status, h, body = fetch(server, "/files/hello.txt",
                            headers={"Range": "bytes=0-1,4-5"})
    assert status == 200 and body == b"hello world\n"
    assert "content-range" not in h
    status, _, body = fetch(server, "/files/hello.txt",
                            headers={"Range": "bytes=5-1"})
    assert status == 200 and body == b"hello world\n"


def test_if_range(server):
    _, h, _ = fetch(server, "/files/hello.txt")
    for validator in (h["etag"], h["last-modified"]):
        status, _, body = fetch(server, "/files/hello.txt", headers={
            "Range": "bytes=0-4", "If-Range": validator})
        assert status == 206 and body == b"hello"
    for stale in ('"old"', "W/" + h["etag"],
                  "Sat, 01 Jan 2000 00:00:00 GMT"):
        status, _, body = fetch(server, "/files/hello.txt", headers={
            "Range": "bytes=0-4", "If-Range": stale})
        assert status == 200 and body == b"hello world\n", stale


# -------------------------------------------------------------- gzip

def test_gzip_negotiation(server):
    plain = file_bytes(server, "a.css")
    status, h, body = fetch(server, "/files/a.css",
                            headers={"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert h["content-encoding"] == "gzip"
    assert h["vary"] == "Accept-Encoding"
    assert h["content-type"] == "text/css; charset=utf-8"
    assert gzip.decompress(body) == plain
    gz_etag = h["etag"]
    for ae in ("gzip;q=0", "br", "identity", "gzip;q=0.5, identity;q=1",
               None):
        hdrs = {"Accept-Encoding": ae} if ae else {}
        status, h, body = fetch(server, "/files/a.css", headers=hdrs)
        assert status == 200, ae
        assert "content-encoding" not in h, ae
        assert h["vary"] == "Accept-Encoding"
        assert h["etag"] != gz_etag
        assert body == plain
    _, h, _ = fetch(server, "/files/hello.txt",
                    headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in h and "vary" not in h


# -------------------------------------------------------- directories

def test_directories(server):
    status, h, _ = fetch(server, "/files/sub")
    assert status == 301 and h["location"] == "/files/sub/"
    status, h, _ = fetch(server, "/files?x=1")
    assert status == 301 and h["location"] == "/files/?x=1"
    status, h, body = fetch(server, "/files/sub/")
    assert status == 200 and body == b"<p>sub index</p>\n"
    assert h["content-type"] == "text/html; charset=utf-8"
    status, _, _ = fetch(server, "/files/noindex/")
    assert status == 404  # listings are off by default


# --------------------------------------------------- escape attempts

ESCAPES = [
    "/files/../outside/secret.txt",
    "/files/../../outside/secret.txt",
    "/files/%2e%2e/%2e%2e/outside/secret.txt",
    "/files/%2E%2E/outside/secret.txt",
    "/files/%252e%252e/%252e%252e/outside/secret.txt",
    "/files/..%2f..%2foutside/secret.txt",
    "/files/..%5c..%5coutside%5csecret.txt",
    "/files/..\\..\\outside\\secret.txt",
    "/files/%c0%ae%c0%ae/outside/secret.txt",
    "/files/hello.txt%00.css",
    "/files/%00",
    "/files/link_out",
    "/files/link_dir_out/secret.txt",
    "/files/.env",
    "/files//../outside/secret.txt",
    "http://localhost/files/../../outside/secret.txt",
    "http://localhost/files/link_out",
]


@pytest.mark.parametrize("target", ESCAPES)
def test_escape_attempts_are_refused(server, target):
    c = Conn(server["port"])
    try:
        c.send(build(target))
        status, _, body = c.response()
    finally:
        c.close()
    assert status in (400, 404), (target, status)
    assert SECRET not in body


def test_symlink_inside_root_is_served(server):
    status, _, body = fetch(server, "/files/link_in")
    assert status == 200 and body == b"hello world\n"


# ------------------------------------------- big files and pipelining

def test_big_file_to_a_slow_reader(server):
    want = hashlib.sha256(file_bytes(server, "big.bin")).hexdigest()
    c = Conn(server["port"], rcvbuf=32 * 1024)
    try:
        c.send(build("/files/big.bin"))
        time.sleep(0.5)  # let the server fill the socket and stall
        status, h = c.read_head()
        assert status == 200 and int(h["content-length"]) == BIG_SIZE
        digest, got = hashlib.sha256(), 0
        chunk = c.buf
        c.buf = b""
        while True:
            digest.update(chunk)
            got += len(chunk)
            if got >= BIG_SIZE:
                break
            if got % (1 << 20) < 32 * 1024:
                time.sleep(0.05)  # a reader that keeps pausing
            chunk = c.sock.recv(min(32 * 1024, BIG_SIZE - got))
            assert chunk, "connection closed mid-body"
        assert got == BIG_SIZE
        assert digest.hexdigest() == want
        status, _, body = c.request("/files/hello.txt")
        assert status == 200 and body == b"hello world\n"
    finally:
        c.close()


def test_pipelined_files_and_small_responses_stay_in_order(server):
    mid = file_bytes(server, "mid.bin")
    reqs = [
        ("/files/hello.txt", "GET", {}),
        ("/files/mid.bin", "GET", {}),
        ("/_app/ping", "GET", {}),
        ("/files/a.css", "HEAD", {}),
        ("/files/mid.bin", "GET", {"Range": "bytes=1000-1999"}),
        ("/files/missing", "GET", {}),
        ("/files/big.bin", "HEAD", {}),
        ("/files/mid.bin", "GET", {}),
        ("/files/hello.txt", "GET", {}),
    ]
    c = Conn(server["port"], rcvbuf=64 * 1024)
    try:
        c.send(b"".join(build(t, m, h) for t, m, h in reqs))
        got = [c.response(head=m == "HEAD") for _, m, _ in reqs]
    finally:
        c.close()
    assert [g[0] for g in got] == [200, 200, 200, 200, 206, 404, 200, 200,
                                   200]
    assert got[0][2] == b"hello world\n"
    assert got[1][2] == mid
    assert got[2][2] == b"pong\n"
    assert got[3][2] == b"" and got[3][1]["content-length"] == str(
        len(file_bytes(server, "a.css")))
    assert got[4][2] == mid[1000:2000]
    assert got[6][1]["content-length"] == str(BIG_SIZE)
    assert got[7][2] == mid
    assert got[8][2] == b"hello world\n"


def test_http10_file_then_close(server):
    c = Conn(server["port"])
    try:
        c.send(build("/files/mid.bin", version="1.0"))
        status, h, body = c.response()
        assert status == 200 and body == file_bytes(server, "mid.bin")
        assert h.get("connection") == "close"
        assert c.closed_by_server()
    finally:
        c.close()


def test_client_leaving_mid_file_does_not_hurt_the_server(server):
    for _ in range(3):
        c = Conn(server["port"], rcvbuf=16 * 1024)
        c.send(build("/files/big.bin"))
        c.read_head()
        c.close()
    status, _, body = fetch(server, "/files/hello.txt")
    assert status == 200 and body == b"hello world\n"


# ------------------------------------------------- another mount's opts

def test_listing_escapes_names_and_hides_dotfiles(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "<b>&'x\".txt").write_bytes(b"x")
    (root / ".hidden").write_bytes(b"x")
    (root / "dir").mkdir()
    log_path = tmp_path / "server.log"
    proc, port, log = start(root, log_path, "--listing", "--no-gzip")
    try:
        status, h, body = fetch({"port": port}, "/files/")
        assert status == 200
        assert h["content-type"] == "text/html; charset=utf-8"
        text = body.decode()
        assert "&lt;b&gt;&amp;&#39;x&quot;.txt" in text
        assert 'href="%3Cb%3E%26%27x%22.txt"' in text
        assert 'href="dir/"' in text
        assert "<b>" not in text and "hidden" not in text
    finally:
        stop(proc, log, log_path)


def test_reader_that_stops_is_dropped_after_the_write_timeout(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "big.bin").write_bytes(b"z" * BIG_SIZE)
    log_path = tmp_path / "server.log"
    proc, port, log = start(root, log_path, "--write-timeout", "1s")
    try:
        c = Conn(port, rcvbuf=16 * 1024)
        c.send(build("/files/big.bin"))
        status, _ = c.read_head()
        assert status == 200
        time.sleep(2.5)  # never read: the server must give up
        got = len(c.buf)
        with pytest.raises((EOFError, ConnectionResetError)):
            while True:
                c._fill()
                got += len(c.buf)
                c.buf = b""
        assert got < BIG_SIZE
        c.close()
        status, _, _ = fetch({"port": port}, "/files/big.bin", "HEAD")
        assert status == 200
    finally:
        stop(proc, log, log_path)
