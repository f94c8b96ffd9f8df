"""Conduit's /openapi.json documents every route the app serves (each
path with its methods and path parameters), and `--help` works on every
command."""
import json
import re
import subprocess

from conftest import ROOT, find_binary
from keelserver import running

BINARY = "apps/conduit/conduit"


def env_for(tmp_path):
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
            "CONDUIT_SECRET": "s" * 40}


def routes(tmp_path):
    out = subprocess.run([str(find_binary(BINARY)), "routes"], cwd=ROOT,
                         env=env_for(tmp_path), capture_output=True,
                         text=True, check=True).stdout
    table = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("/"):
            table.append((parts[0], parts[1]))
    return table


def test_openapi_documents_every_route(tmp_path):
    table = routes(tmp_path)
    assert len(table) >= 19
    with running(tmp_path / "srv", binary=BINARY,
                 env=env_for(tmp_path)) as srv:
        resp = srv.get("/openapi.json")
        assert resp.status == 200
        doc = json.loads(resp.body)
    assert doc["openapi"].startswith("3.1")
    for method, pattern in table:
        if pattern == "/openapi.json":
            continue
        path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", pattern)
        op = doc["paths"].get(path, {}).get(method.lower())
        assert op is not None, f"{method} {pattern} not documented"
        names = {p["name"] for p in op.get("parameters", [])
                 if p.get("in") == "path"}
        assert names == set(re.findall(r"\{(\w+)", pattern)), (method, path)
    post = doc["paths"]["/api/users"]["post"]
    assert "requestBody" in post


def test_every_command_has_help(tmp_path):
    for cmd in ["migrate", "check", "createsuperuser", "seed", "routes"]:
        r = subprocess.run([str(find_binary(BINARY)), cmd, "--help"],
                           cwd=ROOT, env=env_for(tmp_path),
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, (cmd, r.stderr)
        assert r.stdout.startswith(f"usage: conduit {cmd}"), r.stdout
    r = subprocess.run([str(find_binary(BINARY)), "serve", "--help"],
                       cwd=ROOT, env=env_for(tmp_path), capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 0 and "--port" in r.stdout


def test_flags_win_over_the_environment(tmp_path):
    env = env_for(tmp_path)
    r = subprocess.run([str(find_binary(BINARY)), "check", "--database-url",
                        f"sqlite:///{tmp_path}/flag.db",
                        "--secret=" + "f" * 36],
                       cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=20)
    assert f"database_url: sqlite:///{tmp_path}/flag.db" in r.stdout
    assert "secret: 36 bytes" in r.stdout
    assert "f" * 36 not in r.stdout
