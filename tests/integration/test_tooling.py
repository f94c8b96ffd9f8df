"""The build's own tools: the banned-function checker and `make install`."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"


def run_checker(tmp_path, source):
    f = tmp_path / "sample.c"
    f.write_text(source)
    return subprocess.run([PYTHON, str(ROOT / "tools" / "check_source.py"),
                           str(tmp_path)], capture_output=True, text=True)


def test_checker_flags_each_banned_call(tmp_path):
    banned = ["strcpy", "strcat", "sprintf", "vsprintf", "gets", "atoi",
              "atol", "strtok"]
    body = "".join(f"void f{i}(void) {{ {name} (x); }}\n"
                   for i, name in enumerate(banned))
    r = run_checker(tmp_path, body)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == len(banned)
    for i, (line, name) in enumerate(zip(lines, banned), 1):
        assert line.endswith(f"sample.c:{i}: banned function {name}")


def test_checker_ignores_comments_strings_and_lookalikes(tmp_path):
    src = ('/* strcpy(a, b) is banned */\n'
           '// sprintf(buf, "x")\n'
           'const char *s = "atoi(x) \\" strtok(";\n'
           "char c = '\\'';\n"
           'int n = snprintf(b, 4, "%d", 1) + my_atoi(x) + keel_gets(y);\n')
    r = run_checker(tmp_path, src)
    assert r.returncode == 0, r.stderr


def test_checker_passes_the_tree():
    r = subprocess.run([PYTHON, str(ROOT / "tools" / "check_source.py"),
                        str(ROOT / "src"), str(ROOT / "include")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


PROGRAM = r'''
#include <keel/keel.h>
#include <stdio.h>
int main(void) { puts(keel_strerror(KEEL_ENOENT)); return 0; }
'''


def pkg_config(destdir, *args):
    env = dict(os.environ,
               PKG_CONFIG_PATH=str(destdir / "opt/keel/lib/pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=str(destdir))
    out = subprocess.run(["pkg-config", *args, "keel"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.split()


def test_install_then_build_against_it_then_uninstall(tmp_path):
    dest = tmp_path / "root"
    make = ["make", "-s", "-C", str(ROOT), f"DESTDIR={dest}",
            "PREFIX=/opt/keel"]
    subprocess.run(make + ["install"], check=True, capture_output=True)
    lib = dest / "opt/keel/lib"
    assert (lib / "libkeel.a").is_file()
    assert os.readlink(lib / "libkeel.so") == "libkeel.so.0"
    assert (dest / "opt/keel/include/keel/keel.h").is_file()

    src = tmp_path / "prog.c"
    src.write_text(PROGRAM)
    for mode, extra in (("shared", []), ("static", ["--static"])):
        exe = tmp_path / f"prog-{mode}"
        flags = pkg_config(dest, "--cflags", "--libs", *extra)
        if mode == "static":
            flags = ["-static"] + flags
        subprocess.run(["cc", str(src), "-o", str(exe)] + flags, check=True)
        env = dict(os.environ, LD_LIBRARY_PATH=str(lib))
        out = subprocess.run([str(exe)], env=env, check=True,
                             capture_output=True, text=True).stdout
        assert out == "not found\n"

    subprocess.run(make + ["uninstall"], check=True, capture_output=True)
    left = [p for p in dest.rglob("*") if not p.is_dir()]
    assert left == []


def test_checker_flags_sql_built_by_formatting(tmp_path):
    src = ('void f(char *b, size_t n, int id, const char *t) {\n'
           '  snprintf(b, n, "SELECT * FROM users WHERE id = %d", id);\n'
           '  keel_buf_appendf(&buf, "delete from t where name = \'%s\'", t);\n'
           '  snprintf(b, n, "%s-%d", t, id);\n'
           '  keel_db_exec(c, "SELECT 1 WHERE id = $1", a, 1, NULL);\n'
           '  /* snprintf(b, n, "SELECT %d", id) in a comment */\n'
           '}\n')
    r = run_checker(tmp_path, src)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert "sample.c:2: SQL built by formatting in snprintf" in lines[0]
    assert "sample.c:3: SQL built by formatting in keel_buf_appendf" in lines[1]
