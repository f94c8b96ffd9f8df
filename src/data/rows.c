/*
 * Running statements and reading their rows.
 *
 * Every value is bound, never formatted into the SQL, and every call
 * checks the argument count against the statement's highest $N before
 * the database sees it.  Rows stream: a cursor holds the statement and
 * steps it one row at a time, so a large result never sits in memory;
 * the first step happens inside keel_db_query, which is where the engine
 * reports errors, takes its locks and where a busy database can still be
 * retried safely (nothing has been handed to the caller yet).
 *
 * Each statement's time is added to the connection's stats (queries,
 * nanoseconds) and logged at warn level when it passes slow_ms; the log
 * carries the SQL text only, because bound values may be passwords or
 * tokens.
 */
#include <stdio.h>
#include <stdlib.h>

#include "data/driver.h"
#include "keel/clock.h"
#include "keel/log.h"

/* Count a statement and warn when it was slow. */
static void account(keel_db_conn_t *c, const char *sql, int64_t ns)
{
	c->stats.queries++;
	c->stats.total_ns += ns;
	int64_t slow = c->db->opts.slow_ms;
	if (slow >= 0 && ns >= slow * KEEL_NS_PER_MS)
		KEEL_LOG_KV(KEEL_LOG_LEVEL_WARN, "slow query",
		            KEEL_KV_STR("sql", sql),
		            KEEL_KV_INT("ms", ns / KEEL_NS_PER_MS));
}

static int bind_args(keel_db_conn_t *c, keel__db_stmt_t *st,
                     const keel_db_value_t *args, size_t nargs, bool copy)
{
	if (nargs != (size_t)st->nargs) {
		snprintf(c->errmsg, sizeof(c->errmsg),
		         "statement takes %d arguments, %zu given", st->nargs,
		         nargs);
		return KEEL_EINVAL;
	}
	for (int slot = 0; slot < st->nslots; slot++) {
		const keel_db_value_t *v = &args[st->map[slot]];
		int rc = c->db->drv->bind(st->h, slot + 1, v, copy);
		if (rc == KEEL_EINVAL) {
			snprintf(c->errmsg, sizeof(c->errmsg),
			         "bad value for $%d", st->map[slot] + 1);
			return rc;
		}
		if (rc < 0)
			return keel__db_fail(c, rc);
	}
	return KEEL_OK;
}

/*
 * The first step, retried with backoff while the database is busy - but
 * only outside a transaction.  Inside one, waiting could deadlock (the
 * other side may be waiting for a lock this transaction holds), so the
 * error goes straight up and keel_db_tx reruns the whole transaction.
 */
static int step_first(keel_db_conn_t *c, keel__db_stmt_t *st)
{
	const keel__db_driver_t *drv = c->db->drv;
	int64_t deadline = 0;
	for (int attempt = 0;; attempt++) {
		int rc = drv->step(st->h);
		if (rc != KEEL_AGAIN || drv->in_tx(c->h))
			return keel__db_fail(c, rc);
		int64_t now = keel_clock_now_ns();
		if (!deadline)
			deadline = now +
			           c->db->opts.busy_retry_ms * KEEL_NS_PER_MS;
		if (now >= deadline)
			return keel__db_fail(c, rc);
		drv->rewind(st->h);
		keel__db_backoff(c, attempt, 1, 100);
	}
}

/* Look up, bind and take the first step; `*out` is the statement, still
 * in use, when the result is 0 or 1 (a row). */
static int start(keel_db_conn_t *c, const char *sql,
                 const keel_db_value_t *args, size_t nargs, bool copy,
                 keel__db_stmt_t **out)
{
	keel__db_stmt_t *st;
	int rc = keel__db_stmt_get(c, sql, &st);
	if (rc < 0)
		return rc;
	if (c->db->group.running && !c->db->drv->readonly(st->h) &&
	    keel__db_group_self_write(c)) {
		keel__db_stmt_put(c, st);
		return KEEL_ESTATE;
	}
	rc = bind_args(c, st, args, nargs, copy);
	if (rc == KEEL_OK)
		rc = step_first(c, st);
	if (rc < 0) {
		keel__db_stmt_put(c, st);
		return rc;
	}
	*out = st;
	return rc;
}

/* One write statement run as a group-commit member. */
typedef struct exec_args {
	const char *sql;
	const keel_db_value_t *args;
	size_t nargs;
	int64_t *changes;
} exec_args_t;

static int exec_member(keel_db_conn_t *conn, void *arg)
{
	const exec_args_t *a = arg;
	return keel_db_exec(conn, a->sql, a->args, a->nargs, a->changes);
}

/*
 * Outside a transaction, in a worker that commits in groups, a statement
 * that writes joins the group: it shares the batch's fsync and never
 * waits on SQLite's lock behind another worker's batch.
 */
static bool joins_group(keel_db_conn_t *c, const char *sql)
{
	if (c->tx_depth > 0 || c->db->drv->in_tx(c->h) ||
	    !keel__db_group_usable(c->db))
		return false;
	keel__db_stmt_t *st;
	if (keel__db_stmt_get(c, sql, &st) < 0)
		return false; /* the real call reports it */
	bool writes = !c->db->drv->readonly(st->h);
	keel__db_stmt_put(c, st);
	return writes;
}

int keel_db_exec(keel_db_conn_t *conn, const char *sql,
                 const keel_db_value_t *args, size_t nargs, int64_t *changes)
{
	if (changes)
		*changes = 0;
	if (!conn || !sql || (nargs && !args))
		return KEEL_EINVAL;
	if (joins_group(conn, sql)) {
		exec_args_t a = {sql, args, nargs, changes};
		return keel_db_tx(conn, exec_member, &a);
	}
	int64_t t0 = keel_clock_now_ns();
	keel__db_stmt_t *st = NULL;
	/* Values are only read during this call: no copies. */
	int rc = start(conn, sql, args, nargs, false, &st);
	while (rc == KEEL__DB_ROW)
		rc = keel__db_fail(conn, conn->db->drv->step(st->h));
	if (rc == KEEL__DB_DONE && changes)
		*changes = conn->db->drv->changes(conn->h);
	if (st)
		keel__db_stmt_put(conn, st);
	account(conn, sql, keel_clock_now_ns() - t0);
	conn->last_id = conn->db->drv->last_id(conn->h);
	keel__db_settled(conn);
	return rc < 0 ? rc : KEEL_OK;
}

int keel_db_exec_script(keel_db_conn_t *conn, const char *sql)
{
	if (!conn || !sql)
		return KEEL_EINVAL;
	if (keel__db_group_self_write(conn))
		return KEEL_ESTATE;
	int64_t t0 = keel_clock_now_ns();
	int rc = keel__db_fail(conn, conn->db->drv->exec(conn->h, sql));
	account(conn, sql, keel_clock_now_ns() - t0);
	conn->last_id = conn->db->drv->last_id(conn->h);
	keel__db_settled(conn);
	return rc;
}

static keel_db_rows_t *rows_new(keel_db_conn_t *c)
{
	keel_db_rows_t *r = c->spare;
	if (r)
		c->spare = r->next;
	else if (!(r = malloc(sizeof(*r))))
		return NULL;
	*r = (keel_db_rows_t){.conn = c, .first = -1, .next = c->cursors};
	if (c->cursors)
		c->cursors->prev = r;
	c->cursors = r;
	return r;
}

int keel_db_query(keel_db_conn_t *conn, const char *sql,
                  const keel_db_value_t *args, size_t nargs,
                  keel_db_rows_t **rows)
{
	if (rows)
		*rows = NULL;
	if (!conn || !sql || !rows || (nargs && !args))
		return KEEL_EINVAL;
	int64_t t0 = keel_clock_now_ns();
	keel__db_stmt_t *st = NULL;
	/* Later steps still read the values: SQLite keeps copies. */
	int rc = start(conn, sql, args, nargs, true, &st);
	keel_db_rows_t *r = rc >= 0 ? rows_new(conn) : NULL;
	if (rc >= 0 && !r) {
		keel__db_stmt_put(conn, st);
		rc = KEEL_ENOMEM;
	}
	int64_t ns = keel_clock_now_ns() - t0;
	conn->stats.queries++;
	conn->stats.total_ns += ns;
	if (rc < 0)
		return rc;
	r->st = st;
	r->first = rc;
	r->ns = ns;
	*rows = r;
	return KEEL_OK;
}

int keel_db_rows_next(keel_db_rows_t *rows)
{
	if (!rows || !rows->st)
		return KEEL_EINVAL;
	int rc;
	if (rows->first >= 0) {
		rc = rows->first;
		rows->first = -1;
	} else if (rows->done) {
		return 0; /* stepping again would restart the statement */
	} else {
		int64_t t0 = keel_clock_now_ns();
		rc = keel__db_fail(rows->conn,
		                   rows->conn->db->drv->step(rows->st->h));
		int64_t ns = keel_clock_now_ns() - t0;
		rows->ns += ns;
		rows->conn->stats.total_ns += ns;
	}
	rows->has_row = rc == KEEL__DB_ROW;
	rows->done = !rows->has_row;
	return rc;
}

/* The slow-query check waits for the close: a cursor's cost is all of
 * its steps, not the first one. */
void keel_db_rows_close(keel_db_rows_t *rows)
{
	if (!rows || !rows->st)
		return;
	keel_db_conn_t *c = rows->conn;
	int64_t slow = c->db->opts.slow_ms;
	if (slow >= 0 && rows->ns >= slow * KEEL_NS_PER_MS)
		KEEL_LOG_KV(KEEL_LOG_LEVEL_WARN, "slow query",
		            KEEL_KV_STR("sql", rows->st->sql),
		            KEEL_KV_INT("ms", rows->ns / KEEL_NS_PER_MS));
	keel__db_stmt_put(c, rows->st);
	rows->st = NULL;
	if (rows->prev)
		rows->prev->next = rows->next;
	else
		c->cursors = rows->next;
	if (rows->next)
		rows->next->prev = rows->prev;
	rows->next = c->spare;
	c->spare = rows;
	c->last_id = c->db->drv->last_id(c->h);
	keel__db_settled(c); /* an INSERT ... RETURNING commits here */
}

void keel__db_rows_close_all(keel_db_conn_t *c)
{
	while (c->cursors)
		keel_db_rows_close(c->cursors);
}

void keel__db_rows_free_spare(keel_db_conn_t *c)
{
	while (c->spare) {
		keel_db_rows_t *r = c->spare;
		c->spare = r->next;
		free(r);
	}
}

int keel_db_query_row(keel_db_conn_t *conn, const char *sql,
                      const keel_db_value_t *args, size_t nargs,
                      keel_db_rows_t **rows)
{
	int rc = keel_db_query(conn, sql, args, nargs, rows);
	if (rc < 0)
		return rc;
	rc = keel_db_rows_next(*rows);
	if (rc == 1)
		return KEEL_OK;
	keel_db_rows_close(*rows);
	*rows = NULL;
	return rc == 0 ? KEEL_ENOENT : rc;
}

int keel_db_query_int(keel_db_conn_t *conn, const char *sql,
                      const keel_db_value_t *args, size_t nargs, int64_t *out)
{
	keel_db_rows_t *r;
	if (!out)
		return KEEL_EINVAL;
	int rc = keel_db_query_row(conn, sql, args, nargs, &r);
	if (rc < 0)
		return rc;
	*out = keel_db_rows_int(r, 0);
	keel_db_rows_close(r);
	return KEEL_OK;
}

/* ---------------------------------------------------------- columns */

int keel_db_rows_columns(const keel_db_rows_t *rows)
{
	return rows && rows->st ? rows->conn->db->drv->columns(rows->st->h) : 0;
}

const char *keel_db_rows_name(const keel_db_rows_t *rows, int col)
{
	if (col < 0 || col >= keel_db_rows_columns(rows))
		return "";
	return rows->conn->db->drv->column_name(rows->st->h, col);
}

/* Reading outside the current row is undefined in SQLite: refuse it. */
static bool readable(const keel_db_rows_t *rows, int col)
{
	return rows && rows->st && rows->has_row && col >= 0 &&
	       col < keel_db_rows_columns(rows);
}

keel_db_type_t keel_db_rows_type(const keel_db_rows_t *rows, int col)
{
	return readable(rows, col)
	               ? rows->conn->db->drv->column_type(rows->st->h, col)
	               : KEEL_DB_NULL;
}

bool keel_db_rows_is_null(const keel_db_rows_t *rows, int col)
{
	return keel_db_rows_type(rows, col) == KEEL_DB_NULL;
}

int64_t keel_db_rows_int(const keel_db_rows_t *rows, int col)
{
	return readable(rows, col)
	               ? rows->conn->db->drv->column_int(rows->st->h, col)
	               : 0;
}

double keel_db_rows_double(const keel_db_rows_t *rows, int col)
{
	return readable(rows, col)
	               ? rows->conn->db->drv->column_double(rows->st->h, col)
	               : 0.0;
}

keel_str_t keel_db_rows_text(const keel_db_rows_t *rows, int col)
{
	if (!readable(rows, col) || keel_db_rows_is_null(rows, col))
		return (keel_str_t){"", 0};
	return rows->conn->db->drv->column_text(rows->st->h, col);
}

keel_str_t keel_db_rows_blob(const keel_db_rows_t *rows, int col)
{
	if (!readable(rows, col) || keel_db_rows_is_null(rows, col))
		return (keel_str_t){"", 0};
	return rows->conn->db->drv->column_blob(rows->st->h, col);
}
