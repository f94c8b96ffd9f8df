"""Fixtures every integration suite shares: where the built programs are and
a way to run one.

Programs are looked up under $KEEL_BUILD (default build/test, the sanitizer
build), relative to the repository root unless the variable is absolute.
A program that is missing fails the test that asked for it, with the path it
looked at: a suite must never pass because nothing was built.
"""
import contextlib
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def build_path():
    """The build folder the suites test: $KEEL_BUILD or build/test."""
    p = Path(os.environ.get("KEEL_BUILD", "build/test"))
    return p if p.is_absolute() else ROOT / p


def find_binary(rel):
    """Path of the program `rel` (e.g. "examples/interview/sum") in the
    build folder; fails the calling test when it is not an executable."""
    path = build_path() / rel
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path} is not built (KEEL_BUILD={build_path()}); "
                    "run `make testbuild` first")
    return path


def run_binary(rel, *args, stdin=None, timeout=60):
    """Run the built program `rel` with string arguments and optional text
    on stdin; returns the CompletedProcess with text stdout and stderr."""
    return subprocess.run([str(find_binary(rel)), *map(str, args)],
                          input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


@pytest.fixture
def repo_root():
    return ROOT


@pytest.fixture
def build_dir():
    return build_path()


@pytest.fixture
def binary():
    """find_binary as a fixture: binary("examples/interview/sum")."""
    return find_binary


@pytest.fixture
def run():
    """run_binary as a fixture: run("examples/interview/sum", 10)."""
    return run_binary


@pytest.fixture
def keel_server(tmp_path):
    """Start test servers: keel_server(workers=2, args=[...]) returns a
    running keelserver.Server; every one started is stopped afterwards
    (SIGTERM, bounded wait, SIGKILL) and its log checked for sanitizer
    reports."""
    from keelserver import running
    with contextlib.ExitStack() as stack:
        count = [0]

        def start(workers=1, args=(), env=None):
            count[0] += 1
            d = tmp_path / f"server{count[0]}"
            return stack.enter_context(running(d, workers, args, env))
        yield start
