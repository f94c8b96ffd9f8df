/*
 * Transactions: keel_db_tx runs a function between BEGIN and COMMIT,
 * rolls back when it fails, and runs it again when the database says the
 * transaction lost a race.
 *
 * Why rerun the whole function.  Two transactions that each hold a lock
 * the other wants (a deadlock), or whose reads were overtaken by another
 * commit (a serialization failure), cannot be saved by waiting or by
 * retrying the failed statement: the engine has to abort one of them, and
 * everything it read may be stale.  Rolling back releases its locks, lets
 * the other transaction finish, and running the function again from the
 * start re-reads current data, so the retry is correct, not just lucky.
 * That is also why the function must have no effects outside the
 * database.  With SQLite the write lock is taken up front (BEGIN
 * IMMEDIATE), so deadlocks between writers cannot happen; what remains is
 * "busy", retried at BEGIN with backoff and, if it surfaces later (COMMIT,
 * a shared-cache table lock), by rerunning the function.
 *
 * Nested calls become SAVEPOINTs: the inner function's failure rolls back
 * to the savepoint and the outer work survives.  They are not retried on
 * their own; a retryable failure propagates to the outermost call.
 */
#include <stdio.h>

#include "data/driver.h"
#include "keel/clock.h"
#include "keel/server.h"

/*
 * "Equal jitter": half of the exponential step is fixed, half random, so
 * the wait still grows with each attempt while clients that failed
 * together spread out instead of colliding again in lockstep.
 */
void keel__db_backoff(keel_db_conn_t *c, int attempt, int64_t base_ms,
                      int64_t cap_ms)
{
	int64_t step = base_ms;
	for (int i = 0; i < attempt && step < cap_ms; i++)
		step *= 2;
	if (step > cap_ms)
		step = cap_ms;
	c->rng ^= c->rng << 13; /* xorshift64: jitter needs no quality */
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	int64_t half = step / 2;
	int64_t ms = step - half + (int64_t)(c->rng % (uint64_t)(half + 1));
	keel_sleep_ms(ms > 0 ? ms : 1);
}

/* A control statement (BEGIN, COMMIT, SAVEPOINT ...), timed into the
 * connection's stats but not counted as a query. */
int keel__db_control(keel_db_conn_t *c, const char *sql)
{
	int64_t t0 = keel_clock_now_ns();
	int rc = c->db->drv->exec(c->h, sql);
	c->stats.total_ns += keel_clock_now_ns() - t0;
	return keel__db_fail(c, rc);
}

/* BEGIN waits out a busy database with backoff within busy_retry_ms:
 * nothing has run yet, so waiting here is always safe. */
int keel__db_begin(keel_db_conn_t *c)
{
	const keel__db_driver_t *drv = c->db->drv;
	int64_t deadline = keel_clock_now_ns() +
	                   c->db->opts.busy_retry_ms * KEEL_NS_PER_MS;
	for (int attempt = 0;; attempt++) {
		c->retryable = false;
		int rc = keel__db_control(c, drv->begin_sql);
		if (rc != KEEL_ETIMEDOUT || !c->retryable ||
		    keel_clock_now_ns() >= deadline)
			return rc;
		keel__db_backoff(c, attempt, 1, 100);
	}
}

static void rollback(keel_db_conn_t *c)
{
	if (c->db->drv->in_tx(c->h))
		c->db->drv->exec(c->h, "ROLLBACK");
}

static int savepoint(keel_db_conn_t *c, int (*fn)(keel_db_conn_t *, void *),
                     void *arg)
{
	char sp[48], undo[64], done[48];
	int depth = c->tx_depth;
	snprintf(sp, sizeof(sp), "SAVEPOINT keel_sp%d", depth);
	snprintf(undo, sizeof(undo), "ROLLBACK TO keel_sp%d", depth);
	snprintf(done, sizeof(done), "RELEASE keel_sp%d", depth);
	int rc = keel__db_control(c, sp);
	if (rc < 0)
		return rc;
	c->tx_depth++;
	rc = fn(c, arg);
	c->tx_depth--;
	if (rc == 0)
		return keel__db_control(c, done);
	/* The engine may have aborted the whole transaction already; then
	 * these fail harmlessly and the outer call sees the error. */
	c->db->drv->exec(c->h, undo);
	c->db->drv->exec(c->h, done);
	return rc;
}

/* One run: BEGIN, fn, COMMIT or ROLLBACK.  `*began` tells the caller
 * whether BEGIN itself failed (its waiting is already done). */
static int run_once(keel_db_conn_t *c, int (*fn)(keel_db_conn_t *, void *),
                    void *arg, bool *began)
{
	*began = false;
	int rc = keel__db_begin(c);
	if (rc < 0)
		return rc;
	*began = true;
	c->retryable = false;
	c->tx_depth = 1;
	rc = fn(c, arg);
	if (rc == 0)
		rc = keel__db_control(c, "COMMIT");
	if (rc != 0)
		rollback(c);
	c->tx_depth = 0;
	keel__db_settled(c);
	return rc;
}

int keel_db_tx(keel_db_conn_t *conn, int (*fn)(keel_db_conn_t *conn, void *arg),
               void *arg)
{
	if (!conn || !fn)
		return KEEL_EINVAL;
	if (conn->tx_depth > 0)
		return savepoint(conn, fn, arg);
	if (conn->db->drv->in_tx(conn->h)) {
		keel__db_set_error(conn, "a transaction was begun by hand");
		return KEEL_ESTATE;
	}
	bool group = keel__db_group_usable(conn->db);
	int rc = KEEL_OK;
	for (int attempt = 0; attempt < conn->db->opts.tx_attempts; attempt++) {
		if (attempt > 0)
			keel__db_backoff(conn, attempt - 1, 5, 200);
		if (group) {
			rc = keel__db_group_tx(conn, fn, arg);
			if (rc != KEEL__DB_RERUN)
				return rc;
			rc = KEEL_ETIMEDOUT;
			continue;
		}
		bool began;
		rc = run_once(conn, fn, arg, &began);
		if (rc == 0 || !began || rc != KEEL_ETIMEDOUT ||
		    !conn->retryable)
			return rc;
	}
	return rc;
}

bool keel_db_in_tx(const keel_db_conn_t *conn)
{
	return conn && conn->tx_depth > 0;
}
