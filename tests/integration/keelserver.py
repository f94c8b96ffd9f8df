"""Shared helpers for the HTTP server suites (tests/integration/test_http_*).

`Server` starts the real test server (tests/apps/testserver, the sanitizer
build by default) on a free port, knows its master and worker pids, and
always stops it: SIGTERM, a bounded wait, then SIGKILL.  Its log is kept in
the test's tmp folder and checked for sanitizer reports when it stops.

`Conn` is a raw client socket with a read buffer: send a request whole or
one byte at a time, read exactly one response (Content-Length, chunked, or
until close; 1xx interim responses are collected on the side), and check
that the server closed the connection without sending anything more.

Everything here has a timeout: a hung server fails a test, it never hangs
the suite.
"""
import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

from conftest import ROOT, find_binary

TESTSERVER = "tests/apps/testserver"
START_TIMEOUT = 20.0  # sanitizer builds start slowly on a loaded machine
STOP_TIMEOUT = 20.0
IO_TIMEOUT = 10.0
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


def wait_until(pred, timeout, interval=0.02):
    """Poll pred() until it returns something truthy or `timeout` seconds
    pass; returns that value, or the last falsy one."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def raise_nofile(want):
    """Raise this process's descriptor limit to `want` (capped by the hard
    limit); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def _no_core_dumps():
    # /crash aborts on purpose: no core files from the test run.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _limits(nofile):
    _no_core_dumps()
    if nofile:
        # Soft and hard: the master raises its soft limit to the hard one.
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))


def proc_children(pid):
    """Pids of the live children of `pid` (from /proc, all its threads)."""
    kids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return kids
    for t in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{t}/children").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        kids.extend(int(x) for x in text.split())
    return kids


def proc_cmdline(pid):
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return raw.replace(b"\0", b" ").decode("latin-1").strip()


def proc_state(pid):
    """The one-letter state of `pid` ('Z' for a zombie), or '' if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return stat[stat.rindex(")") + 2]


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def stable_fd_count(pid, quiet=0.3, timeout=10.0):
    """fd count of pid once it has not changed for `quiet` seconds (the
    server closes connections a moment after the client does)."""
    deadline = time.monotonic() + timeout
    last, since = fd_count(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        n = fd_count(pid)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


class Server:
    """One running testserver: master pid, port, workers, log."""

    def __init__(self, tmp_path, workers=1, args=(), env=None,
                 binary=TESTSERVER, nofile=None):
        self.dir = Path(tmp_path)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ready = self.dir / "port"
        self.logfile = self.dir / "server.log"
        self.nworkers = workers
        self.exit_code = None
        exe = find_binary(binary)
        cmd = [str(exe), "--port", "0", "--workers", str(workers),
               "--log-level", "info", *map(str, args)]
        full_env = dict(os.environ)
        full_env["KEEL_READY_FILE"] = str(self.ready)
        asan = full_env.get("ASAN_OPTIONS", "")
        full_env["ASAN_OPTIONS"] = ":".join(
            x for x in (asan, "abort_on_error=0", "disable_coredump=1") if x)
        full_env.update(env or {})
        self.ready.unlink(missing_ok=True)  # never read a stale port
        with open(self.logfile, "wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=full_env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=lambda: _limits(nofile))
        self.pid = self.proc.pid
        try:
            self.port = self._wait_ready()
            self.wait_workers(workers)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.proc.returncode} before "
                    f"listening:\n{self.log()}")
            try:
                text = self.ready.read_text()
                if text.endswith("\n"):
                    return int(text)
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.02)
        raise AssertionError(f"no ready file after {START_TIMEOUT}s:\n"
                             f"{self.log()}")

    # ------------------------------------------------------------ processes

    def workers(self):
        """Pids of the master's live (non-zombie) worker processes."""
        return sorted(p for p in proc_children(self.pid)
                      if proc_state(p) not in ("", "Z"))

    def wait_workers(self, n, exclude=(), timeout=START_TIMEOUT):
        """Wait until exactly `n` workers run, none of them in `exclude`,
        and each has renamed itself; returns their pids."""
        exclude = set(exclude)

        def ok():
            ws = self.workers()
            if len(ws) != n or exclude & set(ws):
                return None
            if not all("worker" in proc_cmdline(p) for p in ws):
                return None
            return ws
        ws = wait_until(ok, timeout)
        assert ws, (f"wanted {n} workers not in {sorted(exclude)}, have "
                    f"{self.workers()}\n{self.log()}")
        return ws

    def signal(self, sig):
        os.kill(self.pid, sig)

    def wait_exit(self, timeout):
        """Exit status of the master, or None if it is still running after
        `timeout` seconds."""
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.exit_code

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM the master, wait, SIGKILL it (and any worker left) if it
        is still there; returns its exit status."""
        workers = self.workers()
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait_exit(timeout) is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for w in workers:
            if proc_state(w) not in ("", "Z"):
                try:
                    os.kill(w, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.exit_code = self.proc.returncode
        return self.exit_code

    def log(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def sanitizer_reports(self):
        text = self.log()
        return [m for m in SANITIZER_MARKS if m in text]

    # ---------------------------------------------------------------- client

    def conn(self, timeout=IO_TIMEOUT, rcvbuf=None):
        return Conn(self.port, timeout, rcvbuf=rcvbuf)

    def get(self, path, timeout=IO_TIMEOUT, headers=""):
        """One GET on a fresh connection; returns the Response."""
        with self.conn(timeout) as c:
            c.send(request("GET", path, headers=headers,
                           close=True))
            return c.read_response()


@contextlib.contextmanager
def running(tmp_dir, workers=1, args=(), env=None, binary=TESTSERVER,
            nofile=None):
    """A Server for the length of a with-block (or a fixture): always
    stopped at the end, and its log must hold no sanitizer report."""
    srv = Server(tmp_dir, workers, args, env, binary, nofile)
    try:
        yield srv
    finally:
        srv.stop()
    bad = srv.sanitizer_reports()
    assert not bad, f"sanitizer report in the server log:\n{srv.log()}"


def request(method, path, body=b"", headers="", version="1.1",
            close=False, host="t"):
    """Bytes of a well-formed request (Content-Length added for a body)."""
    lines = [f"{method} {path} HTTP/{version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    head = "\r\n".join(lines) + "\r\n" + headers
    if isinstance(body, str):
        body = body.encode()
    return head.encode("latin-1") + b"\r\n" + body


class Response:
    """A parsed response: status, reason, headers (list and lower-case
    dict), body, the 1xx interim responses before it, and the raw bytes."""

    def __init__(self, status, reason, header_list, body, interim, raw):
        self.status = status
        self.reason = reason
        self.header_list = header_list
        self.headers = {}
        for k, v in header_list:
            self.headers.setdefault(k.lower(), v)
        self.body = body
        self.interim = interim
        self.raw = raw

    def header(self, name):
        return self.headers.get(name.lower())

    def count(self, name):
        return sum(1 for k, _ in self.header_list if k.lower() == name.lower())

    def __repr__(self):
        return f"<Response {self.status} {self.header_list} {self.body[:80]!r}>"


class Closed(Exception):
    """The server closed the connection before a whole response came."""


class Conn:
    """A client connection with a read buffer; use as a context manager."""

    def __init__(self, port, timeout=IO_TIMEOUT, host="127.0.0.1",
                 rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Before connect, so the window is small from the start.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect((host, port))
        except BaseException:
            self.sock.close()
            raise
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # ----------------------------------------------------------------- send

    def send(self, data):
        self.sock.sendall(data)

    def send_bytewise(self, data, delay=0.0):
        """Send one byte per segment (TCP_NODELAY is on).  Stops quietly if
        the server has already closed: what it answered is still readable.
        Returns the number of bytes sent."""
        for i in range(len(data)):
            try:
                self.sock.sendall(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                return i
            if delay:
                time.sleep(delay)
        return len(data)

    # ------------------------------------------------------------------ read

    def _fill(self, deadline):
        """Read more bytes into buf; False at EOF (or reset)."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no response in time; have "
                               f"{self.buf[:200]!r}")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            raise TimeoutError("no response in time; have "
                               f"{self.buf[:200]!r}") from None
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _take_until(self, mark, deadline):
        while mark not in self.buf:
            if not self._fill(deadline):
                raise Closed(f"closed before {mark!r}; have {self.buf!r}")
        i = self.buf.index(mark) + len(mark)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise Closed(f"closed after {len(self.buf)} of {n} body "
                             "bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_head(self, deadline):
        raw = self._take_until(b"\r\n\r\n", deadline)
        lines = raw[:-4].split(b"\r\n")
        m = re.fullmatch(rb"HTTP/1\.([01]) (\d{3}) (.*)", lines[0])
        assert m, f"bad status line {lines[0]!r}"
        hdrs = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            assert sep and name and name == name.strip(), \
                f"bad header line {line!r}"
            hdrs.append((name.decode("latin-1"),
                         value.strip().decode("latin-1")))
        return int(m.group(2)), m.group(3).decode("latin-1"), hdrs, raw

    def _read_chunked(self, deadline):
        body = b""
        while True:
            line = self._take_until(b"\r\n", deadline)
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while self._take_until(b"\r\n", deadline) != b"\r\n":
                    pass  # trailer fields
                return body
            body += self._take(size, deadline)
            assert self._take(2, deadline) == b"\r\n"

    def read_response(self, head=False, timeout=None):
        """Read one whole response (interim 1xx ones are kept in
        .interim).  `head`: it answers a HEAD request, so has no body."""
        deadline = time.monotonic() + (timeout or self.timeout)
        interim = []
        raw = b""
        while True:
            status, reason, hdrs, raw_head = self._read_head(deadline)
            raw += raw_head
            if status >= 200:
                break
            interim.append((status, reason, hdrs))
        resp = Response(status, reason, hdrs, b"", interim, raw)
        if head or status in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None:
            assert te.lower() == "chunked", te
            resp.body = self._read_chunked(deadline)
        elif cl is not None:
            resp.body = self._take(int(cl), deadline)
        else:
            while self._fill(deadline):
                pass
            resp.body, self.buf = self.buf, b""
        resp.raw += resp.body
        return resp

    def read_interim(self, timeout=None):
        """Read one response head that must be a 1xx; returns its status."""
        deadline = time.monotonic() + (timeout or self.timeout)
        status, _, _, _ = self._read_head(deadline)
        assert 100 <= status < 200, f"wanted an interim response: {status}"
        return status

    def read_until_close(self, timeout=None):
        """Everything until the server closes (reset counts as close)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while self._fill(deadline):
            pass
        out, self.buf = self.buf, b""
        return out

    def assert_closed(self, timeout=None):
        """The server closes the connection and sends nothing more."""
        rest = self.read_until_close(timeout)
        assert rest == b"", f"unexpected bytes after the response: {rest!r}"

    def assert_silent(self, seconds):
        """Nothing arrives and the connection stays open for `seconds`."""
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        raise AssertionError(f"expected silence, got {data!r}"
                             if data else "connection closed early")

    def is_closed(self, timeout=0.5):
        """True when the server has closed (EOF/reset) within `timeout`."""
        try:
            rest = self.read_until_close(timeout)
        except TimeoutError:
            return False
        assert rest == b"", f"unexpected bytes: {rest!r}"
        return True
