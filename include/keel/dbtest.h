/*
 * keel/dbtest.h - database checks for tests: does this query use the
 * indexes it should, and how many queries did this code run.
 *
 * keel_dbtest_explain asks SQLite for the query plan (EXPLAIN QUERY PLAN)
 * of a statement and compares it with what the statement asks for.  The
 * statement's text is read for the columns it filters on (WHERE, ON),
 * joins on and sorts or groups by; the schema is read for the indexes of
 * every table the plan scans.  A full scan of a table is a problem when a
 * column it filters on (or joins on, for a table that is not the outer
 * loop, or sorts on, when a temporary B-tree does the sorting) has an
 * index the planner did not use ("unused index": usually a function or
 * an expression around the column, a leading-wildcard LIKE, an OR with an
 * unindexed side, or a type mismatch), or has no index at all ("missing
 * index").  SQLite building an automatic index for one query is a missing
 * index too.  Scans through an index (SCAN t USING INDEX) are not flagged.
 *
 * The text reading is a tokenizer, not a full SQL parser: it follows FROM
 * and JOIN aliases, subqueries and quoting, and is meant for the
 * statements an application writes.  SQLite only.
 *
 * keel_dbtest_count_queries is Django's assertNumQueries: run a function
 * and report how many statements it sent on a connection.
 */
#ifndef KEEL_DBTEST_H
#define KEEL_DBTEST_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/db.h"

/** Bytes kept of the plan text and of the problem list (truncated). */
#define KEEL_DBTEST_PLAN_MAX     4096
#define KEEL_DBTEST_PROBLEMS_MAX 2048

/** What keel_dbtest_explain found; caller storage, filled on success. */
typedef struct keel_dbtest_report {
	bool ok;            /* no unused and no missing index */
	bool unused_index;  /* a scanned table has an index the query could use
	                     */
	bool missing_index; /* a filtered/joined/sorted column has no index */
	int scans;          /* full scans of real tables in the plan */
	char plan[KEEL_DBTEST_PLAN_MAX]; /* one step per line, indented */
	char problems[KEEL_DBTEST_PROBLEMS_MAX]; /* one per line; "" if ok */
} keel_dbtest_report_t;

/**
 * Explain `sql` with its arguments (bound as for keel_db_query; the
 * statement is planned, not run) and fill `*report`.  Returns 0 when the
 * plan was read, whatever the verdict; a keel_db_query error otherwise
 * (KEEL_EINVAL for bad SQL, also on a non-SQLite database).  Its own
 * schema queries count on the connection's stats.
 */
KEEL_API int keel_dbtest_explain(keel_db_conn_t *conn, const char *sql,
                                 const keel_db_value_t *args, size_t nargs,
                                 keel_dbtest_report_t *report);

/** Code whose queries are counted; its return value is passed through. */
typedef int (*keel_dbtest_fn)(keel_db_conn_t *conn, void *ctx);

/**
 * Run `fn(conn, ctx)` and store in `*queries` how many statements it ran
 * on `conn` (keel_db_conn_stats before and after).  Returns fn's result,
 * or KEEL_EINVAL when conn or fn is NULL.
 */
KEEL_API int keel_dbtest_count_queries(keel_db_conn_t *conn, keel_dbtest_fn fn,
                                       void *ctx, uint64_t *queries);

#endif
