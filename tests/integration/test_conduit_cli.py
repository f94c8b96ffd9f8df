"""Conduit's management commands: migrate, migrate --status, check (no
secrets printed) and createsuperuser (an admin that can log in)."""
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import ROOT, find_binary
from keelserver import request, running

APP = "apps/conduit/conduit"
SECRET = "s3cr3t-" + "q" * 40


def env_for(tmp):
    env = dict(os.environ)
    env.update({"DATABASE_URL": f"sqlite:///{tmp}/c.db",
                "CONDUIT_SECRET": SECRET})
    return env


def run(tmp, *args):
    return subprocess.run([str(find_binary(APP)), *args], cwd=ROOT,
                          env=env_for(tmp), capture_output=True, text=True,
                          timeout=60)


def test_migrate_status_before_and_after(tmp_path):
    r = run(tmp_path, "migrate", "--status")
    assert r.returncode == 1
    assert "0001_init" in r.stdout and "pending" in r.stdout
    r = run(tmp_path, "migrate")
    assert r.returncode == 0, r.stderr
    r = run(tmp_path, "migrate", "--status")
    assert r.returncode == 0
    line = [x for x in r.stdout.splitlines() if x.startswith("0001_init")][0]
    assert "applied" in line and "Z" in line  # with its time stamp
    assert "0 pending" in r.stdout


def test_check_prints_config_without_the_secret(tmp_path):
    r = run(tmp_path, "check")
    assert r.returncode == 1  # nothing migrated yet
    assert "pending" in r.stdout
    run(tmp_path, "migrate")
    r = run(tmp_path, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"sqlite:///{tmp_path}/c.db" in r.stdout
    assert "token_ttl: 604800" in r.stdout
    assert "check: ok" in r.stdout
    assert SECRET not in r.stdout + r.stderr


def test_check_masks_a_database_password(tmp_path):
    env = env_for(tmp_path)
    env["DATABASE_URL"] = "postgres://bob:hunter2@db.example/conduit"
    r = subprocess.run([str(find_binary(APP)), "check"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "hunter2" not in r.stdout + r.stderr
    assert "bob:***@db.example" in r.stdout


def test_createsuperuser_makes_an_admin_that_can_log_in(tmp_path):
    r = run(tmp_path, "createsuperuser", "--username", "root",
            "--email=root@example.com", "--password", "rootroot1")
    assert r.returncode == 0, r.stderr
    db = sqlite3.connect(tmp_path / "c.db")
    row = db.execute("SELECT is_admin, password_hash FROM users "
                     "WHERE username = 'root'").fetchone()
    db.close()
    assert row[0] == 1 and row[1].startswith("$argon2id$")
    again = run(tmp_path, "createsuperuser", "--username", "root",
                "--email", "root2@example.com", "--password", "rootroot1")
    assert again.returncode == 1 and "taken" in again.stderr
    with running(tmp_path, binary=APP, env={
            "DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
            "CONDUIT_SECRET": SECRET}) as srv:
        body = json.dumps({"user": {"email": "root@example.com",
                                    "password": "rootroot1"}}).encode()
        with srv.conn() as c:
            c.send(request("POST", "/api/users/login", body=body,
                           headers="Content-Type: application/json\r\n",
                           close=True))
            assert c.read_response().status == 200


@pytest.mark.parametrize("args", [
    [],
    ["--username", "x", "--email", "x@example.com"],
    ["--username", "x", "--email", "bad", "--password", "password1"],
    ["--username", "x", "--email", "x@example.com", "--password", "short"],
    ["--username", " ", "--email", "x@example.com", "--password", "pw123456"],
    ["--bogus", "1"],
    ["--username"],
])
def test_createsuperuser_bad_arguments_exit_2(tmp_path, args):
    r = run(tmp_path, "createsuperuser", *args)
    assert r.returncode == 2
    assert r.stderr
