"""The documentation cannot rot: every public function has a doc comment
and appears in the generated reference, and the guide's code compiles
and runs against the library."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"


def test_every_public_function_is_documented_and_referenced():
    r = subprocess.run([PYTHON, str(ROOT / "tools" / "gen_reference.py"),
                        "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_reference_lists_every_exported_symbol():
    text = (ROOT / "docs" / "reference.md").read_text()
    nm = subprocess.run(["nm", "-D", "--defined-only",
                         str(ROOT / "build/release/libkeel.so")],
                        check=True, capture_output=True, text=True).stdout
    exported = {l.split()[2] for l in nm.splitlines()
                if len(l.split()) == 3 and l.split()[1] in "TDBR"}
    missing = sorted(n for n in exported if f"### `{n}`" not in text)
    assert missing == []


def test_checker_catches_an_undocumented_function(tmp_path):
    # The check must be able to fail: a declaration without a comment.
    src = (ROOT / "tools" / "gen_reference.py").read_text()
    fake_root = tmp_path / "repo"
    (fake_root / "include" / "keel").mkdir(parents=True)
    (fake_root / "tools").mkdir()
    (fake_root / "docs").mkdir()
    (fake_root / "tools" / "gen_reference.py").write_text(src)
    (fake_root / "include" / "keel" / "x.h").write_text(
        "/* keel/x.h - a module. */\n"
        "/** Documented. */\nKEEL_API int keel_x_good(void);\n"
        "KEEL_API int keel_x_bad(void);\n")
    r = subprocess.run([PYTHON, str(fake_root / "tools" / "gen_reference.py")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "keel_x_bad has no /** */ comment" in r.stderr


def guide_program():
    text = (ROOT / "docs" / "guide.md").read_text()
    blocks, inside, cur = [], False, []
    for line in text.split("\n"):
        if not inside and line.strip() == "```c":
            inside, cur = True, []
        elif inside and line.strip() == "```":
            inside = False
            blocks.append("\n".join(cur))
        elif inside:
            cur.append(line)
    return "\n\n".join(blocks) + "\n"


def http(port, method, path, body=None, ctype="application/json"):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": ctype} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def test_guide_program_builds_and_behaves_as_documented(tmp_path):
    import json
    import signal
    import time
    src = tmp_path / "notes.c"
    src.write_text(guide_program())
    exe = tmp_path / "notes"
    release = ROOT / "build" / "release"
    subprocess.run(["cc", "-std=c17", "-Wall", "-Wextra", "-Werror",
                    "-I", str(ROOT / "include"), str(src), "-o", str(exe),
                    str(release / "libkeel.a"), "-ljansson", "-lz",
                    "-pthread", "-lm"], check=True)
    ready = tmp_path / "port"
    proc = subprocess.Popen([str(exe), "--workers", "1", "--port", "0",
                             "--ready-file", str(ready), "--log-level",
                             "warn"])
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(ready.read_text())
        st, _, body = http(port, "POST", "/api/notes",
                           b'{"note": {"title": "a", "body": "b"}}')
        assert st == 201, body
        note = json.loads(body)["note"]
        assert note["title"] == "a" and note["body"] == "b"
        nid = note["id"]
        st, _, body = http(port, "POST", "/api/notes",
                           b'{"note": {"title": ""}}')
        assert st == 422 and "title" in json.loads(body)["errors"]
        st, _, _ = http(port, "POST", "/api/notes", b"x", "text/plain")
        assert st == 415
        st, _, body = http(port, "GET", f"/api/notes/{nid}")
        assert st == 200 and json.loads(body)["note"]["id"] == nid
        st, _, _ = http(port, "GET", "/api/notes/abc")
        assert st == 404
        st, _, body = http(port, "PUT", f"/api/notes/{nid}",
                           b'{"note": {"title": "new"}}')
        assert st == 200 and json.loads(body)["note"]["title"] == "new"
        st, hdrs, _ = http(port, "DELETE", "/api/notes")
        assert st == 405 and "POST" in hdrs["Allow"]
        st, _, body = http(port, "GET", "/api/notes")
        assert [n["id"] for n in json.loads(body)["notes"]] == [nid]
        st, hdrs, _ = http(port, "DELETE", f"/api/notes/{nid}")
        assert st == 204 and "X-Request-Id" in hdrs
        st, _, body = http(port, "GET", f"/api/notes/{nid}")
        assert st == 404 and json.loads(body)["errors"]["note"]
        st, _, body = http(port, "GET", "/openapi.json")
        doc = json.loads(body)
        assert "/api/notes/{id}" in doc["paths"]
        assert "requestBody" in doc["paths"]["/api/notes"]["post"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
