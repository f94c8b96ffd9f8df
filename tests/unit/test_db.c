/*
 * Unit tests for the database core (keel/db.h) over the SQLite driver:
 * URLs and per-connection setup, binding and reading every type,
 * placeholders, the statement cache, errors, streaming cursors, the pool,
 * per-request connections and their query counts.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keel/app.h"
#include "keel/clock.h"
#include "keel/db.h"
#include "keel/log.h"
#include "keel/mw.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/testclient.h"

static keel_db_t *db_mem(const keel_db_opts_t *o)
{
	keel_db_error_t err;
	keel_db_t *db = keel_db_open("sqlite::memory:", o, &err);
	cr_assert_not_null(db, "%s", err.msg);
	return db;
}

static keel_db_conn_t *db_get(keel_db_t *db)
{
	keel_db_conn_t *c = NULL;
	cr_assert_eq(keel_db_acquire(db, &c), 0);
	return c;
}

static void db_ok(keel_db_conn_t *c, const char *sql)
{
	int rc = keel_db_exec(c, sql, KEEL_DB_NOARGS, NULL);
	cr_assert_eq(rc, 0, "%s: %d %s", sql, rc, keel_db_errmsg(c));
}

static int64_t db_int(keel_db_conn_t *c, const char *sql)
{
	int64_t v = -12345;
	int rc = keel_db_query_int(c, sql, KEEL_DB_NOARGS, &v);
	cr_assert_eq(rc, 0, "%s: %d %s", sql, rc, keel_db_errmsg(c));
	return v;
}

/* A fresh directory for file databases; the sandbox process is private. */
static const char *db_tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/keel-dbtest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static keel_db_t *db_file(const char *dir, const keel_db_opts_t *o)
{
	char url[256];
	keel_db_error_t err;
	snprintf(url, sizeof(url), "sqlite://%s/t.db", dir);
	keel_db_t *db = keel_db_open(url, o, &err);
	cr_assert_not_null(db, "%s", err.msg);
	return db;
}

/* ------------------------------------------------------------- URLs */

Test(db, url_forms_and_refusals)
{
	keel_db_error_t err;
	cr_assert_null(keel_db_open("postgres://u:secret@h/db", NULL, &err));
	cr_assert_str_eq(err.msg, "PostgreSQL driver not built yet");
	cr_assert_null(keel_db_open("postgresql://h/db", NULL, &err));
	cr_assert_null(keel_db_open("mysql://u:pw@h/db", NULL, &err));
	cr_assert_null(strstr(err.msg, "pw"), "URL echoed: %s", err.msg);
	cr_assert_null(keel_db_open("sqlite://", NULL, &err));
	cr_assert_null(keel_db_open("sqlite:x.db", NULL, &err));
	cr_assert_null(keel_db_open(NULL, NULL, NULL));
	cr_assert_null(
	        keel_db_open("sqlite:///nonexistent-dir/x/y.db", NULL, &err));
	cr_assert_neq(err.msg[0], '\0');
	keel_db_t *db = db_mem(NULL);
	cr_assert_str_eq(keel_db_driver(db), "sqlite");
	keel_db_close(db);
	keel_db_close(NULL);
}

Test(db, relative_url_is_relative_to_cwd)
{
	const char *dir = db_tmpdir();
	cr_assert_eq(chdir(dir), 0);
	keel_db_t *db = keel_db_open("sqlite://rel.db", NULL, NULL);
	cr_assert_not_null(db);
	keel_db_close(db);
	char path[128];
	snprintf(path, sizeof(path), "%s/rel.db", dir);
	cr_assert_eq(access(path, F_OK), 0);
}

Test(db, bad_options_refused)
{
	keel_db_opts_t o = {.pool_size = -1};
	cr_assert_null(keel_db_open("sqlite::memory:", &o, NULL));
	o = (keel_db_opts_t){.sync = (keel_db_sync_t)7};
	cr_assert_null(keel_db_open("sqlite::memory:", &o, NULL));
	o = (keel_db_opts_t){.busy_timeout_ms = INT64_MAX};
	cr_assert_null(keel_db_open("sqlite::memory:", &o, NULL));
}

Test(db, memory_databases_are_private_per_handle)
{
	keel_db_t *a = db_mem(NULL), *b = db_mem(NULL);
	keel_db_conn_t *ca = db_get(a), *ca2 = db_get(a), *cb = db_get(b);
	db_ok(ca, "CREATE TABLE t(x)");
	db_ok(ca, "INSERT INTO t VALUES(1)");
	/* Another connection of the same pool sees the table ... */
	cr_assert_eq(db_int(ca2, "SELECT count(*) FROM t"), 1);
	/* ... another handle does not. */
	cr_assert_eq(keel_db_exec(cb, "SELECT * FROM t", KEEL_DB_NOARGS, NULL),
	             KEEL_EINVAL);
	cr_assert(strstr(keel_db_errmsg(cb), "no such table"));
	keel_db_release(ca);
	keel_db_release(ca2);
	keel_db_release(cb);
	keel_db_close(a);
	keel_db_close(b);
}

Test(db, file_connection_pragmas)
{
	const char *dir = db_tmpdir();
	keel_db_t *db = db_file(dir, NULL);
	keel_db_conn_t *c = db_get(db);
	keel_db_rows_t *r;
	cr_assert_eq(
	        keel_db_query_row(c, "PRAGMA journal_mode", KEEL_DB_NOARGS, &r),
	        0);
	cr_assert(keel_str_eq(keel_db_rows_text(r, 0), KEEL_STR("wal")));
	keel_db_rows_close(r);
	cr_assert_eq(db_int(c, "PRAGMA synchronous"), 2); /* FULL */
	cr_assert_eq(db_int(c, "PRAGMA foreign_keys"), 1);
	cr_assert_eq(db_int(c, "PRAGMA busy_timeout"), 50);
	cr_assert_eq(db_int(c, "PRAGMA temp_store"), 2); /* MEMORY */
	keel_db_release(c);
	keel_db_close(db);
	keel_db_opts_t o = {.sync = KEEL_DB_SYNC_NORMAL, .busy_timeout_ms = 7};
	db = db_file(dir, &o);
	c = db_get(db);
	cr_assert_eq(db_int(c, "PRAGMA synchronous"), 1); /* NORMAL */
	cr_assert_eq(db_int(c, "PRAGMA busy_timeout"), 7);
	keel_db_release(c);
	keel_db_close(db);
}

/* ---------------------------------------------------------- binding */

Test(db, binds_and_reads_every_type)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE v(i, f, t, b, n)");
	int64_t changes = 0;
	cr_assert_eq(
	        keel_db_exec(c, "INSERT INTO v VALUES($1,$2,$3,$4,$5)",
	                     KEEL_DB_ARGS(KEEL_DB_I64(42), KEEL_DB_F64(2.5),
	                                  KEEL_DB_CSTR("héllo"),
	                                  KEEL_DB_BLOBV("\x01\x02", 2),
	                                  KEEL_DB_NULLV),
	                     &changes),
	        0);
	cr_assert_eq(changes, 1);
	keel_db_rows_t *r;
	cr_assert_eq(keel_db_query_row(c, "SELECT i, f, t, b, n FROM v",
	                               KEEL_DB_NOARGS, &r),
	             0);
	cr_assert_eq(keel_db_rows_columns(r), 5);
	cr_assert_str_eq(keel_db_rows_name(r, 2), "t");
	cr_assert_eq(keel_db_rows_type(r, 0), KEEL_DB_INT);
	cr_assert_eq(keel_db_rows_type(r, 1), KEEL_DB_FLOAT);
	cr_assert_eq(keel_db_rows_type(r, 2), KEEL_DB_TEXT);
	cr_assert_eq(keel_db_rows_type(r, 3), KEEL_DB_BLOB);
	cr_assert_eq(keel_db_rows_type(r, 4), KEEL_DB_NULL);
	cr_assert_eq(keel_db_rows_int(r, 0), 42);
	cr_assert_eq(keel_db_rows_double(r, 1), 2.5);
	cr_assert(keel_str_eq(keel_db_rows_text(r, 2), KEEL_STR("héllo")));
	keel_str_t b = keel_db_rows_blob(r, 3);
	cr_assert_eq(b.len, 2);
	cr_assert_eq(memcmp(b.ptr, "\x01\x02", 2), 0);
	cr_assert(keel_db_rows_is_null(r, 4));
	cr_assert_eq(keel_db_rows_int(r, 4), 0);
	cr_assert_eq(keel_db_rows_text(r, 4).len, 0);
	cr_assert_eq(keel_db_rows_next(r), 0);
	keel_db_rows_close(r);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, embedded_nuls_survive_text_and_blob)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	static const char txt[] = "a\0b\0c";
	static const char bin[] = "\0\0\xff\0";
	keel_db_rows_t *r;
	cr_assert_eq(keel_db_query_row(
	                     c, "SELECT $1, $2, typeof($1), typeof($2)",
	                     KEEL_DB_ARGS(KEEL_DB_STR(((keel_str_t){txt, 5})),
	                                  KEEL_DB_BLOBV(bin, 4)),
	                     &r),
	             0);
	keel_str_t t = keel_db_rows_text(r, 0), b = keel_db_rows_blob(r, 1);
	cr_assert_eq(t.len, 5);
	cr_assert_eq(memcmp(t.ptr, txt, 5), 0);
	cr_assert_eq(b.len, 4);
	cr_assert_eq(memcmp(b.ptr, bin, 4), 0);
	cr_assert(keel_str_eq(keel_db_rows_text(r, 2), KEEL_STR("text")));
	cr_assert(keel_str_eq(keel_db_rows_text(r, 3), KEEL_STR("blob")));
	keel_db_rows_close(r);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, extreme_numbers_round_trip)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	keel_db_rows_t *r;
	cr_assert_eq(keel_db_query_row(
	                     c, "SELECT $1, $2, $3, $4, $5, $6, $7",
	                     KEEL_DB_ARGS(KEEL_DB_I64(INT64_MIN),
	                                  KEEL_DB_I64(INT64_MAX),
	                                  KEEL_DB_F64(1.7976931348623157e308),
	                                  KEEL_DB_F64(4.9e-324),
	                                  KEEL_DB_F64(-INFINITY),
	                                  KEEL_DB_F64(NAN), KEEL_DB_BOOL(7)),
	                     &r),
	             0);
	cr_assert_eq(keel_db_rows_int(r, 0), INT64_MIN);
	cr_assert_eq(keel_db_rows_int(r, 1), INT64_MAX);
	cr_assert_eq(keel_db_rows_double(r, 2), 1.7976931348623157e308);
	cr_assert_eq(keel_db_rows_double(r, 3), 4.9e-324);
	cr_assert(isinf(keel_db_rows_double(r, 4)));
	cr_assert(keel_db_rows_double(r, 4) < 0);
	/* SQLite has no NaN: it stores NULL. */
	cr_assert(keel_db_rows_is_null(r, 5));
	cr_assert_eq(keel_db_rows_int(r, 6), 1);
	keel_db_rows_close(r);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, empty_text_and_blob_are_not_null)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	keel_db_rows_t *r;
	cr_assert_eq(keel_db_query_row(
	                     c,
	                     "SELECT typeof($1), typeof($2), typeof($3), "
	                     "typeof($4)",
	                     KEEL_DB_ARGS(KEEL_DB_STR(((keel_str_t){NULL, 0})),
	                                  KEEL_DB_BLOBV(NULL, 0),
	                                  KEEL_DB_CSTR(NULL), KEEL_DB_CSTR("")),
	                     &r),
	             0);
	cr_assert(keel_str_eq(keel_db_rows_text(r, 0), KEEL_STR("text")));
	cr_assert(keel_str_eq(keel_db_rows_text(r, 1), KEEL_STR("blob")));
	cr_assert(keel_str_eq(keel_db_rows_text(r, 2), KEEL_STR("null")));
	cr_assert(keel_str_eq(keel_db_rows_text(r, 3), KEEL_STR("text")));
	keel_db_rows_close(r);
	/* A slice with a length but no bytes is a caller bug. */
	cr_assert_eq(keel_db_exec(c, "SELECT $1",
	                          KEEL_DB_ARGS(KEEL_DB_BLOBV(NULL, 3)), NULL),
	             KEEL_EINVAL);
	keel_db_value_t bad = {.type = (keel_db_type_t)99};
	cr_assert_eq(keel_db_exec(c, "SELECT $1", &bad, 1, NULL), KEEL_EINVAL);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, placeholders_out_of_order_and_repeated)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	keel_db_rows_t *r;
	cr_assert_eq(keel_db_query_row(
	                     c, "SELECT $2, $1, $2 * 100 + $1, '$3'",
	                     KEEL_DB_ARGS(KEEL_DB_I64(7), KEEL_DB_I64(3)), &r),
	             0);
	cr_assert_eq(keel_db_rows_int(r, 0), 3);
	cr_assert_eq(keel_db_rows_int(r, 1), 7);
	cr_assert_eq(keel_db_rows_int(r, 2), 307);
	cr_assert(keel_str_eq(keel_db_rows_text(r, 3), KEEL_STR("$3")));
	keel_db_rows_close(r);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, argument_count_and_placeholder_style_checked)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(a, b)");
	const char *ins = "INSERT INTO t VALUES($1, $2)";
	cr_assert_eq(keel_db_exec(c, ins, KEEL_DB_ARGS(KEEL_DB_I64(1)), NULL),
	             KEEL_EINVAL);
	cr_assert(strstr(keel_db_errmsg(c), "takes 2 arguments, 1 given"));
	cr_assert_eq(keel_db_exec(c, ins,
	                          KEEL_DB_ARGS(KEEL_DB_I64(1), KEEL_DB_I64(2),
	                                       KEEL_DB_I64(3)),
	                          NULL),
	             KEEL_EINVAL);
	cr_assert_eq(keel_db_exec(c, ins, KEEL_DB_NOARGS, NULL), KEEL_EINVAL);
	cr_assert_eq(db_int(c, "SELECT count(*) FROM t"), 0);
	/* Gaps and other placeholder styles. */
	const char *bad[] = {"SELECT $1, $3", "SELECT ?",  "SELECT ?1",
	                     "SELECT :a",     "SELECT @a", "SELECT $a",
	                     "SELECT $01"};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_assert_eq(keel_db_exec(c, bad[i],
		                          KEEL_DB_ARGS(KEEL_DB_I64(1),
		                                       KEEL_DB_I64(2),
		                                       KEEL_DB_I64(3)),
		                          NULL),
		             KEEL_EINVAL, "%s", bad[i]);
	cr_assert_eq(keel_db_exec(NULL, "SELECT 1", KEEL_DB_NOARGS, NULL),
	             KEEL_EINVAL);
	cr_assert_eq(keel_db_exec(c, NULL, KEEL_DB_NOARGS, NULL), KEEL_EINVAL);
	cr_assert_eq(keel_db_exec(c, "SELECT $1", NULL, 1, NULL), KEEL_EINVAL);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, one_statement_per_call)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(a)");
	cr_assert_eq(keel_db_exec(c, "INSERT INTO t VALUES(1); DROP TABLE t",
	                          KEEL_DB_NOARGS, NULL),
	             KEEL_EINVAL);
	cr_assert(strstr(keel_db_errmsg(c), "one statement"));
	cr_assert_eq(db_int(c, "SELECT count(*) FROM t"), 0);
	/* Trailing semicolons, blanks and comments are fine. */
	db_ok(c, "INSERT INTO t VALUES(1);  ;\n -- done\n");
	cr_assert_eq(keel_db_exec(c, "  ", KEEL_DB_NOARGS, NULL), KEEL_EINVAL);
	cr_assert_eq(keel_db_exec(c, "SELEC 1", KEEL_DB_NOARGS, NULL),
	             KEEL_EINVAL);
	cr_assert(strstr(keel_db_errmsg(c), "syntax error"));
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, exec_script_runs_every_statement)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	cr_assert_eq(keel_db_exec_script(c, "CREATE TABLE a(x);\n"
	                                    "CREATE TABLE b(y);\n"
	                                    "INSERT INTO a VALUES(1);"),
	             0);
	cr_assert_eq(db_int(c, "SELECT count(*) FROM a"), 1);
	cr_assert_eq(keel_db_exec_script(c, "INSERT INTO a VALUES(2); "
	                                    "INSERT INTO nope VALUES(3); "
	                                    "INSERT INTO a VALUES(4);"),
	             KEEL_EINVAL);
	cr_assert(strstr(keel_db_errmsg(c), "no such table"));
	/* Stopped at the error: the first insert stays, the last never ran. */
	cr_assert_eq(db_int(c, "SELECT count(*) FROM a"), 2);
	cr_assert_eq(keel_db_exec_script(NULL, "SELECT 1"), KEEL_EINVAL);
	keel_db_release(c);
	keel_db_close(db);
}

/* ----------------------------------------------------------- errors */

Test(db, constraint_errors_are_classified)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE p(id INTEGER PRIMARY KEY, code TEXT UNIQUE, "
	         "n INTEGER NOT NULL CHECK (n > 0))");
	db_ok(c, "CREATE TABLE ch(pid INTEGER REFERENCES p(id))");
	db_ok(c, "CREATE TABLE k(a TEXT PRIMARY KEY)");
	db_ok(c, "INSERT INTO p VALUES(1, 'x', 1)");
	db_ok(c, "INSERT INTO k VALUES('a')");
	struct {
		const char *sql;
		int want;
		const char *msg;
	} cases[] = {
	        {"INSERT INTO p VALUES(2, 'x', 1)", KEEL_EEXIST, "UNIQUE"},
	        {"INSERT INTO p VALUES(1, 'y', 1)", KEEL_EEXIST, "UNIQUE"},
	        {"INSERT INTO k VALUES('a')", KEEL_EEXIST, "UNIQUE"},
	        {"INSERT INTO p VALUES(3, 'z', NULL)", KEEL_EINVAL, "NOT NULL"},
	        {"INSERT INTO p VALUES(3, 'z', 0)", KEEL_EINVAL, "CHECK"},
	        {"INSERT INTO ch VALUES(99)", KEEL_EINVAL, "FOREIGN KEY"},
	        {"SELECT * FROM missing", KEEL_EINVAL, "no such table"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		int rc = keel_db_exec(c, cases[i].sql, KEEL_DB_NOARGS, NULL);
		cr_assert_eq(rc, cases[i].want, "%s: %d", cases[i].sql, rc);
		cr_assert(strstr(keel_db_errmsg(c), cases[i].msg), "%s: %s",
		          cases[i].sql, keel_db_errmsg(c));
	}
	cr_assert_eq(db_int(c, "SELECT count(*) FROM p"), 1);
	keel_db_release(c);
	keel_db_close(db);
	cr_assert_str_eq(keel_db_errmsg(NULL), "");
}

Test(db, last_id_and_changes)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
	db_ok(c, "INSERT INTO t(v) VALUES(1)");
	db_ok(c, "INSERT INTO t(v) VALUES(2)");
	cr_assert_eq(keel_db_last_id(c), 2);
	int64_t n = -1;
	cr_assert_eq(
	        keel_db_exec(c, "UPDATE t SET v = v + 1", KEEL_DB_NOARGS, &n),
	        0);
	cr_assert_eq(n, 2);
	cr_assert_eq(keel_db_exec(c, "DELETE FROM t WHERE id = $1",
	                          KEEL_DB_ARGS(KEEL_DB_I64(99)), &n),
	             0);
	cr_assert_eq(n, 0);
	cr_assert_eq(keel_db_last_id(NULL), 0);
	keel_db_release(c);
	keel_db_close(db);
}

/* ----------------------------------------------------------- cursors */

Test(db, query_row_and_int_report_missing_rows)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(x)");
	keel_db_rows_t *r = (keel_db_rows_t *)1;
	cr_assert_eq(
	        keel_db_query_row(c, "SELECT x FROM t", KEEL_DB_NOARGS, &r),
	        KEEL_ENOENT);
	cr_assert_null(r);
	int64_t v = 5;
	cr_assert_eq(
	        keel_db_query_int(c, "SELECT x FROM t", KEEL_DB_NOARGS, &v),
	        KEEL_ENOENT);
	cr_assert_eq(v, 5);
	cr_assert_eq(keel_db_query_int(c, "SELECT nope", KEEL_DB_NOARGS, &v),
	             KEEL_EINVAL);
	cr_assert_eq(keel_db_query(c, "SELECT 1", KEEL_DB_NOARGS, NULL),
	             KEEL_EINVAL);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, cursor_edges)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	keel_db_rows_t *r;
	cr_assert_eq(keel_db_query(c, "SELECT 1 AS one UNION ALL SELECT 2",
	                           KEEL_DB_NOARGS, &r),
	             0);
	/* Before the first row nothing is readable, names are. */
	cr_assert_eq(keel_db_rows_int(r, 0), 0);
	cr_assert_str_eq(keel_db_rows_name(r, 0), "one");
	cr_assert_str_eq(keel_db_rows_name(r, 1), "");
	cr_assert_str_eq(keel_db_rows_name(r, -1), "");
	cr_assert_eq(keel_db_rows_next(r), 1);
	cr_assert_eq(keel_db_rows_int(r, 0), 1);
	cr_assert_eq(keel_db_rows_int(r, 1), 0);
	cr_assert_eq(keel_db_rows_type(r, 5), KEEL_DB_NULL);
	cr_assert_eq(keel_db_rows_text(r, -1).len, 0);
	cr_assert_eq(keel_db_rows_next(r), 1);
	cr_assert_eq(keel_db_rows_int(r, 0), 2);
	cr_assert_eq(keel_db_rows_next(r), 0);
	/* The end stays the end: no silent restart. */
	cr_assert_eq(keel_db_rows_next(r), 0);
	cr_assert_eq(keel_db_rows_int(r, 0), 0);
	keel_db_rows_close(r);
	keel_db_rows_close(NULL);
	cr_assert_eq(keel_db_rows_next(NULL), KEEL_EINVAL);
	cr_assert_eq(keel_db_rows_columns(NULL), 0);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, rows_stream_without_loading_the_result)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	const char *sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
	                  "SELECT i + 1 FROM n WHERE i < $1) "
	                  "SELECT i, printf('%0100d', i) FROM n";
	keel_db_rows_t *r;
	cr_assert_eq(
	        keel_db_query(c, sql, KEEL_DB_ARGS(KEEL_DB_I64(300000)), &r),
	        0);
	int64_t count = 0, sum = 0, at1000 = 0, peak = 0;
	int rc;
	while ((rc = keel_db_rows_next(r)) == 1) {
		count++;
		sum += keel_db_rows_int(r, 0);
		cr_assert_eq(keel_db_rows_text(r, 1).len, 100);
		int64_t used = sqlite3_memory_used();
		if (count == 1000)
			at1000 = used;
		if (count > 1000 && used > peak)
			peak = used;
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(count, 300000);
	cr_assert_eq(sum, (int64_t)300000 * 300001 / 2);
	/* 30 MB of rows went by; SQLite's memory barely moved. */
	cr_assert_lt(peak - at1000, 256 * 1024, "grew %lld bytes",
	             (long long)(peak - at1000));
	keel_db_rows_close(r);
	keel_db_release(c);
	keel_db_close(db);
}

/* --------------------------------------------------- statement cache */

Test(db, statement_cache_counts_hits_and_misses)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(keel_db_exec(c, "SELECT $1",
		                          KEEL_DB_ARGS(KEEL_DB_I64(i)), NULL),
		             0);
	db_ok(c, "SELECT 2");
	keel_db_stats_t s = keel_db_conn_stats(c);
	cr_assert_eq(s.queries, 4);
	cr_assert_eq(s.cache_misses, 2);
	cr_assert_eq(s.cache_hits, 2);
	cr_assert_gt(s.total_ns, 0);
	/* Counters restart with each borrowing. */
	keel_db_release(c);
	c = db_get(db);
	cr_assert_eq(keel_db_conn_stats(c).queries, 0);
	db_ok(c, "SELECT 2");
	cr_assert_eq(keel_db_conn_stats(c).cache_hits, 1);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, statement_cache_evicts_least_recently_used)
{
	keel_db_opts_t o = {.stmt_cache = 2};
	keel_db_t *db = db_mem(&o);
	keel_db_conn_t *c = db_get(db);
	const char *seq[] = {"SELECT 'a'", "SELECT 'b'", "SELECT 'a'",
	                     "SELECT 'c'", "SELECT 'a'", "SELECT 'b'"};
	/* a miss, b miss, a hit, c miss (evicts b, not a), a hit, b miss */
	const bool hit[] = {false, false, true, false, true, false};
	for (size_t i = 0; i < KEEL_COUNTOF(seq); i++) {
		keel_db_stats_t before = keel_db_conn_stats(c);
		db_ok(c, seq[i]);
		keel_db_stats_t after = keel_db_conn_stats(c);
		cr_assert_eq(after.cache_hits - before.cache_hits,
		             hit[i] ? 1u : 0u, "step %zu", i);
		cr_assert_eq(after.cache_misses - before.cache_misses,
		             hit[i] ? 0u : 1u, "step %zu", i);
	}
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, same_sql_in_two_open_cursors)
{
	keel_db_t *db = db_mem(NULL);
	keel_db_conn_t *c = db_get(db);
	const char *sql = "SELECT $1 UNION ALL SELECT $1 + 1";
	keel_db_rows_t *a, *b;
	cr_assert_eq(keel_db_query(c, sql, KEEL_DB_ARGS(KEEL_DB_I64(10)), &a),
	             0);
	cr_assert_eq(keel_db_query(c, sql, KEEL_DB_ARGS(KEEL_DB_I64(20)), &b),
	             0);
	cr_assert_eq(keel_db_conn_stats(c).cache_misses, 2);
	cr_assert_eq(keel_db_rows_next(a), 1);
	cr_assert_eq(keel_db_rows_next(b), 1);
	cr_assert_eq(keel_db_rows_int(a, 0), 10);
	cr_assert_eq(keel_db_rows_int(b, 0), 20);
	cr_assert_eq(keel_db_rows_next(a), 1);
	cr_assert_eq(keel_db_rows_int(a, 0), 11);
	keel_db_rows_close(b); /* the uncached twin is finalized */
	keel_db_rows_close(a);
	cr_assert_eq(keel_db_exec(c, sql, KEEL_DB_ARGS(KEEL_DB_I64(1)), NULL),
	             0);
	cr_assert_eq(keel_db_conn_stats(c).cache_hits, 1);
	keel_db_release(c);
	keel_db_close(db);
}

Test(db, cache_disabled_still_works)
{
	keel_db_opts_t o = {.stmt_cache = 0};
	keel_db_t *db = db_mem(&o); /* 0 means the default of 64 */
	keel_db_close(db);
	o.stmt_cache = -1;
	cr_assert_null(keel_db_open("sqlite::memory:", &o, NULL));
}

/* ----------------------------------------------------------- slow log */

Test(db, slow_queries_logged_with_sql_but_no_values)
{
	char path[] = "/tmp/keel-dblog-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(
	        keel_log_open(path, KEEL_LOG_LEVEL_WARN, KEEL_LOG_FORMAT_TEXT),
	        0);
	keel_db_opts_t o = {.slow_ms = 1};
	keel_db_t *db = db_mem(&o);
	keel_db_conn_t *c = db_get(db);
	const char *sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
	                  "i + 1 FROM n WHERE i < 300000) "
	                  "SELECT count(*), $1 FROM n";
	cr_assert_eq(keel_db_exec(c, sql,
	                          KEEL_DB_ARGS(KEEL_DB_CSTR("hunter2-secret")),
	                          NULL),
	             0);
	db_ok(c, "SELECT 1");
	keel_log_close();
	char buf[8192] = "";
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	unlink(path);
	buf[n] = '\0';
	cr_assert(strstr(buf, "slow query"), "%s", buf);
	cr_assert(strstr(buf, "WITH RECURSIVE"), "%s", buf);
	cr_assert_null(strstr(buf, "hunter2"), "%s", buf);
	cr_assert_null(strstr(buf, "SELECT 1\""), "%s", buf);
	keel_db_release(c);
	keel_db_close(db);
}

/* -------------------------------------------------------------- pool */

Test(db, pool_exhaustion_waits_then_gives_up)
{
	keel_db_opts_t o = {.pool_size = 2, .pool_wait_ms = 120};
	keel_db_t *db = db_mem(&o);
	keel_db_conn_t *a = db_get(db), *b = db_get(db), *c = NULL;
	cr_assert_neq(a, b);
	int64_t t0 = keel_clock_now_ns();
	cr_assert_eq(keel_db_acquire(db, &c), KEEL_ELIMIT);
	int64_t waited = (keel_clock_now_ns() - t0) / KEEL_NS_PER_MS;
	cr_assert_null(c);
	cr_assert_geq(waited, 115);
	cr_assert_lt(waited, 2000);
	keel_db_release(b);
	cr_assert_eq(keel_db_acquire(db, &c), 0);
	cr_assert_eq(c, b); /* the pool reuses, it did not open a third */
	keel_db_release(a);
	keel_db_release(c);
	keel_db_release(c); /* twice is harmless */
	cr_assert_eq(keel_db_acquire(NULL, &c), KEEL_EINVAL);
	keel_db_close(db);
}

typedef struct db_waiter_arg {
	keel_db_t *db;
	keel_db_conn_t *got;
	int rc;
	int64_t waited_ms;
} db_waiter_arg_t;

static void *db_waiter_main(void *p)
{
	db_waiter_arg_t *w = p;
	int64_t t0 = keel_clock_now_ns();
	w->rc = keel_db_acquire(w->db, &w->got);
	w->waited_ms = (keel_clock_now_ns() - t0) / KEEL_NS_PER_MS;
	return NULL;
}

Test(db, release_wakes_a_waiter)
{
	keel_db_opts_t o = {.pool_size = 1, .pool_wait_ms = 10000};
	keel_db_t *db = db_mem(&o);
	keel_db_conn_t *held = db_get(db);
	db_waiter_arg_t w = {.db = db, .rc = 1};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, db_waiter_main, &w), 0);
	usleep(100 * 1000);
	cr_assert_eq(w.rc, 1, "the waiter did not wait");
	keel_db_release(held);
	pthread_join(th, NULL);
	cr_assert_eq(w.rc, 0);
	cr_assert_eq(w.got, held);
	cr_assert_geq(w.waited_ms, 90);
	cr_assert_lt(w.waited_ms, 5000, "woken by release, not a timeout");
	keel_db_release(w.got);
	keel_db_close(db);
}

Test(db, release_rolls_back_and_closes_cursors)
{
	keel_db_opts_t o = {.pool_size = 1};
	keel_db_t *db = db_mem(&o);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(x)");
	db_ok(c, "BEGIN");
	db_ok(c, "INSERT INTO t VALUES(1)");
	keel_db_rows_t *r;
	cr_assert_eq(keel_db_query(c, "SELECT 1 UNION ALL SELECT 2",
	                           KEEL_DB_NOARGS, &r),
	             0);
	cr_assert_eq(keel_db_rows_next(r), 1);
	keel_db_release(c); /* r is closed here */
	c = db_get(db);
	cr_assert_eq(db_int(c, "SELECT count(*) FROM t"), 0);
	/* The statement r held went back to the cache, reset. */
	cr_assert_eq(keel_db_query(c, "SELECT 1 UNION ALL SELECT 2",
	                           KEEL_DB_NOARGS, &r),
	             0);
	cr_assert_eq(keel_db_conn_stats(c).cache_hits, 1);
	cr_assert_eq(keel_db_rows_next(r), 1);
	cr_assert_eq(keel_db_rows_int(r, 0), 1);
	keel_db_release(c);
	keel_db_close(db);
}

/* A writer on another connection holds the write lock for a while. */
typedef struct db_locker {
	keel_db_t *db;
	int hold_ms;
	volatile int locked;
} db_locker_t;

static void *db_locker_main(void *p)
{
	db_locker_t *l = p;
	keel_db_conn_t *c = NULL;
	if (keel_db_acquire(l->db, &c) < 0 ||
	    keel_db_exec(c, "BEGIN IMMEDIATE", KEEL_DB_NOARGS, NULL) < 0)
		return NULL;
	keel_db_exec(c, "INSERT INTO t VALUES('locker')", KEEL_DB_NOARGS, NULL);
	l->locked = 1;
	usleep((useconds_t)l->hold_ms * 1000);
	keel_db_exec(c, "COMMIT", KEEL_DB_NOARGS, NULL);
	keel_db_release(c);
	return NULL;
}

static void db_start_locker(db_locker_t *l, pthread_t *th)
{
	cr_assert_eq(pthread_create(th, NULL, db_locker_main, l), 0);
	while (!l->locked)
		usleep(1000);
}

Test(db, busy_statement_retried_until_lock_is_released)
{
	const char *dir = db_tmpdir();
	keel_db_opts_t o = {.busy_timeout_ms = 5};
	keel_db_t *other = db_file(dir, &o), *db = db_file(dir, &o);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(x)");
	db_locker_t l = {.db = other, .hold_ms = 200};
	pthread_t th;
	db_start_locker(&l, &th);
	int64_t t0 = keel_clock_now_ns();
	db_ok(c, "INSERT INTO t VALUES('me')");
	int64_t ms = (keel_clock_now_ns() - t0) / KEEL_NS_PER_MS;
	pthread_join(th, NULL);
	cr_assert_geq(ms, 100, "did not wait for the lock: %lld ms",
	              (long long)ms);
	cr_assert_eq(db_int(c, "SELECT count(*) FROM t"), 2);
	keel_db_release(c);
	keel_db_close(db);
	keel_db_close(other);
}

Test(db, busy_statement_gives_up_after_budget)
{
	const char *dir = db_tmpdir();
	keel_db_opts_t o = {.busy_timeout_ms = 5, .busy_retry_ms = 60};
	keel_db_t *other = db_file(dir, &o), *db = db_file(dir, &o);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(x)");
	db_locker_t l = {.db = other, .hold_ms = 600};
	pthread_t th;
	db_start_locker(&l, &th);
	int64_t t0 = keel_clock_now_ns();
	cr_assert_eq(keel_db_exec(c, "INSERT INTO t VALUES('me')",
	                          KEEL_DB_NOARGS, NULL),
	             KEEL_ETIMEDOUT);
	int64_t ms = (keel_clock_now_ns() - t0) / KEEL_NS_PER_MS;
	cr_assert(strstr(keel_db_errmsg(c), "locked"), "%s", keel_db_errmsg(c));
	cr_assert_geq(ms, 50);
	cr_assert_lt(ms, 500);
	pthread_join(th, NULL);
	keel_db_release(c);
	keel_db_close(db);
	keel_db_close(other);
}

/* ------------------------------------------------------- per request */

static int db_three_queries(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_db_t *db = ud;
	keel_db_conn_t *c = keel_req_db(req, db);
	if (!c || keel_req_db(req, db) != c)
		return 500;
	keel_db_exec(c, "INSERT INTO t VALUES($1)",
	             KEEL_DB_ARGS(KEEL_DB_I64(1)), NULL);
	keel_db_exec(c, "INSERT INTO t VALUES($1)",
	             KEEL_DB_ARGS(KEEL_DB_I64(2)), NULL);
	keel_db_rows_t *r;
	if (keel_db_query(c, "SELECT x FROM t", KEEL_DB_NOARGS, &r) < 0)
		return 500;
	int n = 0;
	while (keel_db_rows_next(r) == 1)
		n++;
	/* The cursor is left open on purpose: release closes it. */
	keel_db_stats_t s = keel_req_db_stats(req);
	keel_res_printf(res, "%llu %d", (unsigned long long)s.queries, n);
	return 200;
}

Test(db, request_connection_counts_queries_exactly)
{
	keel_db_opts_t o = {.pool_size = 1, .pool_wait_ms = 50};
	keel_db_t *db = db_mem(&o);
	keel_db_conn_t *c = db_get(db);
	db_ok(c, "CREATE TABLE t(x)");
	keel_db_release(c);
	keel_test_t *t = keel_test_new_handler(db_three_queries, db);
	keel_test_result_t r;
	for (int i = 1; i <= 2; i++) {
		cr_assert_eq(keel_test_get(t, "/", &r), 0);
		cr_assert_eq(r.status, 200);
		char want[32];
		snprintf(want, sizeof(want), "3 %d", 2 * i);
		cr_assert_str_eq(r.body, want);
		keel_test_result_free(&r);
	}
	/* The connection came back with the response (pool of one). */
	c = db_get(db);
	keel_db_release(c);
	keel_test_free(t);
	keel_db_close(db);
}

static int db_two_queries(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_db_conn_t *c = keel_req_db(req, ud);
	if (!c)
		return 503;
	keel_db_exec(c, "SELECT 1", KEEL_DB_NOARGS, NULL);
	keel_db_exec(c, "SELECT 2", KEEL_DB_NOARGS, NULL);
	keel_res_body(res, "ok", 2);
	return 200;
}

/* After the db middleware gave the connection back: stats still count. */
static void db_count_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	char n[24];
	snprintf(n, sizeof(n), "%llu",
	         (unsigned long long)keel_req_db_stats(req).queries);
	keel_res_header(res, "X-Queries", n);
}

Test(db, middleware_reports_server_timing)
{
	keel_db_opts_t o = {.pool_size = 1, .pool_wait_ms = 50};
	keel_db_t *db = db_mem(&o);
	keel_app_t *app = keel_app_new();
	keel_app_set_ud(app, db);
	keel_middleware_t timing = keel_mw_timing(), mdb = keel_mw_db();
	keel_middleware_t count = {.name = "count", .after = db_count_after};
	cr_assert_eq(keel_app_use(app, &count), 0);
	cr_assert_eq(keel_app_use(app, &timing), 0);
	cr_assert_eq(keel_app_use(app, &mdb), 0);
	cr_assert_not_null(KEEL_GET(app, "/q", db_two_queries));
	keel_test_t *t = keel_test_new(app);
	keel_test_result_t r;
	cr_assert_eq(keel_test_get(t, "/q", &r), 0);
	cr_assert_eq(r.status, 200);
	keel_str_t v;
	cr_assert_eq(keel_test_header(&r, "Server-Timing", &v), 0);
	char st[256];
	snprintf(st, sizeof(st), "%.*s", KEEL_STR_FMT(v));
	cr_assert(strstr(st, "db;dur="), "%s", st);
	cr_assert(strstr(st, "desc=\"2 queries\""), "%s", st);
	cr_assert_eq(keel_test_header(&r, "X-Queries", &v), 0);
	cr_assert(keel_str_eq(v, KEEL_STR("2")));
	keel_test_result_free(&r);
	/* Given back by the middleware: the pool of one is free. */
	keel_db_conn_t *c = db_get(db);
	keel_db_release(c);
	keel_test_free(t);
	keel_app_free(app);
	keel_db_close(db);
}

static int db_no_conn(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)res;
	keel_db_conn_t *c = keel_req_db(req, ud);
	keel_db_stats_t s = keel_req_db_stats(req);
	keel_req_db_release(req);
	return c == NULL && s.queries == 0 ? 503 : 200;
}

Test(db, request_gets_null_when_pool_stays_exhausted)
{
	keel_db_opts_t o = {.pool_size = 1, .pool_wait_ms = 30};
	keel_db_t *db = db_mem(&o);
	keel_db_conn_t *held = db_get(db);
	keel_test_t *t = keel_test_new_handler(db_no_conn, db);
	keel_test_result_t r;
	cr_assert_eq(keel_test_get(t, "/", &r), 0);
	cr_assert_eq(r.status, 503);
	keel_test_result_free(&r);
	keel_db_release(held);
	cr_assert_eq(keel_test_get(t, "/", &r), 0);
	cr_assert_eq(r.status, 200);
	keel_test_result_free(&r);
	cr_assert_null(keel_req_db(NULL, db));
	keel_req_db_release(NULL);
	keel_db_stats_t s = keel_req_db_stats(NULL);
	cr_assert_eq(s.queries, 0);
	keel_test_free(t);
	keel_db_close(db);
}

/* Another process holds the new file exclusively for a moment (a worker
 * switching it to WAL): opening waits it out instead of failing. */
static void *release_later(void *arg)
{
	sqlite3 *raw = arg;
	usleep(200 * 1000);
	sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
	return NULL;
}

Test(db, open_waits_out_a_briefly_locked_new_file)
{
	const char *dir = db_tmpdir();
	char path[256];
	snprintf(path, sizeof(path), "%s/t.db", dir);
	sqlite3 *raw = NULL;
	cr_assert_eq(sqlite3_open(path, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "CREATE TABLE t(x); BEGIN EXCLUSIVE",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, release_later, raw), 0);
	int64_t t0 = keel_clock_now_ns();
	keel_db_t *db = db_file(dir, NULL);
	int64_t ms = (keel_clock_now_ns() - t0) / KEEL_NS_PER_MS;
	pthread_join(th, NULL);
	cr_assert_geq(ms, 100, "opened in %lld ms: the lock was not held",
	              (long long)ms);
	keel_db_close(db);
	sqlite3_close(raw);
}
