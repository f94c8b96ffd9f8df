/*
 * fuzz_dbtest - the SQL reader behind keel_dbtest_explain.  Every input is
 * tokenized and walked for tables, aliases and filtered columns before
 * SQLite sees it, so unbalanced quotes, parentheses, comments and huge
 * nesting all reach the reader.  Inputs SQLite accepts are then judged
 * against a small schema with a few indexes.  Invariants: no crash, the
 * verdict agrees with its parts, and the texts are NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/dbtest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static const char *const schema[] = {
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, email "
        "TEXT UNIQUE)",
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, author_id INTEGER, "
        "title TEXT, created_at TEXT)",
        "CREATE INDEX articles_author ON articles(author_id)",
        "CREATE TABLE article_tags (article_id INTEGER, tag_id INTEGER, "
        "PRIMARY KEY (article_id, tag_id))",
};

static keel_db_conn_t *fuzz_conn(void)
{
	static keel_db_t *db;
	static keel_db_conn_t *conn;
	if (conn)
		return conn;
	db = keel_db_open("sqlite::memory:", NULL, NULL);
	CHECK(db && keel_db_acquire(db, &conn) == 0);
	for (size_t i = 0; i < KEEL_COUNTOF(schema); i++)
		CHECK(keel_db_exec(conn, schema[i], KEEL_DB_NOARGS, NULL) == 0);
	return conn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static keel_dbtest_report_t rep;
	if (size > 4096)
		return 0;
	char *sql = malloc(size + 1);
	CHECK(sql);
	memcpy(sql, data, size);
	sql[size] = '\0';
	int rc = keel_dbtest_explain(fuzz_conn(), sql, KEEL_DB_NOARGS, &rep);
	CHECK(rc <= 0);
	if (rc == 0) {
		CHECK(rep.ok == (!rep.unused_index && !rep.missing_index));
		CHECK(rep.scans >= 0);
	} else {
		CHECK(!rep.ok);
	}
	CHECK(memchr(rep.plan, '\0', sizeof(rep.plan)) != NULL);
	CHECK(memchr(rep.problems, '\0', sizeof(rep.problems)) != NULL);
	free(sql);
	return 0;
}
