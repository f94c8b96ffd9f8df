"""tools/embed_sql.py: migration folders become C arrays at build time.

Good folders give deterministic C that compiles warning-free under gcc and
clang with the project's flags and holds every file byte for byte; bad
names, repeated numbers, half dialect pairs and bad bytes stop the build
with a message naming the file.  One test goes end to end: generated C
linked with libkeel applies the fixture set to a real SQLite file, and a
changed file is refused on the next run.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
TOOL = ROOT / "tools" / "embed_sql.py"
FIXTURES = ROOT / "tests" / "data" / "migrations"
CFLAGS = ["-std=c17", "-D_GNU_SOURCE", f"-I{ROOT / 'include'}", "-Wall",
          "-Wextra", "-Wpedantic", "-Wshadow", "-Wmissing-prototypes",
          "-Werror"]


def embed(folder, out, symbol="blog_migrations"):
    return subprocess.run([PYTHON, str(TOOL), "--symbol", symbol,
                           str(folder), str(out)],
                          capture_output=True, text=True, cwd=ROOT)


def make_folder(tmp_path, files):
    d = tmp_path / "migrations"
    d.mkdir()
    for name, data in files.items():
        (d / name).write_bytes(data if isinstance(data, bytes)
                               else data.encode())
    return d


def refused(tmp_path, files, *needles):
    out = tmp_path / "out.c"
    r = embed(make_folder(tmp_path, files), out)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("embed_sql: "), r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr
    assert not out.exists(), "a refused folder must not leave output"
    return r.stderr


# The round-trip program: writes every embedded file back out.
DUMP = r'''
#include <stdio.h>
#include <string.h>
#include "keel/migrate.h"
KEEL_MIGRATIONS_DECLARE(blog_migrations);
int main(int argc, char **argv)
{
	(void)argc;
	for (size_t i = 0; i < blog_migrations_count; i++) {
		const keel_migration_t *m = &blog_migrations[i];
		char path[512];
		snprintf(path, sizeof(path), "%s/%s%s%s.sql", argv[1], m->name,
		         m->dialect ? "." : "", m->dialect ? m->dialect : "");
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(m->sql, 1, m->len, f) != m->len ||
		    m->sql[m->len] != '\0')
			return 1;
		fclose(f);
	}
	printf("%zu\n", blog_migrations_count);
	return 0;
}
'''


def compile_dump(tmp_path, gen, cc="gcc"):
    main = tmp_path / "dump.c"
    main.write_text(DUMP)
    exe = tmp_path / f"dump-{cc}"
    r = subprocess.run([cc, *CFLAGS, "-o", str(exe), str(gen), str(main)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def round_trip(tmp_path, folder):
    """Embed `folder`, compile, dump: the dumped files equal the sources."""
    gen = tmp_path / "gen.c"
    r = embed(folder, gen)
    assert r.returncode == 0, r.stderr
    outdir = tmp_path / "dumped"
    outdir.mkdir()
    for cc in ("gcc", "clang"):
        exe = compile_dump(tmp_path, gen, cc)
        r = subprocess.run([str(exe), str(outdir)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
    sources = sorted(p.name for p in folder.glob("*.sql"))
    assert sorted(p.name for p in outdir.iterdir()) == sources
    for name in sources:
        assert (outdir / name).read_bytes() == (folder / name).read_bytes()
    return gen.read_text()


def test_good_folder_is_sorted_deterministic_and_exact(tmp_path):
    text = round_trip(tmp_path, FIXTURES / "blog")
    order = [line.split('"')[1] for line in text.splitlines()
             if line.startswith('\t{"')]
    assert order == ["0001_users", "0002_articles", "0005_tags",
                     "0005_tags"]
    assert '"postgres"},' in text and '"sqlite"},' in text
    assert "const size_t blog_migrations_count = 4;" in text
    again = tmp_path / "again.c"
    assert embed(FIXTURES / "blog", again).returncode == 0
    assert again.read_bytes() == (tmp_path / "gen.c").read_bytes()


def test_awkward_bytes_survive_embedding(tmp_path):
    big = "".join(f"INSERT INTO t VALUES ({i}, 'row {i}');\n"
                  for i in range(400))
    assert len(big) > 4096  # beyond what a C string literal must hold
    folder = make_folder(tmp_path, {
        "0001_quotes.sql": 'SELECT "a", \'b\\c\', \'\t\r\n\';\n',
        "0002_trigraphs.sql": "SELECT '??=??/??'??(??)??!??<??>??-???';",
        "0003_utf8.sql": "SELECT 'caf\u00e9 \u2603 \U0001F600';\n",
        "0004_no_newline.sql": "SELECT 1",
        "0005_empty.sql": "",
        "0006_big.sql": big,
        "0007_octal_then_digit.sql": "SELECT '\x7f1\x012';",
    })
    text = round_trip(tmp_path, folder)
    assert "static const char blog_migrations_0006_big[] = {" in text


def test_empty_folder_compiles_to_zero_entries(tmp_path):
    folder = make_folder(tmp_path, {"README.md": "notes",
                                    ".0001_x.sql.swp": "junk"})
    out = tmp_path / "gen.c"
    r = embed(folder, out)
    assert r.returncode == 0, r.stderr
    assert "const size_t blog_migrations_count = 0;" in out.read_text()
    exe = compile_dump(tmp_path, out)
    dumped = tmp_path / "d"
    dumped.mkdir()
    r = subprocess.run([str(exe), str(dumped)], capture_output=True,
                       text=True)
    assert r.stdout == "0\n"


def test_fixture_with_a_bad_name_is_refused(tmp_path):
    r = embed(FIXTURES / "bad_name", tmp_path / "out.c")
    assert r.returncode == 1
    assert "0002-Second.sql: bad name" in r.stderr
    assert "0001_init.sql" not in r.stderr


@pytest.mark.parametrize("name", [
    "1_init.sql", "00001_init.sql", "0001-init.sql", "0001_Init.sql",
    "0001_init.SQL", "0001_.sql", "0001_init.sql.bak", "0001_init.txt",
    "0001_init.mysql.sql", "0001_in-it.sql", "0001_init", "abcd_init.sql",
    "0001_" + "x" * 59 + ".sql",
])
def test_bad_names_are_refused(tmp_path, name):
    err = refused(tmp_path, {"0000_ok.sql": "SELECT 1;", name: "SELECT 2;"},
                  name)
    assert "0000_ok.sql" not in err


def test_longest_name_is_accepted(tmp_path):
    name = "0001_" + "x" * 58
    folder = make_folder(tmp_path, {name + ".sql": "SELECT 1;"})
    r = embed(folder, tmp_path / "gen.c")
    assert r.returncode == 0, r.stderr


def test_fixture_with_duplicate_numbers_is_refused(tmp_path):
    r = embed(FIXTURES / "duplicate", tmp_path / "out.c")
    assert r.returncode == 1
    assert "number 0002 used more than once (0002_posts.sql, " \
           "0002_tags.sql)" in r.stderr


@pytest.mark.parametrize("files,needle", [
    ({"0003_a.sql": "x", "0003_a.sqlite.sql": "y",
      "0003_a.postgres.sql": "z"}, "number 0003 used more than once"),
    ({"0003_a.sqlite.sql": "y", "0003_b.postgres.sql": "z"},
     "number 0003 used more than once"),
    ({"0003_a.sqlite.sql": "y"},
     "0003_a.sqlite.sql: has no 0003_a.postgres.sql"),
    ({"0003_a.postgres.sql": "y"},
     "0003_a.postgres.sql: has no 0003_a.sqlite.sql"),
])
def test_dialect_files_come_in_same_named_pairs(tmp_path, files, needle):
    refused(tmp_path, files, needle)


def test_bad_bytes_and_arguments_are_refused(tmp_path):
    refused(tmp_path, {"0001_nul.sql": b"SELECT '\0';"},
            "0001_nul.sql: holds a NUL byte")
    shutil.rmtree(tmp_path / "migrations")
    refused(tmp_path, {"0001_latin1.sql": b"SELECT 'caf\xe9';"},
            "0001_latin1.sql: not UTF-8 (byte 11)")
    shutil.rmtree(tmp_path / "migrations")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_dir.sql").mkdir()
    r = embed(tmp_path / "migrations", tmp_path / "out.c")
    assert r.returncode == 1 and "0001_dir.sql: not a file" in r.stderr
    r = embed(tmp_path / "migrations", tmp_path / "out.c", symbol="1bad")
    assert r.returncode == 1 and "not a C identifier" in r.stderr
    r = embed(tmp_path / "nowhere", tmp_path / "out.c")
    assert r.returncode == 1 and "nowhere: not a folder" in r.stderr
    assert not (tmp_path / "out.c").exists()


# End to end: the generated array drives keel_migrate_apply on SQLite.
RUNNER = r'''
#include <stdio.h>
#include <string.h>
#include "keel/migrate.h"
KEEL_MIGRATIONS_DECLARE(blog_migrations);
static int show(const keel_migrate_info_t *i, void *arg)
{
	(void)arg;
	printf("%s %s\n", i->name, keel_migrate_state_name(i->state));
	return 0;
}
int main(int argc, char **argv)
{
	keel_db_error_t err;
	keel_db_conn_t *c = NULL;
	keel_db_t *db = keel_db_open(argv[1], NULL, &err);
	if (!db || keel_db_acquire(db, &c) < 0)
		return 2;
	int rc;
	if (argc > 2 && strcmp(argv[2], "status") == 0) {
		rc = keel_migrate_status(c, blog_migrations,
		                         blog_migrations_count, show, NULL);
	} else {
		keel_migrate_report_t r;
		rc = keel_migrate_apply(c, blog_migrations,
		                        blog_migrations_count, &r);
		printf("rc %d applied %d skipped %d\n", rc, r.applied,
		       r.skipped);
		if (rc)
			printf("%s: %s\n", r.failed, r.msg);
	}
	int64_t n = -1;
	if (rc == 0 && argc > 2 && strcmp(argv[2], "post") == 0 &&
	    keel_db_exec(c, "INSERT INTO articles (author_id, title) "
	                    "VALUES (1, 'hi')", KEEL_DB_NOARGS, NULL) == 0 &&
	    keel_db_query_int(c, "SELECT n FROM article_counts",
	                      KEEL_DB_NOARGS, &n) == 0)
		printf("count %lld\n", (long long)n);
	keel_db_release(c);
	keel_db_close(db);
	return rc ? 1 : 0;
}
'''


def build_runner(tmp_path, folder, tag):
    lib = ROOT / os.environ.get("KEEL_RELEASE", "build/release") / "libkeel.a"
    if not lib.is_file():
        pytest.fail(f"{lib} is not built; run `make release` first")
    gen = tmp_path / f"gen-{tag}.c"
    r = embed(folder, gen)
    assert r.returncode == 0, r.stderr
    main = tmp_path / "runner.c"
    main.write_text(RUNNER)
    exe = tmp_path / f"runner-{tag}"
    libs = subprocess.run(["pkg-config", "--libs", "jansson", "zlib",
                           "sqlite3", "libsodium"], check=True,
                          capture_output=True, text=True).stdout.split()
    r = subprocess.run(["gcc", *CFLAGS, "-o", str(exe), str(main), str(gen),
                        str(lib), *libs, "-pthread", "-lm"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def run(exe, *args):
    return subprocess.run([str(exe), *args], capture_output=True, text=True,
                          timeout=60)


def test_generated_set_migrates_a_database_end_to_end(tmp_path):
    folder = tmp_path / "blog"
    shutil.copytree(FIXTURES / "blog", folder)
    url = f"sqlite://{tmp_path / 'blog.db'}"
    exe = build_runner(tmp_path, folder, "v1")
    r = run(exe, url, "post")
    assert r.returncode == 0, r.stdout + r.stderr
    # 0001, 0002 and the SQLite file of 0005; its trigger counts the post.
    assert r.stdout == "rc 0 applied 3 skipped 0\ncount 1\n"
    r = run(exe, url)
    assert r.stdout == "rc 0 applied 0 skipped 3\n"
    r = run(exe, url, "status")
    assert r.stdout == ("0001_users applied\n0002_articles applied\n"
                        "0005_tags applied\n")
    # Someone edits an applied file: the next deploy refuses to migrate.
    with open(folder / "0002_articles.sql", "a") as f:
        f.write("-- edited after it ran\n")
    (folder / "0007_more.sql").write_text("CREATE TABLE more (x TEXT);\n")
    exe2 = build_runner(tmp_path, folder, "v2")
    r = run(exe2, url)
    assert r.returncode == 1
    assert "rc -11 applied 0" in r.stdout
    assert "0002_articles: changed since it was applied" in r.stdout
    r = run(exe2, url, "status")
    assert r.stdout == ("0001_users applied\n0002_articles changed\n"
                        "0005_tags applied\n0007_more pending\n")
